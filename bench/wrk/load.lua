-- wrk script for bench/load.py: one request, optionally stepped and paced; prints its
-- results as one JSON line.
--
--   wrk -t1 -c8 -d10s -s bench/wrk/load.lua URL -- [body=FILE] [steps=N] [rate=R]
--
-- body=FILE  POST the file's contents (JSON) instead of GET.
-- steps=N    append &step=K&prev=K-1 to the URL, K cycling 1..N (the player's requests).
-- rate=R     pace this thread to R requests per second (see delay() below).
--
-- done() prints `wrk-result {...}`: requests, duration (us), bytes, the socket errors wrk
-- counts, status (responses >= 400) and latency percentiles in microseconds, read from
-- wrk's histogram. There is no response() hook on purpose: with one, wrk copies every body
-- into Lua, which cost it a third of a core on 155 KB pages, taken from the server it
-- measures (bench/load.py checks each request's status once before the load instead).

local ffi = require("ffi")

ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]

local CLOCK_MONOTONIC = 1
local clock = ffi.new("bench_timespec")

local function now_ms()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
   return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local path, steps, step = wrk.path, 0, 0

local function stepped_request()
   step = step % steps + 1
   return wrk.format(nil, path .. "&step=" .. step .. "&prev=" .. (step - 1))
end

-- Pacing: the thread hands out send times one interval (1000 / rate ms) apart, and each
-- connection, when it is free to send, waits for the next unclaimed one. So the rate does
-- not depend on how long the server takes, only on some connection being free when a send
-- time comes. Send times missed during a stall are not dropped: they go out as soon as
-- connections free up, as students' requests keep coming while a server stalls. If the
-- server cannot keep up at all, the achieved rate falls short, which bench/load.py reports.
local interval, next_send

local function paced_delay()
   local now = now_ms()
   local send = next_send or now
   next_send = send + interval
   return math.max(send - now, 0) -- wrk truncates to whole ms; the schedule keeps fractions
end

function init(args)
   for _, arg in ipairs(args) do
      local key, value = arg:match("^(%w+)=(.*)$")
      if key == "body" then
         local file = assert(io.open(value, "rb"))
         wrk.method, wrk.body = "POST", file:read("*a")
         file:close()
      elseif key == "steps" then
         steps = assert(tonumber(value), "steps must be a number")
         request = stepped_request
      elseif key == "rate" then
         interval = 1000 / assert(tonumber(value), "rate must be a number")
         delay = paced_delay
      elseif key ~= nil then
         error("unknown argument " .. arg)
      end
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'wrk-result {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, ' ..
      '"read": %d, "write": %d, "timeout": %d, "status": %d, ' ..
      '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
      e.timeout, e.status, latency:percentile(50), latency:percentile(95),
      latency:percentile(99), latency.max))
end
