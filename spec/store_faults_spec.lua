-- spec/store_faults_spec.lua — injected write failures of durable tables
-- (hl.fault{ store_write = rate }) and hl.crash(), docs/durability.md:
-- a failed write raises, is not made, and memory never shows what a
-- restart would not load; a crash loses no acknowledged write.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local S = dofile(here .. "support/hlspec.lua")   -- puts spec/support on package.path
local hl = require("heirloom")
local ops = require("fault_ops")

local root, fresh_dir = S.temp_root()
teardown(function() os.execute("rm -rf " .. root) end)   -- after the file's last describe

local start = S.start_on

-- What memory held (ops.dump of t) is what a restart on dir loads.
local function assert_restart_loads(dir, memory)
  hl.fault{ store_write = 0 }
  hl.stop()
  start(dir)
  assert.are.equal(memory, ops.dump(hl.table.whereis("t")))
end

local TYPES = { "set", "ordered_set", "bag", "duplicate_bag" }

describe("hl.fault", function()
  after_each(function() hl.stop() end)

  it("refuses a bad plan, naming the field", function()
    start(fresh_dir())
    local function err(plan)
      local ok, e = pcall(hl.fault, plan)
      assert.is_false(ok)
      return e
    end
    assert.matches("heirloom.fault: argument 1 must be a table", err(nil), 1, true)
    assert.matches("heirloom.fault: argument 1 must be a table", err(0.5), 1, true)
    assert.matches("heirloom.fault: unknown fault 'kill' (known: store_write)",
      err({ kill = 0.1 }), 1, true)
    assert.matches("heirloom.fault: unknown fault number", err({ 0.1 }), 1, true)
    assert.matches("heirloom.fault: store_write must be a number from 0 to 1, not 1.5",
      err({ store_write = 1.5 }), 1, true)
    assert.matches("heirloom.fault: store_write must be a number from 0 to 1, not -0.1",
      err({ store_write = -0.1 }), 1, true)
    assert.matches("heirloom.fault: store_write must be a number from 0 to 1, not a string",
      err({ store_write = "0.1" }), 1, true)
    assert.matches("heirloom.fault: store_write must be a number from 0 to 1, not NaN",
      err({ store_write = 0 / 0 }), 1, true)
    -- a refused plan changes nothing: writes still go through
    local t = hl.table.new("t", { durable = true })
    assert.is_true(t:insert({ 1, 1 }))
  end)

  it("needs a running node", function()
    local ok, e = pcall(hl.fault, { store_write = 0.5 })
    assert.is_false(ok)
    assert.matches("heirloom.fault: the node is not started", e, 1, true)
  end)

  it("fails a write with a clear error, and the change is not made", function()
    local dir = fresh_dir()
    start(dir)
    local t = hl.table.new("t", { durable = true, named = true })
    t:insert({ 1, "kept" })
    hl.fault{ store_write = 1 }
    local ok, e = pcall(t.insert, t, { 1, "lost" })
    assert.is_false(ok)
    assert.are.equal("heirloom.table.insert: the durable store failed to write: injected fault; "
      .. "the change was not made", e)
    assert.are.same({ { 1, "kept" } }, t:lookup(1))
    ok, e = pcall(t.delete, t, 1)
    assert.is_false(ok)
    assert.matches("heirloom.table.delete: the durable store failed to write", e, 1, true)
    assert.are.same({ { 1, "kept" } }, t:lookup(1))
    ok = pcall(t.insert, t, { 2, "new" })
    assert.is_false(ok)
    assert.are.same({}, t:lookup(2))
    -- a table in memory only is not concerned
    local m = hl.table.new("m")
    assert.is_true(m:insert({ 1, 1 }))
    hl.fault{ store_write = 0 }
    assert.is_true(t:insert({ 3, "after" }))
    hl.stop()
    start(dir)
    local back = hl.table.whereis("t")
    assert.are.same({ { 1, "kept" } }, back:lookup(1))
    assert.are.same({}, back:lookup(2))
    assert.are.same({ { 3, "after" } }, back:lookup(3))
  end)

  for _, ttype in ipairs(TYPES) do
    it(ttype .. ": under faults, memory is what a restart loads, after every kind of write", function()
      local dir = fresh_dir()
      start(dir, { seed = 7 })
      local t = hl.table.new("t", { type = ttype, durable = true, named = true })
      math.randomseed(11)
      ops.run(t, ttype, 100, math.random, false)   -- something to fail against
      hl.fault{ store_write = 0.3 }
      local failed = ops.run(t, ttype, 400, math.random, true)
      assert.is_true(failed > 50, "only " .. failed .. " writes failed")
      assert_restart_loads(dir, ops.dump(t))
    end)
  end

  it("fails the same writes under the same seed, others under another", function()
    local function run(seed)
      start(fresh_dir(), { seed = seed })
      local t = hl.table.new("t", { type = "bag", durable = true })
      hl.fault{ store_write = 0.25 }
      math.randomseed(5)
      local _, log = ops.run(t, "bag", 200, math.random, false)
      hl.stop()
      return table.concat(log, " ")
    end
    local a, b, c = run(3), run(3), run(4)
    assert.are.equal(a, b)
    assert.are_not.equal(a, c)
    -- with no seed, the stream is still the same each run
    local function unseeded()
      start(fresh_dir())
      local t = hl.table.new("t", { durable = true })
      hl.fault{ store_write = 0.5 }
      local log = {}
      for i = 1, 64 do log[i] = pcall(t.insert, t, { i }) and "1" or "0" end
      hl.stop()
      return table.concat(log)
    end
    assert.are.equal(unseeded(), unseeded())
  end)

  for _, ttype in ipairs(TYPES) do
    it(ttype .. ": concurrent writers under faults leave memory as a restart loads it", function()
      local dir = fresh_dir()
      start(dir, { schedulers = 2, seed = 9 })
      local t = hl.table.new("t", { type = ttype, durable = true, named = true, access = "public" })
      hl.fault{ store_write = 0.2 }
      local me = hl.self()
      for w = 1, 4 do
        hl.spawn(function(parent, tt, seed)
          require("fault_ops").worker(parent, "t", tt, 150, seed)
        end, me, ttype, w * 7919)
      end
      local failed = 0
      for _ = 1, 4 do
        local m = hl.receive(function(m) return type(m) == "table" and m[1] == "done" end, 20000)
        assert.is_not_nil(m, "a worker did not finish")
        failed = failed + m[2]
      end
      assert.is_true(failed > 0)
      assert_restart_loads(dir, ops.dump(t))
    end)
  end
end)

