-- recovery_bench.lua — the heirloom side of `make bench WHAT=recovery`:
-- how long a supervised server that owns a table takes to come back, with
-- its data, after it is killed. bench/recovery_bench.erl is the same
-- pattern on Erlang/OTP. Prints one line per table size:
--   heirloom recovery <objects> <schedulers> <median_us> <p90_us> <runs>
--
-- Usage (bench/run.sh sets LUA_PATH so that bench/support/ comes first):
--   lua5.4 bench/recovery_bench.lua SCHEDULERS RUNS OBJECTS...
--
-- The pattern, once per size: a one_for_one supervisor with two children,
-- the manager (bench/support/recovery_manager.lua, registered as
-- recovery_mgr_<objects>, the table's heir) and the server (an hl.server of
-- bench/support/recovery_server.lua, registered as
-- recovery_server_<objects>), which creates and fills the table the first
-- time and otherwise gets it back from the manager in its init. Each run:
-- the host monitors the server, reads the clock (t0), kills it, waits for
-- its DOWN, waits for the name to be registered again (hl.await_name),
-- calls the new server with {"get", key} and reads the clock (t1) when the
-- right object comes back. Then, outside the timed span, it checks the
-- table's size and waits GAP_MS before the next kill. The sizes take turns,
-- kill after kill, so that what else runs on the machine weighs on each
-- size alike.
local hl = require("heirloom")
local monotime = require("system").monotime   -- lua-system, CLOCK_MONOTONIC

local USAGE = "usage: recovery_bench.lua SCHEDULERS RUNS OBJECTS..."
local WARMUP = 5        -- kills before the timed ones, not counted
local GAP_MS = 5        -- between two kills: a recovery is a rare event

local schedulers = assert(tonumber(arg[1]), USAGE)
local runs = assert(math.tointeger(tonumber(arg[2])), USAGE)
local sizes = {}
for i = 3, #arg do sizes[#sizes + 1] = assert(math.tointeger(tonumber(arg[i])), USAGE) end
assert(#sizes > 0, USAGE)

-- The p-th percentile by nearest rank, as in recovery_bench.erl.
local function percentile(sorted, p)
  return sorted[math.max(1, math.ceil(p * #sorted))]
end

local function server_name(objects) return "recovery_server_" .. objects end

local function start_tree(objects)
  local manager = "recovery_mgr_" .. objects
  return assert(hl.supervisor.start_link{
    strategy = "one_for_one", intensity = 1000000, period = 5,
    children = {
      { id = "manager", start = { "recovery_manager", "start_link", manager } },
      { id = "server", shutdown = "brutal_kill",
        start = { "heirloom.server", "start_link", "recovery_server", { objects, manager },
                  { name = server_name(objects) } } },
    } })
end

-- Park-Miller, as in recovery_bench.erl: the key of each run.
local seed = 20240601
local function next_key(objects)
  seed = seed * 48271 % 2147483647
  return seed % objects + 1
end

-- One kill and recovery; the microseconds from the kill to the reply.
local function recover_once(objects)
  local name = server_name(objects)
  local key = next_key(objects)
  local old = assert(hl.whereis(name))
  local ref = hl.monitor(old)
  local function down(m) return type(m) == "table" and m[1] == "DOWN" and m[2] == ref end
  local t0 = monotime()
  hl.exit(old, "kill")
  hl.receive(down)
  local pid = assert(hl.await_name(name, 5000), "the server did not come back")
  local got = hl.server.call(pid, { "get", key })
  local t1 = monotime()
  assert(pid ~= old)
  assert(#got == 1 and got[1][1] == key and got[1][2] == key * 7,
    "wrong object for key " .. key)
  local size = hl.server.call(pid, { "size" })
  assert(size == objects, ("the table has %s objects, not %d"):format(tostring(size), objects))
  hl.sleep(GAP_MS)
  return (t1 - t0) * 1e6
end

hl.start{ schedulers = schedulers, logger = "silent" }
local sups, us = {}, {}
for i, objects in ipairs(sizes) do
  sups[i] = start_tree(objects)
  us[i] = {}
end
for _ = 1, WARMUP do
  for _, objects in ipairs(sizes) do recover_once(objects) end
end
for r = 1, runs do
  for i, objects in ipairs(sizes) do us[i][r] = recover_once(objects) end
end
for _, sup in ipairs(sups) do hl.supervisor.stop(sup) end
hl.stop()
for i, objects in ipairs(sizes) do
  table.sort(us[i])
  print(string.format("heirloom recovery %d %d %.1f %.1f %d", objects, schedulers,
    percentile(us[i], 0.5), percentile(us[i], 0.9), runs))
end
