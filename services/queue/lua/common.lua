-- Shared helpers, prepended to every script of the queue engine.
--
-- Every key of one assignment starts with the prefix P = "<app>:{a:<id>}:" (one hash tag: one
-- Redis Cluster slot). Every script is called with the assignment's fixed keys declared:
--   KEYS[1] P.."home", [2] P.."lease", [3] P.."holder", [4] P.."agent", [5] P.."buckets",
--   [6] P.."segs", [7] P.."owners"  (services/queue/engine.py AssignmentQueue.fixed_keys)
-- and a script's own fixed keys after them (its header says which). The keys named by the
-- data (a bucket's free and cool sets, a segment's follow-ups, an owner's follow-ups) cannot
-- be known before the script reads its registries without a second round trip: they are
-- derived from P, so they share its hash tag and slot (docs/decisions/030-...).
--
-- A customer's "home" is where it waits when nobody holds it, stored in the hash P.."home" as
-- "kind|segment|tz|rank|due_ms|owner":
--   free     P.."free:"..seg.."|"..tz   sorted set, score 0, member = rank (fixed-width hex that
--                                      ends with the customer id), so ZRANGE 0 0 is the best one
--   cool     P.."cool:"..seg.."|"..tz   sorted set by the end of the cooldown; becomes free then
--   sfu      P.."sfu:"..seg             shared follow-ups by due time
--   pfu      P.."pfu:"..owner           personal follow-ups of one user by due time
--   limit    P.."limit:"..seg           set: at the attempt limit, no longer served
--   blocked  P.."blocked:"..seg         set: every phone number blocked
--   park     (no set)                   progressive or final without follow-up: never served
-- Leases: LEASE (sorted set by expiry), HOLDER (customer -> "user|token"), AGENT
-- (user -> customer). Registries: BUCKETS ("seg|tz" of every customer placed free, cooling or
-- with a follow-up), SEGS, OWNERS.

local P = string.sub(KEYS[1], 1, #KEYS[1] - 4)
local HOME, LEASE, HOLDER, AGENT = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local BUCKETS, SEGS, OWNERS = KEYS[5], KEYS[6], KEYS[7]

local function split(s)
  local t, i = {}, 1
  while true do
    local j = string.find(s, "|", i, true)
    if not j then
      t[#t + 1] = string.sub(s, i)
      return t
    end
    t[#t + 1] = string.sub(s, i, j - 1)
    i = j + 1
  end
end

local function join(h)
  return table.concat(h, "|")
end

local function add_to_home(cid, h)
  local kind, seg, tz = h[1], h[2], h[3]
  if kind == "free" then
    redis.call("ZADD", P .. "free:" .. seg .. "|" .. tz, 0, h[4])
    redis.call("SADD", BUCKETS, seg .. "|" .. tz)
  elseif kind == "cool" then
    redis.call("ZADD", P .. "cool:" .. seg .. "|" .. tz, tonumber(h[5]), cid)
    redis.call("SADD", BUCKETS, seg .. "|" .. tz)
  elseif kind == "sfu" then
    redis.call("ZADD", P .. "sfu:" .. seg, tonumber(h[5]), cid)
    -- Registered for its zone: the caller asks the calling rules about every bucket's zone.
    redis.call("SADD", BUCKETS, seg .. "|" .. tz)
  elseif kind == "pfu" then
    redis.call("ZADD", P .. "pfu:" .. h[6], tonumber(h[5]), cid)
    redis.call("SADD", OWNERS, h[6])
    redis.call("SADD", BUCKETS, seg .. "|" .. tz)
  elseif kind == "limit" then
    redis.call("SADD", P .. "limit:" .. seg, cid)
  elseif kind == "blocked" then
    redis.call("SADD", P .. "blocked:" .. seg, cid)
  end
  redis.call("SADD", SEGS, seg)
end

local function remove_from_home(cid, h)
  local kind, seg, tz = h[1], h[2], h[3]
  if kind == "free" then
    redis.call("ZREM", P .. "free:" .. seg .. "|" .. tz, h[4])
  elseif kind == "cool" then
    redis.call("ZREM", P .. "cool:" .. seg .. "|" .. tz, cid)
  elseif kind == "sfu" then
    redis.call("ZREM", P .. "sfu:" .. seg, cid)
  elseif kind == "pfu" then
    redis.call("ZREM", P .. "pfu:" .. h[6], cid)
  elseif kind == "limit" then
    redis.call("SREM", P .. "limit:" .. seg, cid)
  elseif kind == "blocked" then
    redis.call("SREM", P .. "blocked:" .. seg, cid)
  end
end

local function holder_of(cid)
  local hs = redis.call("HGET", HOLDER, cid)
  if not hs then
    return nil, nil
  end
  local parts = split(hs)
  return parts[1], parts[2]
end

local function drop_lease(cid)
  local uid = holder_of(cid)
  redis.call("ZREM", LEASE, cid)
  redis.call("HDEL", HOLDER, cid)
  if uid and redis.call("HGET", AGENT, uid) == cid then
    redis.call("HDEL", AGENT, uid)
  end
end

-- Back to where it waited, exactly as it was (rule 17).
local function return_home(cid)
  drop_lease(cid)
  local hs = redis.call("HGET", HOME, cid)
  if hs then
    add_to_home(cid, split(hs))
  end
end

local function take_lease(cid, uid, token, expiry)
  redis.call("ZADD", LEASE, expiry, cid)
  redis.call("HSET", HOLDER, cid, uid .. "|" .. token)
  redis.call("HSET", AGENT, uid, cid)
end

-- Returns expired leases and ends due cooldowns, at most `batch` of each per bucket.
local function sweep(now, batch)
  local expired = redis.call("ZRANGEBYSCORE", LEASE, "-inf", now, "LIMIT", 0, batch)
  for _, cid in ipairs(expired) do
    return_home(cid)
  end
  local promoted = 0
  for _, b in ipairs(redis.call("SMEMBERS", BUCKETS)) do
    local key = P .. "cool:" .. b
    local due = redis.call("ZRANGEBYSCORE", key, "-inf", now, "LIMIT", 0, batch)
    for _, cid in ipairs(due) do
      redis.call("ZREM", key, cid)
      local hs = redis.call("HGET", HOME, cid)
      if hs then
        local h = split(hs)
        h[1] = "free"
        h[5] = ""
        redis.call("HSET", HOME, cid, join(h))
        if not redis.call("ZSCORE", LEASE, cid) then
          add_to_home(cid, h)
        end
        promoted = promoted + 1
      end
    end
  end
  return #expired, promoted
end
