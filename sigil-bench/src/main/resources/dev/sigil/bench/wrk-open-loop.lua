-- An open loop for wrk (LuaJIT): requests at a fixed rate, latency measured from each request's scheduled
-- time, so waiting behind a slow answer counts (no coordinated omission). Run with as many threads as
-- connections (-t N -c N): each thread then owns one connection, so its callbacks know which request an
-- answer belongs to. Thread j sends the requests scheduled at t0 + (k * N + j) / rate for k = 0, 1, ...
-- (one connection's next request waits for its previous answer; a late one is sent at once and counted
-- from its scheduled time). Globals set by the caller in a prologue: BODIES, PATH, RATE, SECONDS,
-- CONNECTIONS, START_DELAY_US and OUT (the file that gets the answered requests' latencies, one per line,
-- in microseconds).
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } sigil_timespec;
int clock_gettime(int clock, sigil_timespec *ts);
]]
local ts = ffi.new("sigil_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC: one clock for every thread
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

-- main state: the threads and the common start of their schedules
local threads = {}
local start = nil

function setup(thread)
  if start == nil then
    start = now_us() + START_DELAY_US
  end
  thread:set("t0", start)
  thread:set("j", #threads)
  table.insert(threads, thread)
end

local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
-- each thread's state (t0 and j are set by setup)
local interval, t_end
k, current, answered, bad, max_lag = 0, 0, 0, 0, 0
lat = {}

function init(args)
  interval = 1000000 / RATE
  t_end = t0 + SECONDS * 1000000
end

function delay()
  local slot = t0 + (k * CONNECTIONS + j) * interval
  if slot >= t_end then
    return 3600000 -- the schedule is over: this connection sends nothing more
  end
  current = slot
  k = k + 1
  local wait = (slot - now_us()) / 1000
  if wait <= 0 then
    return 0
  end
  return math.ceil(wait)
end

function request()
  -- wrk also asks each thread for one request when it starts, before any delay(): not a scheduled send
  local lag = current > 0 and now_us() - current or 0
  if lag > max_lag then
    max_lag = lag
  end
  return wrk.format("POST", PATH, headers, BODIES[(k + j) % #BODIES + 1])
end

function response(status, headers, body)
  local latency = now_us() - current
  if status >= 200 and status < 300 then
    answered = answered + 1
    lat[answered] = math.floor(latency)
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local out = io.open(OUT, "w")
  local lag, failed = 0, 0
  for _, thread in ipairs(threads) do
    local values = thread:get("lat")
    for i = 1, thread:get("answered") do
      out:write(string.format("%d\n", values[i]))
    end
    failed = failed + thread:get("bad")
    local l = thread:get("max_lag")
    if l > lag then
      lag = l
    end
  end
  out:close()
  local e = summary.errors
  io.write(string.format("OPENLOOP non2xx=%d socket_errors=%d max_lag_us=%d\n", failed,
    e.connect + e.read + e.write + e.timeout, math.floor(lag)))
end
