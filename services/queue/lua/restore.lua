-- Gives back leases Redis lost, from the database's copy (decision 030), before a rebuild
-- places the queue again: the rebuilt queue then leaves these customers out (swap.lua).
-- KEYS = the fixed keys (common.lua); ARGV[1] now_ms, then cid, user id, token, expiry_ms
-- for each lease. A lease that ended, a customer someone holds now and an agent who holds
-- another customer here are left as they are. Returns how many leases were restored.
local now = tonumber(ARGV[1])
local restored = 0
for i = 2, #ARGV, 4 do
  local cid, uid, token, expiry = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  if expiry > now and not holder_of(cid) and not redis.call("HGET", AGENT, uid) then
    local hs = redis.call("HGET", HOME, cid)
    if hs then
      remove_from_home(cid, split(hs))
    end
    take_lease(cid, uid, token, expiry)
    restored = restored + 1
  end
end
return restored
