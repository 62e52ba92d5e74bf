-- Every lease held here now, for the worker to copy to the database (decision 030).
-- KEYS = the fixed keys (common.lua); no ARGV.
-- Returns false when the queue is gone (Redis lost it: nothing to copy, the copies must stay),
-- else {cid1, "user|token", expiry1, cid2, ...}.
if redis.call("EXISTS", HOME) == 0 then
  return false
end
local out = {}
local leased = redis.call("ZRANGE", LEASE, 0, -1, "WITHSCORES")
for i = 1, #leased, 2 do
  local hs = redis.call("HGET", HOLDER, leased[i])
  if hs then
    out[#out + 1] = leased[i]
    out[#out + 1] = hs
    out[#out + 1] = leased[i + 1]
  end
end
return out
