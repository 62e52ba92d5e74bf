-- Makes one chosen customer the agent's current customer (rule 15, manual select).
-- KEYS = the fixed keys (common.lua); ARGV[1] now_ms, [2] cid, [3] user id, [4] new token, [5] lease ms.
-- Returns {"ok", expiry, token}, {"held", holder user id} or {"missing"}.
-- The agent's previous customer in this assignment, if any, goes back home first.
local now, cid, uid, token = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]
local expiry = now + tonumber(ARGV[5])
sweep(now, 20)
local hs = redis.call("HGET", HOME, cid)
if not hs then
  return {"missing"}
end
local holder, held_token = holder_of(cid)
if holder == uid then
  redis.call("ZADD", LEASE, expiry, cid)
  return {"ok", tostring(expiry), held_token}
end
if holder then
  return {"held", holder}
end
local previous = redis.call("HGET", AGENT, uid)
if previous then
  return_home(previous)
end
remove_from_home(cid, split(hs))
take_lease(cid, uid, token, expiry)
return {"ok", tostring(expiry), token}
