-- Gives the agent its next customer (rule 10) and a lease on it, in one atomic step.
-- KEYS = the fixed keys (common.lua)
-- ARGV[1] now_ms, [2] user id, [3] new lease token, [4] lease ms, [5] segment ("" = any),
-- [6] "1" to serve the agent's personal follow-ups first, [7] open time zones ("*" = all,
-- else comma-separated), [8] sweep batch size, [9] the next opening of each closed zone
-- ("zone=ms,..."; 0: it never opens), [10] "1" when follow-ups obey the
-- calling rules: a due follow-up of a closed zone is then held, re-scored to its zone's next
-- opening (decision 029).
-- Returns {"claimed", cid, source, expiry, token}, {"current", cid, "current", expiry, token}
-- when the agent already holds a customer here (the lease is renewed: next is idempotent), or
-- {"empty", held, cooldown, outside_hours, blocked, at_limit, waiting_followups, next_ms}.
local now = tonumber(ARGV[1])
local uid, token, lease_ms = ARGV[2], ARGV[3], tonumber(ARGV[4])
local want_seg, personal_first, open_arg = ARGV[5], ARGV[6] == "1", ARGV[7]
sweep(now, tonumber(ARGV[8]))

local expiry = now + lease_ms
local current = redis.call("HGET", AGENT, uid)
if current then
  local _, cur_token = holder_of(current)
  redis.call("ZADD", LEASE, expiry, current)
  return {"current", current, "current", tostring(expiry), cur_token}
end

local open_all = open_arg == "*"
local open = {}
if not open_all then
  for tz in string.gmatch(open_arg, "[^,]+") do
    open[tz] = true
  end
end
local opens = {}
for tz, ms in string.gmatch(ARGV[9] or "", "([^,=]+)=([0-9]+)") do
  opens[tz] = tonumber(ms)
end
local hold_followups = ARGV[10] == "1" and not open_all
-- A closed zone's follow-ups wait for its next opening; one that never opens is looked at
-- again in a day (the rules may change), one the caller did not know yet (its list of zones
-- is a few seconds old) in a minute.
local function hold_if_closed(cid, key)
  if not hold_followups then
    return false
  end
  local h = split(redis.call("HGET", HOME, cid))
  if open[h[3]] then
    return false
  end
  local at = opens[h[3]]
  if at == nil then
    at = now + 60000
  elseif at == 0 then
    at = now + 86400000
  end
  h[5] = tostring(at)
  redis.call("HSET", HOME, cid, join(h))
  redis.call("ZADD", key, at, cid)
  return true
end
local function seg_ok(seg)
  return want_seg == "" or seg == want_seg
end
local function grant(cid, key, is_zset, source)
  if is_zset then
    redis.call("ZREM", key, cid)
  end
  take_lease(cid, uid, token, expiry)
  return {"claimed", cid, source, tostring(expiry), token}
end

-- 1. The agent's own personal follow-ups that are due.
if personal_first then
  local key = P .. "pfu:" .. uid
  for _, cid in ipairs(redis.call("ZRANGEBYSCORE", key, "-inf", now, "LIMIT", 0, 50)) do
    local h = split(redis.call("HGET", HOME, cid))
    if seg_ok(h[2]) and not hold_if_closed(cid, key) then
      return grant(cid, key, true, "personal_followup")
    end
  end
end

local segs = redis.call("SMEMBERS", SEGS)

-- 2. Shared follow-ups that are due, earliest first.
local best_cid, best_due, best_key = nil, nil, nil
for _, seg in ipairs(segs) do
  if seg_ok(seg) then
    local key = P .. "sfu:" .. seg
    local top = redis.call("ZRANGEBYSCORE", key, "-inf", now, "WITHSCORES", "LIMIT", 0, 1)
    -- Held ones leave the due range: at most 50 per claim, the next claim goes on.
    local tries = 0
    while top[1] and tries < 50 and hold_if_closed(top[1], key) do
      tries = tries + 1
      top = redis.call("ZRANGEBYSCORE", key, "-inf", now, "WITHSCORES", "LIMIT", 0, 1)
    end
    if top[1] and tries < 50 and (best_due == nil or tonumber(top[2]) < best_due) then
      best_cid, best_due, best_key = top[1], tonumber(top[2]), key
    end
  end
