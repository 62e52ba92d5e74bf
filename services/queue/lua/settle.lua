-- After an attempt or outcome is committed to the database: end the writer's lease and put
-- the customer at its new home. If someone else holds it meanwhile, only the home changes.
-- KEYS = the fixed keys (common.lua), [8] the receipt key P.."settled:"..token.
-- ARGV[1] cid, [2] user id, [3] token, [4] new placement, [5] a receipt
-- ("" for none), [6] how long to keep it (ms).
-- The receipt stays under the settled lease's token, so that a replay of the write that settled
-- it (the answer was lost) can be told from a write on a lost lease (touch.lua returns it).
local cid, uid, token, placement = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local receipt, keep_ms = ARGV[5] or "", tonumber(ARGV[6] or "0")
local old = redis.call("HGET", HOME, cid)
if old then
  remove_from_home(cid, split(old))
end
redis.call("HSET", HOME, cid, placement)
local holder, held_token = holder_of(cid)
if holder == uid and held_token == token then
  drop_lease(cid)
  holder = nil
  if receipt ~= "" then
    redis.call("SET", KEYS[8], receipt, "PX", keep_ms)
  end
end
if not holder then
  add_to_home(cid, split(placement))
end
return "ok"
