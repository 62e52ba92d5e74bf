-- After an attempt or outcome is committed to the database: end the writer's lease and put
-- the customer at its new home. If someone else holds it meanwhile, only the home changes.
-- KEYS[1] = P.."home"; ARGV[1] cid, [2] user id, [3] token, [4] new placement.
local cid, uid, token, placement = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local old = redis.call("HGET", HOME, cid)
if old then
  remove_from_home(cid, split(old))
end
redis.call("HSET", HOME, cid, placement)
local holder, held_token = holder_of(cid)
if holder == uid and held_token == token then
  drop_lease(cid)
  holder = nil
end
if not holder then
  add_to_home(cid, split(placement))
end
return "ok"
