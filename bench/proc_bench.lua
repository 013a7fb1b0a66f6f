-- proc_bench.lua — the heirloom side of `make bench`'s process workloads:
-- times one workload of bench/proc_bench.erl's on heirloom processes and
-- prints one line, `heirloom <workload> <schedulers> <unit> <figure>`.
--
-- Usage (bench/run.sh sets LUA_PATH so that bench/support/ comes first):
--   lua5.4 bench/proc_bench.lua SCHEDULERS WORKLOAD [SCALE]
-- SCHEDULERS 2 (threads) or 0 (deterministic: the host runs the node while
-- it waits in receive); SCALE (default 1) multiplies every count. The
-- processes' bodies are in bench/support/proc_bench_procs.lua; the host
-- (this Lua state) only starts them, says "go" and reads the clock.
local hl = require("heirloom")
local monotime = require("system").monotime   -- lua-system, CLOCK_MONOTONIC

local PROCS = "proc_bench_procs"
local RUNS = 3                 -- timed runs; the best is kept
local WARMUP_SHARE = 10        -- the warm-up run does counts / 10

local schedulers = assert(tonumber(arg[1]), "usage: proc_bench.lua SCHEDULERS WORKLOAD [SCALE]")
local workload = assert(arg[2], "usage: proc_bench.lua SCHEDULERS WORKLOAD [SCALE]")
local scale = tonumber(arg[3] or "1")

local function count(base)
  return math.max(1, math.floor(base * scale))
end

local ROUND_TRIPS = count(100000)
local SPAWNS = count(20000)
local MESSAGES = count(1000000)
local PRODUCERS = 8
local IDLE = count(10000)

-- Receives the {"ready", pid} of n processes.
local function await_ready(n)
  for _ = 1, n do
    local m = hl.receive()
    assert(type(m) == "table" and m[1] == "ready", "expected ready, got " .. tostring(m))
  end
end

-- Says "go" to pids, waits for `replies` messages; returns the seconds
-- between the go and the last reply, and that reply.
local function timed(pids, replies)
  local last
  local t0 = monotime()
  for _, pid in ipairs(pids) do hl.send(pid, "go") end
  for _ = 1, replies do last = hl.receive() end
  return monotime() - t0, last
end

local function best_of(run, n)
  run(math.max(1, n // WARMUP_SHARE))
  local best = math.huge
  for _ = 1, RUNS do
    collectgarbage()
    best = math.min(best, run(n))
  end
  return best
end

-- ---- the workloads: each returns its unit and figure ----

local workloads = {}

function workloads.pingpong()
  local pong = hl.spawn(PROCS, "pong")
  local function run(n)
    local ping = hl.spawn(PROCS, "ping", hl.self(), pong, n)
    await_ready(1)
    local secs, reply = timed({ ping }, 1)
    assert(reply == "done")
    return secs / n * 1e6
  end
  local us = best_of(run, ROUND_TRIPS)
  hl.send(pong, "stop")
  return "us", us
end

local function spawn_workload(mode, how)
  return function()
    local function run(n)
      local spawner = hl.spawn(PROCS, "spawner", hl.self(), n, mode, how)
      await_ready(1)
      local secs, reply = timed({ spawner }, 1)
      assert(reply == "done")
      return secs / n * 1e6
    end
    return "us", best_of(run, SPAWNS)
  end
end

workloads.spawn_wait = spawn_workload("wait", "module")
workloads.spawn_wait_fn = spawn_workload("wait", "fn")
workloads.spawn_all = spawn_workload("all", "module")

local function send_workload(producers)
  return function()
    local function run(n)
      local per = n // producers
      local consumer = hl.spawn(PROCS, "consumer", hl.self(), producers)
      local pids = {}
      for i = 1, producers do pids[i] = hl.spawn(PROCS, "producer", hl.self(), consumer, per) end
      await_ready(producers)
      local secs, got = timed(pids, 1)
      assert(got == per * producers, "the consumer counted " .. tostring(got))
      return secs / (per * producers)
    end
    return "msgs_per_s", 1 / best_of(run, MESSAGES)
  end
end

workloads.send_1to1 = send_workload(1)
workloads.send_8to1 = send_workload(PRODUCERS)

-- ---- memory of idle processes ----

local PAGE = tonumber(os.getenv("BENCH_PAGE_SIZE") or "4096")

local function rss_bytes()
  local f = assert(io.open("/proc/self/statm"))
  local _, resident = f:read("n", "n")
  f:close()
  return resident * PAGE
end

-- Spawns IDLE processes that wait in receive, once, in a fresh node (no
-- warm-up: a second round would reuse what the first one freed). Returns
-- the average process_info().memory and the RSS growth per process.
local function idle_memory()
  local pids = {}
  collectgarbage()
  local rss0 = rss_bytes()
  for i = 1, IDLE do pids[i] = hl.spawn("proc_bench_idle", "idle") end
  if schedulers == 0 then hl.run() end
  local sum = 0
  for _, pid in ipairs(pids) do
    local info = hl.process_info(pid)
    while info.status ~= "waiting" do
      hl.sleep(1)
      info = hl.process_info(pid)
    end
    sum = sum + info.memory
  end
  collectgarbage()
  local rss1 = rss_bytes()
  -- "shutdown", not "kill": an abnormal reason would log a crash report each
  for _, pid in ipairs(pids) do hl.exit(pid, "shutdown") end
  return sum / IDLE, (rss1 - rss0) / IDLE
end

function workloads.idle_info()
  local info = idle_memory()
  return "bytes", info
end

workloads.idle_node = workloads.idle_info

function workloads.idle_rss()
  local _, rss = idle_memory()
  return "bytes", rss
end

-- ---- main ----

local run = assert(workloads[workload], "unknown workload " .. workload)
hl.start{ schedulers = schedulers, logger = "stderr" }
local unit, figure = run()
hl.stop()
print(string.format("heirloom %s %d %s %.3f", workload, schedulers, unit, figure))
