-- examples_spec.lua — the runnable examples of examples/ replay their
-- seed's story with real kills and check the data: data_backup (seed 003),
-- etscounter (seed 002), etshandler (seeds 000 and 001), and the C host
-- program of examples/embed.
local ROOT = (debug.getinfo(1, "S").source:match("^@(.*)[/\\]spec[/\\]") or ".")
local EX = ROOT .. "/examples/"
for _, dir in ipairs{ "data_backup", "etscounter", "etshandler" } do
  local entry = EX .. dir .. "/?.lua"
  if not package.path:find(entry, 1, true) then
    package.path = entry .. ";" .. package.path    -- spawned processes inherit it
  end
end

local hl = require("heirloom")

-- ------------------------------------------------------------ helpers

-- The application file's supervisor spec, with every server's notices off.
local function app_spec(dir)
  local app = dofile(EX .. dir .. "/app.lua")
  local spec = app.supervisor
  for _, c in ipairs(spec.children) do
    local args = c.start[4]
    if type(args) == "table" then args.verbose = false end
  end
  return spec
end

local function start_app(dir)
  local sup, why = hl.supervisor.start_link(app_spec(dir))
  assert(sup, "the " .. dir .. " application did not start: " .. tostring(why))
  return sup
end

-- Kills pid (exit "kill", or an ordinary error through crash_fn) and
-- waits for its DOWN: when this returns, the pid is gone and its tables
-- have gone to their heirs.
local function kill_and_wait(pid, crash_fn)
  assert(pid, "no process to kill")
  local ref = hl.monitor(pid)
  if crash_fn then crash_fn() else hl.exit(pid, "kill") end
  local down = hl.receive(function(m)
    return type(m) == "table" and m[1] == "DOWN" and m[2] == ref
  end, 5000)
  assert(down, "no DOWN from " .. tostring(pid) .. " within 5 s")
  return down[4]
end

-- The process registered as name once the supervisor has restarted it
-- (hl.await_name: no polling). Called after kill_and_wait: the DOWN came
-- after the old holder's name was freed, so the holder is the new one.
local function restarted(name, old)
  local pid = hl.await_name(name, 5000)
  assert(pid, "nobody registered as " .. name .. " within 5 s")
  assert(pid ~= old, name .. " is still the old process")
  return pid
end

local function stop_app(sup)
  if sup and hl.process_info(sup) then hl.supervisor.stop(sup) end
end

-- ------------------------------------------------------------ data_backup

describe("examples/data_backup (seed 003, Survive the Fire)", function()
  local dm = require("data_master")
  local server = require("data_server")
  local sup

  before_each(function()
    hl.start{ schedulers = 2, logger = "capture" }
    hl.trap_exit(true)
    sup = start_app("data_backup")
  end)
  after_each(function() pcall(stop_app, sup); pcall(hl.stop) end)

  it("DataMaster creates the table and is its heir; the Server owns it after init", function()
    local t = hl.table.whereis("data")
    assert.is_not_nil(t)
    local info = t:info()
    assert.are.equal(hl.whereis("data_server"), info.owner)
    assert.are.equal("data_master", info.heir)
    assert.are.equal("protected", info.access)
    assert.are.equal("ok", server.insert_data(1, "one"))
    assert.are.same({ 1, "one" }, server.get_data(1))
    assert.is_nil(server.get_data(2))
  end)

  it("the Server crashes with an error: the restarted Server has the same table, intact", function()
    local t = hl.table.whereis("data")
    for i = 1, 100 do server.insert_data(i, { n = i, sq = i * i }) end
    local old = hl.whereis("data_server")
    local reason = kill_and_wait(old, server.crash)
    assert.is_truthy(tostring(reason.error):find("calamity strikes", 1, true))
    local new = restarted("data_server", old)
    assert.are.equal(new, t:info("owner"))
    assert.is_true(hl.table.whereis("data") == t)         -- the same table, not a copy
    assert.are.equal(100, t:info("size"))
    for i = 1, 100 do assert.are.same({ i, { n = i, sq = i * i } }, server.get_data(i)) end
  end)

  it("the Server is killed again and again: every acknowledged write is there", function()
    local t = hl.table.whereis("data")
    local written = 0
    for round = 1, 10 do
      for k = 1, 5 do
        assert.are.equal("ok", server.insert_data(round * 10 + k, round))
        written = written + 1
      end
      local old = hl.whereis("data_server")
      kill_and_wait(old)
      restarted("data_server", old)
    end
    assert.are.equal(written, t:info("size"))
    for round = 1, 10 do
      for k = 1, 5 do assert.are.same({ round * 10 + k, round }, server.get_data(round * 10 + k)) end
    end
    assert.are.equal("data_master", t:info("heir"))     -- still heir after ten inheritances
  end)

  it("DataMaster is killed while the Server holds the table: the new DataMaster inherits the next crash", function()
    local t = hl.table.whereis("data")
    server.insert_data("k", "v")
    local old_dm = hl.whereis("data_master")
    kill_and_wait(old_dm)
    local new_dm = restarted("data_master", old_dm)
    assert.are.equal(hl.whereis("data_server"), t:info("owner"))   -- untouched
    local old = hl.whereis("data_server")
    local mref = hl.monitor(new_dm)
    kill_and_wait(old)
    -- the table went to the new DataMaster (the heir is its name), which gave it on
    restarted("data_server", old)
    assert.are.same({ "k", "v" }, server.get_data("k"))
    assert.is_true(hl.table.whereis("data") == t)
    assert.is_nil(hl.receive(function(m) return type(m) == "table" and m[2] == mref end, 0))
  end)

  it("DataMaster dies while it holds the table: custody keeps it and the new DataMaster claims it", function()
    local t = hl.table.whereis("data")
    server.insert_data("x", 42)
    assert.is_true(hl.supervisor.terminate_child(sup, "data_server"))
    assert.are.equal(hl.whereis("data_master"), t:info("owner"))   -- back with its heir
    local old_dm = hl.whereis("data_master")
    kill_and_wait(old_dm)
    local new_dm = restarted("data_master", old_dm)
    assert.are.equal(new_dm, t:info("owner"))                      -- claimed in init
    assert.is_truthy(hl.supervisor.restart_child(sup, "data_server"))
    assert.are.same({ "x", 42 }, server.get_data("x"))
    assert.is_true(hl.table.whereis("data") == t)
    assert.is_nil(dm.get_ets())      -- the Server has it: nobody else is handed it
    assert.are.equal(hl.whereis("data_server"), t:info("owner"))
  end)
end)

