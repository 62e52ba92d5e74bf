-- Puts a queue built under P.."build:" in place of the current one, in one atomic step.
-- KEYS = the fixed keys (common.lua), then each built key and the key it replaces, in pairs:
-- [8] P.."build:"..name1, [9] P..name1, [10] P.."build:"..name2, ...
-- Leases are not part of a build: they stay, and a customer leased now (also one claimed
-- while the build ran) leaves its built structure again, as place.lua would have left it out.
for _, b in ipairs(redis.call("SMEMBERS", BUCKETS)) do
  redis.call("DEL", P .. "free:" .. b, P .. "cool:" .. b)
end
for _, s in ipairs(redis.call("SMEMBERS", SEGS)) do
  redis.call("DEL", P .. "sfu:" .. s, P .. "limit:" .. s, P .. "blocked:" .. s)
end
for _, o in ipairs(redis.call("SMEMBERS", OWNERS)) do
  redis.call("DEL", P .. "pfu:" .. o)
end
redis.call("DEL", HOME, BUCKETS, SEGS, OWNERS)
for i = 8, #KEYS, 2 do
  redis.call("RENAME", KEYS[i], KEYS[i + 1])
end
for _, cid in ipairs(redis.call("ZRANGE", LEASE, 0, -1)) do
  local hs = redis.call("HGET", HOME, cid)
  if hs then
    remove_from_home(cid, split(hs))
  end
end
return (#KEYS - 7) / 2