end
if best_cid then
  return grant(best_cid, best_key, true, "shared_followup")
end

-- 3. Free customers by the assignment's ordering, inside contact hours.
local best_member, best_free = nil, nil
local buckets = redis.call("SMEMBERS", BUCKETS)
local outside_hours = 0
local closed_opening = nil
for _, b in ipairs(buckets) do
  local sep = string.find(b, "|", 1, true)
  local seg, tz = string.sub(b, 1, sep - 1), string.sub(b, sep + 1)
  if seg_ok(seg) then
    local key = P .. "free:" .. b
    if open_all or open[tz] then
      local top = redis.call("ZRANGE", key, 0, 0)
      if top[1] and (best_member == nil or top[1] < best_member) then
        best_member, best_free = top[1], key
      end
    else
      local waiting_here = redis.call("ZCARD", key)
      outside_hours = outside_hours + waiting_here
      if waiting_here > 0 and opens[tz] and opens[tz] > 0 then
        closed_opening = closed_opening == nil and opens[tz] or math.min(closed_opening, opens[tz])
      end
    end
  end
end
if best_member then
  redis.call("ZREM", best_free, best_member)
  -- "%.0f", not tostring: tostring prints ids from 1e14 up in exponent notation.
  local cid = string.format("%.0f", tonumber(string.sub(best_member, -16), 16))
  take_lease(cid, uid, token, expiry)
  return {"claimed", cid, "free", tostring(expiry), token}
end

-- Nothing eligible: say why, and when the next one can be.
local next_ms = nil
local function consider(t)
  if t and (next_ms == nil or t < next_ms) then
    next_ms = t
  end
end
local function first_score(key)
  local r = redis.call("ZRANGE", key, 0, 0, "WITHSCORES")
  if r[2] then
    return tonumber(r[2])
  end
  return nil
end
local held = redis.call("ZCARD", LEASE)
consider(first_score(LEASE))
consider(closed_opening)
local cooldown, blocked, at_limit, waiting = 0, 0, 0, 0
for _, b in ipairs(buckets) do
  local sep = string.find(b, "|", 1, true)
  if seg_ok(string.sub(b, 1, sep - 1)) then
    cooldown = cooldown + redis.call("ZCARD", P .. "cool:" .. b)
    consider(first_score(P .. "cool:" .. b))
  end
end
for _, seg in ipairs(segs) do
  if seg_ok(seg) then
    blocked = blocked + redis.call("SCARD", P .. "blocked:" .. seg)
    at_limit = at_limit + redis.call("SCARD", P .. "limit:" .. seg)
    waiting = waiting + redis.call("ZCARD", P .. "sfu:" .. seg)
    consider(first_score(P .. "sfu:" .. seg))
  end
end
-- The agent's own personal follow-ups, only those claim would serve (option and segment).
if personal_first then
  local mine = P .. "pfu:" .. uid
  if want_seg == "" then
    waiting = waiting + redis.call("ZCARD", mine)
    consider(first_score(mine))
  else
    local r = redis.call("ZRANGE", mine, 0, -1, "WITHSCORES")
    for i = 1, #r, 2 do
      if seg_ok(split(redis.call("HGET", HOME, r[i]))[2]) then
        waiting = waiting + 1
        consider(tonumber(r[i + 1]))
      end
    end
  end
end
return {
  "empty", tostring(held), tostring(cooldown), tostring(outside_hours), tostring(blocked),
  tostring(at_limit), tostring(waiting), next_ms and tostring(next_ms) or ""
}
