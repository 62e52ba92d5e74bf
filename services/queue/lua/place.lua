-- Puts customers at their home, replacing where they waited before.
-- KEYS = the fixed keys (common.lua); ARGV = cid1, placement1, cid2, placement2, ...
-- A customer someone holds only gets its new home recorded; it goes there when released.
for i = 1, #ARGV, 2 do
  local cid, placement = ARGV[i], ARGV[i + 1]
  local old = redis.call("HGET", HOME, cid)
  if old then
    remove_from_home(cid, split(old))
  end
  redis.call("HSET", HOME, cid, placement)
  if not redis.call("ZSCORE", LEASE, cid) then
    add_to_home(cid, split(placement))
  end
end
return #ARGV / 2
