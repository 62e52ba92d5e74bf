-- Renews the holder's lease (heartbeat, and the first step of writing an attempt or outcome).
-- KEYS = the fixed keys (common.lua), [8] the receipt key P.."settled:"..token.
-- ARGV[1] now_ms, [2] cid, [3] user id, [4] token, [5] lease ms.
-- Returns {"ok", expiry} when the caller holds a live lease, else {"stale", holder or "",
-- the receipt the settle of this lease left or ""} (settle.lua).
local now, cid, uid, token = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]
local holder, held_token = holder_of(cid)
local expiry = redis.call("ZSCORE", LEASE, cid)
if holder ~= uid or held_token ~= token or not expiry or tonumber(expiry) <= now then
  return {"stale", holder or "", redis.call("GET", KEYS[8]) or ""}
end
local new_expiry = now + tonumber(ARGV[5])
redis.call("ZADD", LEASE, new_expiry, cid)
return {"ok", tostring(new_expiry)}
