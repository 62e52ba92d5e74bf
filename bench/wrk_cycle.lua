-- One agent per wrk thread (wrk -t N -c N): next, then the cycle's second request, in a
-- closed loop. Started by bench/wrk.py, which passes everything through the environment:
--   NEXTCALL_WRK_CONFIG  a file: "kind assignment_id window_open deadline out_dir health_path",
--                        then one "user_id token" line per agent (thread i is agent i)
-- Each thread times its own requests with the wall clock (clock_gettime) and writes every raw
-- sample to out_dir/<agent>.txt after the deadline: wrk's own percentiles add synthetic
-- samples for slow requests, so they are not used. After the deadline a thread starts no new
-- cycle: it finishes the one it is in, writes its file and idles.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } nc_timespec;
  int clock_gettime(int clk_id, nc_timespec *tp);
]]
local ts = ffi.new("nc_timespec[1]")
local function now()
  ffi.C.clock_gettime(0, ts) -- CLOCK_REALTIME: the same clock as Python's time.time()
  return tonumber(ts[0].tv_sec) + tonumber(ts[0].tv_nsec) * 1e-9
end

local agents_seen = 0

function setup(thread)
  agents_seen = agents_seen + 1
  thread:set("agent", agents_seen)
end

local kind, assignment, open_at, deadline, out_dir, health
local headers = {}
local next_path
local phase, pending, t0, counted = nil, nil, 0, false
local finish_path, finish_body
local lines = {}
local cycles, empty, flushed = 0, 0, false

function init(args)
  local f = assert(io.open(os.getenv("NEXTCALL_WRK_CONFIG"), "r"))
  local head = f:read("*l")
  local a, o, d
  kind, a, o, d, out_dir, health = head:match("^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+)$")
  assignment, open_at, deadline = tonumber(a), tonumber(o), tonumber(d)
  local user, token
  for i = 1, agent do
    user, token = f:read("*l"):match("^(%S+) (%S+)$")
  end
  f:close()
  headers["Authorization"] = "Bearer " .. token
  headers["Content-Type"] = "application/json"
  if kind ~= "nextcall" and kind ~= "base" then
    headers["X-Agent"] = user
  end
  if kind == "floor" then
    next_path = "/noop"
  elseif kind == "nextcall" or kind == "base" then
    next_path = "/v1/assignments/" .. assignment .. "/next"
  else
    next_path = "/next/" .. assignment
  end
end

-- The second request of a cycle from the first's answer (bench/load.py Target.finish).
local function finish_of(body)
  if kind == "floor" then
    return "/noop", "{}"
  end
  local lease = body:match('"lease":{"id":"([^"]*)"')
  if kind == "ideal" then
    local cid = body:match('"customer_id":(%d+)')
    return "/release/" .. assignment .. "/" .. cid, '{"lease_id":"' .. lease .. '"}'
  end
  local cid = body:match('"customer":{"id":(%d+)')
  if kind == "peer" then
    return "/done/" .. assignment .. "/" .. cid, '{"lease_id":"' .. lease .. '"}'
  end
  local membership = body:match('"membership":(%b{})')
  local state = membership:match('"state":"([^"]*)"')
  local version = membership:match('"version":(%d+)')
  local lead = '{"lease_id":"' .. lease .. '","version":' .. version .. ","
  if state == "free" then
    return "/v1/customers/" .. cid .. "/attempts", lead .. '"kind":"no_answer"}'
  end
  return "/v1/customers/" .. cid .. "/outcomes", lead .. '"code":"not_interested"}'
end

local function flush()
  flushed = true
  lines[#lines + 1] = "c " .. cycles .. " " .. empty
  local f = assert(io.open(out_dir .. "/" .. agent .. ".txt", "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
end

function request()
  t0 = now()
  if pending then
    phase, pending = "finish", nil
    return wrk.format("POST", finish_path, headers, finish_body)
  end
  if t0 >= deadline then
    phase = "idle"
    return wrk.format("GET", health, {}, nil)
  end
  phase = "next"
  counted = t0 >= open_at
  return wrk.format("POST", next_path, headers, "")
end

function delay()
  if flushed then
    return 1000
  end
  return 0
end

function response(status, _, body)
  local t = now()
  if phase == "next" then
    if counted then
      lines[#lines + 1] = string.format("n %.6f %.6f", t0 - open_at, t - t0)
    end
    if status ~= 200 then
      if counted then
        lines[#lines + 1] = "e next:" .. status
      end
    elseif body:find('"status":"empty"', 1, true) then
      empty = empty + 1
    else
      finish_path, finish_body = finish_of(body)
      pending = true
    end
  elseif phase == "finish" then
    if counted then
      lines[#lines + 1] = string.format("f %.6f", t - t0)
      if status ~= 200 then
        lines[#lines + 1] = "e finish:" .. status
      end
    end
    if status == 200 then
      cycles = cycles + 1
    end
  elseif not flushed then
    flush()
  end
end
