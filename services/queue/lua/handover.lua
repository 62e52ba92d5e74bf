-- Moves a dialer's lease to the agent its answered call was bridged to (rule 36).
-- KEYS = the fixed keys (common.lua), [8] P.."dialing".
-- ARGV[1] now_ms, [2] cid, [3] the dialer's user id, [4] the reservation's token, [5] the
-- agent's user id, [6] the agent's new token, [7] lease ms.
-- Returns {"ok", expiry}, or {"stale", holder or ""} when the dialer no longer holds it.
-- The agent's previous customer here, if any, goes back home first: one current customer.
local now, cid, from, token = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]
local to, new_token = ARGV[5], ARGV[6]
local holder, held_token = holder_of(cid)
local expiry = redis.call("ZSCORE", LEASE, cid)
if holder ~= from or held_token ~= token or not expiry or tonumber(expiry) <= now then
  return {"stale", holder or ""}
end
local previous = redis.call("HGET", AGENT, to)
if previous and previous ~= cid then
  return_home(previous)
end
local new_expiry = now + tonumber(ARGV[7])
take_lease(cid, to, new_token, new_expiry)
redis.call("ZREM", KEYS[8], cid)
return {"ok", tostring(new_expiry)}
