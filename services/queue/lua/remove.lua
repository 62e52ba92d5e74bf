-- Takes customers out of this assignment's queue entirely (moved away, deleted).
-- KEYS = the fixed keys (common.lua); ARGV = cid1, cid2, ...
for _, cid in ipairs(ARGV) do
  local old = redis.call("HGET", HOME, cid)
  if old then
    remove_from_home(cid, split(old))
    redis.call("HDEL", HOME, cid)
  end
  drop_lease(cid)
end
return #ARGV
