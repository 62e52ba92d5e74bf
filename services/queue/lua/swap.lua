-- Puts a queue built under P.."build:" in place of the current one, in one atomic step.
-- KEYS[1] = P.."home"; ARGV = the names of the built keys (without P.."build:").
-- Leases are not part of a build: they stay, and a customer leased now (also one claimed
-- while the build ran) leaves its built structure again, as place.lua would have left it out.
for _, b in ipairs(redis.call("SMEMBERS", P .. "buckets")) do
  redis.call("DEL", P .. "free:" .. b, P .. "cool:" .. b)
end
for _, s in ipairs(redis.call("SMEMBERS", P .. "segs")) do
  redis.call("DEL", P .. "sfu:" .. s, P .. "limit:" .. s, P .. "blocked:" .. s)
end
for _, o in ipairs(redis.call("SMEMBERS", P .. "owners")) do
  redis.call("DEL", P .. "pfu:" .. o)
end
redis.call("DEL", HOME, P .. "buckets", P .. "segs", P .. "owners")
for _, name in ipairs(ARGV) do
  redis.call("RENAME", P .. "build:" .. name, P .. name)
end
for _, cid in ipairs(redis.call("ZRANGE", P .. "lease", 0, -1)) do
  local hs = redis.call("HGET", HOME, cid)
  if hs then
    remove_from_home(cid, split(hs))
  end
end
return #ARGV
