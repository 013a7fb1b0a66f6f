-- store_bench.lua N NSYNC NLOAD DIR — the heirloom side of
-- `make bench-store` (bench/README.md): durable insert throughput with sync
-- "none" and "always" next to an in-memory table, and the time hl.start
-- takes to load a durable table of NLOAD objects. Prints lines
--   heirloom <workload> <ns per operation, or per load>
-- Keys and objects as in the ETS bench: integer K, object {K, 0}, keys
-- in the order (i * 618031 mod N) + 1.
local hl = require("heirloom")
local n, nsync, nload, dir = tonumber(arg[1]), tonumber(arg[2]), tonumber(arg[3]), arg[4]

local function now()   -- wall clock, ns (Lua has none finer than seconds)
  local p = io.popen("date +%s%N")
  local v = tonumber(p:read("l"))
  p:close()
  return v
end

local function key(i, count)
  return (i * 618031) % count + 1
end

local function inserts(label, opts, count)
  local t = hl.table.new(label, opts)
  local t0 = now()
  for i = 0, count - 1 do t:insert({ key(i, count), 0 }) end
  local dt = now() - t0
  print(string.format("heirloom %s %.1f", label, dt / count))
  t:drop()
end

os.execute("rm -rf " .. dir)
hl.start{ schedulers = 0, data_dir = dir, logger = "silent" }
inserts("insert/memory", {}, n)
inserts("insert/none", { durable = true, sync = "none" }, n)
inserts("insert/always", { durable = true, sync = "always" }, nsync)

-- the table to load: written in batches (one write each), then the node
-- stops and starts again
local t = hl.table.new("big", { durable = true, named = true })
local batch = {}
for i = 1, nload do
  batch[#batch + 1] = { i, 0 }
  if #batch == 1000 or i == nload then
    t:insert_many(batch)
    batch = {}
  end
end
hl.stop()
local t0 = now()
hl.start{ schedulers = 0, data_dir = dir, logger = "silent" }
local dt = now() - t0
assert(hl.table.whereis("big"):info().size == nload)
print(string.format("heirloom load/%d %.0f", nload, dt))
hl.stop()
os.execute("rm -rf " .. dir)