-- The newest LevelDB log of dir (NNNNNN.log, numbered upward): its size
-- in bytes. (No io.popen: a shell cannot start under ThreadSanitizer.)
local function log_size(dir)
  local size
  for i = 1, 1000 do
    local f = io.open(string.format("%s/%06d.log", dir, i), "rb")
    if f then
      size = f:seek("end")
      f:close()
    end
  end
  return assert(size, "no log in " .. dir)
end

local function is_ack(m) return type(m) == "table" and m[1] == "ack" end

-- Every acknowledged key is in the table `t` of dir, once restarted.
local function assert_all_there(dir, acked)
  start(dir)
  local t = hl.table.whereis("t")
  assert.is_not_nil(t, "the table did not come back")
  for _, k in ipairs(acked) do
    assert.are.same({ { k, k % 100000 } }, t:lookup(k), "acknowledged key " .. k .. " is lost")
  end
  hl.stop()
end

describe("hl.crash", function()
  after_each(function() hl.stop() end)

  it("ends the node as kill -9 would: no stop record, the log as it was; a start loads it back", function()
    local dir = fresh_dir()
    start(dir)
    local t = hl.table.new("t", { type = "ordered_set", durable = true, named = true })
    for i = 1, 100 do t:insert({ i, i * i }) end
    hl.stop()
    assert.are.equal(0, log_size(dir))   -- an orderly stop leaves nothing in the log
    start(dir)
    t = hl.table.claim("t")
    for i = 101, 200 do t:insert({ i, i * i }) end
    assert.is_true(hl.crash())
    assert.is_true(log_size(dir) > 0)     -- a crash flushed nothing out of it
    local ok, e = pcall(hl.crash)
    assert.is_false(ok)
    assert.matches("heirloom.crash: the node is not started", e, 1, true)
    start(dir)
    local back = hl.table.whereis("t")
    assert.are.equal(200, back:info().size)
    assert.is_nil(back:info().owner)      -- in custody, as after any start
    for i = 1, 200 do assert.are.same({ { i, i * i } }, back:lookup(i)) end
  end)

  it("is the host's alone", function()
    start(fresh_dir())
    local me = hl.self()
    hl.spawn(function(parent)
      local ok, e = pcall(require("heirloom").crash)
      require("heirloom").send(parent, { "crash", ok, e })
    end, me)
    hl.run()
    local m = hl.receive(function(m) return type(m) == "table" and m[1] == "crash" end, 0)
    assert.is_false(m[2])
    assert.matches("heirloom.crash: only the host may crash its node, not a process", m[3], 1, true)
  end)

  it("keeps a table whose owner is killed by the crash (no orderly exit drops it)", function()
    local dir = fresh_dir()
    start(dir)
    local me = hl.self()
    hl.spawn(function(parent)
      local hl = require("heirloom")
      local t = hl.table.new("owned", { durable = true, named = true })
      t:insert({ "k", 1 })
      hl.send(parent, "made")
      hl.receive()
    end, me)
    hl.run()
    assert.are.equal("made", hl.receive(0))
    hl.crash()
    start(dir)
    assert.are.same({ { "k", 1 } }, hl.table.whereis("owned"):lookup("k"))
  end)

  for _, sync in ipairs({ "none", "always", 20 }) do
    it("sync " .. sync .. ": a crash at a seeded random step loses no acknowledged write", function()
      for seed = 1, 4 do
        local dir = fresh_dir()
        start(dir, { seed = seed, sync = sync })
        hl.table.new("t", { durable = true, named = true, access = "public" })
        local me = hl.self()
        for id = 1, 3 do
          hl.spawn(function(parent, n)
            require("fault_ops").inserter(parent, "t", n, 50, true)
          end, me, id)
        end
        math.randomseed(seed)
        local acked = {}
        for _ = 1, math.random(1, 60) do
          hl.run(math.random(1, 3))
          for m in function() return hl.receive(is_ack, 0) end do acked[#acked + 1] = m[2] end
        end
        assert.is_true(hl.crash())
        assert_all_there(dir, acked)
      end
    end)

    it("sync " .. sync .. ": crashing a node whose processes write at once loses no acknowledged write", function()
      local dir = fresh_dir()
      start(dir, { schedulers = 2, seed = 1, sync = sync })
      hl.table.new("t", { durable = true, named = true, access = "public" })
      local me = hl.self()
      for id = 1, 3 do
        hl.spawn(function(parent, n) require("fault_ops").inserter(parent, "t", n) end, me, id)
      end
      math.randomseed(os.time())
      local want, acked = math.random(20, 200), {}
      while #acked < want do
        local m = hl.receive(is_ack, 5000)
        assert.is_not_nil(m, "no acknowledgement within 5 s")
        acked[#acked + 1] = m[2]
      end
      hl.crash()
      assert_all_there(dir, acked)
    end)
  end
end)
