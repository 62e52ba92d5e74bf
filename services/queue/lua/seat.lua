-- Writes an agent's state into the assignment's copy of them (services/queue/dialing.py), unless
-- the copy holds a newer one: writes after commit may arrive out of order.
-- KEYS = the fixed keys (common.lua), [8] P.."agents".
-- ARGV[1] user id, [2] the state's version, [3] "state|since_ms|version", or "" to remove.
local current = redis.call("HGET", KEYS[8], ARGV[1])
if current and tonumber(split(current)[3]) > tonumber(ARGV[2]) then
  return 0
end
if ARGV[3] == "" then
  redis.call("HDEL", KEYS[8], ARGV[1])
else
  redis.call("HSET", KEYS[8], ARGV[1], ARGV[3])
end
return 1