-- ------------------------------------------------------------ etscounter

describe("examples/etscounter (seed 002, etscounter with etsmgr)", function()
  local etscounter = require("etscounter")
  local sup

  before_each(function()
    hl.start{ schedulers = 2, logger = "capture" }
    hl.trap_exit(true)
    sup = assert(etscounter.start())
  end)
  after_each(function() pcall(stop_app, sup); pcall(hl.stop) end)

  local function managed(name)
    for _, e in ipairs(etscounter.info()) do
      if e.name == name then return e end
    end
  end

  it("counts and checks; the server owns the table and the manager, by name, is its heir", function()
    assert.are.same({ { "count", 0 } }, etscounter.check())
    assert.are.equal(1, etscounter.count())
    assert.are.equal(2, etscounter.count())
    assert.are.equal(3, etscounter.count())
    assert.are.same({ { "count", 3 } }, etscounter.check())
    local t = etscounter.table()
    assert.are.equal(hl.whereis("etscounter_srv"), t:info("owner"))
    assert.are.equal("etsmgr_srv", t:info("heir"))
    local e = managed("etscounter")
    assert.is_not_nil(e, "the manager does not list the table")
    assert.is_true(e.table == t)
    assert.are.equal(hl.whereis("etscounter_srv"), e.owner)
  end)

  it("die: the restarted server gets the same table back, the count intact", function()
    for _ = 1, 3 do etscounter.count() end
    local t = etscounter.table()
    local old = hl.whereis("etscounter_srv")
    kill_and_wait(old, etscounter.die)
    local new = restarted("etscounter_srv", old)
    assert.are.same({ { "count", 3 } }, etscounter.check())
    assert.is_true(etscounter.table() == t)
    assert.are.equal(new, t:info("owner"))
    assert.are.equal(4, etscounter.count())
    assert.are.equal(5, etscounter.count())
    assert.are.same({ { "count", 5 } }, etscounter.check())
  end)

  it("kill the manager: the server keeps its table and the new manager is heir with no step of its own", function()
    for _ = 1, 3 do etscounter.count() end
    local t = etscounter.table()
    local srv = hl.whereis("etscounter_srv")
    local old_mgr = hl.whereis("etsmgr_srv")
    kill_and_wait(old_mgr)
    local new_mgr = restarted("etsmgr_srv", old_mgr)
    assert.are.equal(srv, hl.whereis("etscounter_srv"))    -- not restarted, not disturbed
    assert.are.equal(srv, t:info("owner"))
    assert.are.same({ { "count", 3 } }, etscounter.check())
    assert.are.equal(4, etscounter.count())
    -- the server now dies: the new manager inherits and hands the table on
    kill_and_wait(srv)
    local new_srv = restarted("etscounter_srv", srv)
    assert.are.same({ { "count", 4 } }, etscounter.check())
    assert.is_true(etscounter.table() == t)
    assert.are.equal(new_srv, t:info("owner"))
    assert.are.equal(new_mgr, hl.whereis("etsmgr_srv"))
    local e = managed("etscounter")
    assert.is_not_nil(e, "the restarted manager does not list the table")
    assert.is_true(e.table == t)
  end)

  it("the server killed 20 times between increments: the count is the number of acknowledged increments", function()
    stop_app(sup)
    sup = assert(etscounter.start{ intensity = 100 })     -- 24 restarts in a second or so
    local acked = 0
    for round = 1, 20 do
      for _ = 1, round % 3 + 1 do
        etscounter.count()
        acked = acked + 1
      end
      local old = hl.whereis("etscounter_srv")
      kill_and_wait(old)
      restarted("etscounter_srv", old)
      if round % 5 == 0 then             -- and the manager now and then
        local m = hl.whereis("etsmgr_srv")
        kill_and_wait(m)
        restarted("etsmgr_srv", m)
      end
    end
    assert.are.same({ { "count", acked } }, etscounter.check())
    assert.are.equal(acked, etscounter.read())
  end)

  it("an orderly stop of the server: the manager forgets the table", function()
    etscounter.count()
    assert.is_not_nil(managed("etscounter"))
    assert.is_true(etscounter.stop_server(sup))
    assert.is_nil(managed("etscounter"))
    assert.is_not_nil(hl.whereis("etsmgr_srv"))
  end)
end)
