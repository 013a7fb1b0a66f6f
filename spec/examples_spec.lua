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
local T = require("heirloom.test")

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

-- Kills the process registered as name (exit "kill", or an ordinary error
-- through crash_fn) and returns the one its supervisor sup restarted —
-- once its init has returned — with the old one's exit reason and pid.
-- A server holds its name before its init runs; the supervisor answers
-- which_children only once the start function (and so init) has
-- returned.
local function restarted(name, sup, crash_fn)
  local old = hl.whereis(name)
  assert(old, "nobody is registered as " .. name)
  local pid, reason = T.kill_and_await(name, 5000, crash_fn)
  assert(pid ~= old, name .. " is still the old process")
  assert(hl.process_info(old) == nil, "the old " .. name .. " is still alive")
  local found = false
  for _, c in ipairs(hl.supervisor.which_children(sup)) do
    if c.pid == pid then found = true end
  end
  assert(found, name .. " " .. tostring(pid) .. " is not a child of " .. tostring(sup))
  return pid, reason, old
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
    T.start{ schedulers = 2 }
    sup = start_app("data_backup")
  end)
  after_each(function() pcall(stop_app, sup); T.stop() end)

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
    local new, reason = restarted("data_server", sup, server.crash)
    assert.is_truthy(tostring(reason.error):find("calamity strikes", 1, true))
    assert.are.equal(new, t:info("owner"))
    assert.is_true(hl.table.whereis("data") == t)         -- the same table, not a copy
    assert.are.equal(100, t:info("size"))
    local objects = {}
    for i = 1, 100 do objects[i] = { i, { n = i, sq = i * i } } end
    T.assert_table(t, objects)
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
      restarted("data_server", sup)
    end
    assert.are.equal(written, t:info("size"))
    local objects = {}
    for round = 1, 10 do
      for k = 1, 5 do
        assert.are.same({ round * 10 + k, round }, server.get_data(round * 10 + k))
        objects[#objects + 1] = { round * 10 + k, round }
      end
    end
    T.assert_table(t, objects)
    assert.are.equal("data_master", t:info("heir"))     -- still heir after ten inheritances
    -- the application stops: its processes are gone, the table waits in
    -- the node's custody (it asked for it) with every write in it
    stop_app(sup)
    sup = nil
    assert.is_nil(t:info("owner"))
    T.assert_table(t, objects)
    assert.is_true(hl.table.claim(t) == t)
    t:drop()
    T.assert_no_leaks()
  end)

  it("DataMaster is killed while the Server holds the table: the new DataMaster inherits the next crash", function()
    local t = hl.table.whereis("data")
    server.insert_data("k", "v")
    local new_dm = restarted("data_master", sup)
    assert.are.equal(hl.whereis("data_server"), t:info("owner"))   -- untouched
    local mref = hl.monitor(new_dm)
    -- the table goes to the new DataMaster (the heir is its name), which gives it on
    restarted("data_server", sup)
    assert.are.same({ "k", "v" }, server.get_data("k"))
    T.assert_table(t, { { "k", "v" } })
    assert.is_true(hl.table.whereis("data") == t)
    assert.is_nil(hl.receive(function(m) return type(m) == "table" and m[2] == mref end, 0))
  end)

  it("DataMaster dies while it holds the table: custody keeps it and the new DataMaster claims it", function()
    local t = hl.table.whereis("data")
    server.insert_data("x", 42)
    assert.is_true(hl.supervisor.terminate_child(sup, "data_server"))
    assert.are.equal(hl.whereis("data_master"), t:info("owner"))   -- back with its heir
    local new_dm = restarted("data_master", sup)
    assert.are.equal(new_dm, t:info("owner"))                      -- claimed in init
    T.assert_table(t, { { "x", 42 } })
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
    T.start{ schedulers = 2 }
    sup = assert(etscounter.start())
  end)
  after_each(function() pcall(stop_app, sup); T.stop() end)

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
    local new = restarted("etscounter_srv", "etscounter_sup", etscounter.die)
    assert.are.same({ { "count", 3 } }, etscounter.check())
    T.assert_table(t, { { "count", 3 } })
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
    local new_mgr = restarted("etsmgr_srv", "etsmgr_sup")
    assert.are.equal(srv, hl.whereis("etscounter_srv"))    -- not restarted, not disturbed
    assert.are.equal(srv, t:info("owner"))
    assert.are.same({ { "count", 3 } }, etscounter.check())
    assert.are.equal(4, etscounter.count())
    -- the server now dies: the new manager inherits and hands the table on
    local new_srv = restarted("etscounter_srv", "etscounter_sup")
    assert.are_not.equal(srv, new_srv)
    assert.are.same({ { "count", 4 } }, etscounter.check())
    T.assert_table(t, { { "count", 4 } })
    assert.is_true(etscounter.table() == t)
    assert.are.equal(new_srv, t:info("owner"))
    assert.are.equal(new_mgr, hl.whereis("etsmgr_srv"))
    local e = managed("etscounter")
    assert.is_not_nil(e, "the restarted manager does not list the table")
    assert.is_true(e.table == t)
  end)

  it("the server dies while no manager runs: the table waits in custody and the next manager hands it back", function()
    for _ = 1, 4 do etscounter.count() end
    local t = etscounter.table()
    assert.is_true(hl.supervisor.terminate_child("etsmgr_sup", "etsmgr_srv"))   -- no manager now
    local old = T.kill("etscounter_srv")
    assert.is_nil(t:info("owner"))                  -- nobody holds the heir's name: custody
    assert.are.equal(4, etscounter.read())
    T.assert_table(t, { { "count", 4 } })
    -- the restarted server waits in manage for a manager; here it comes
    assert.is_truthy(hl.supervisor.restart_child("etsmgr_sup", "etsmgr_srv"))
    local new = hl.await_name("etscounter_srv", 5000)
    assert.are_not.equal(old, new)
    T.eventually(function() return t:info("owner") == new end, 5000)
    local found = false
    for _, c in ipairs(hl.supervisor.which_children("etscounter_sup")) do
      if c.pid == new then found = true end
    end
    assert.is_true(found, "the restarted server is not a child of etscounter_sup")
    assert.are.equal(new, t:info("owner"))
    assert.is_true(hl.table.whereis("etscounter") == t)
    assert.are.same({ { "count", 4 } }, etscounter.check())
    assert.are.equal(5, etscounter.count())
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
      restarted("etscounter_srv", "etscounter_sup")
      if round % 5 == 0 then             -- and the manager now and then
        restarted("etsmgr_srv", "etsmgr_sup")
      end
    end
    assert.are.same({ { "count", acked } }, etscounter.check())
    T.assert_table("etscounter", { { "count", acked } })
    assert.are.equal(acked, etscounter.read())
  end)

  it("an orderly stop of the server: the manager forgets the table", function()
    etscounter.count()
    assert.is_not_nil(managed("etscounter"))
    assert.is_true(etscounter.stop_server())
    assert.is_nil(managed("etscounter"))
    assert.is_not_nil(hl.whereis("etsmgr_srv"))
    assert.is_nil(hl.table.whereis("etscounter"))         -- released: dropped
    -- and the application stops leaving nothing behind
    assert.is_true(etscounter.stop(sup))
    sup = nil
    T.assert_no_leaks()
  end)
end)

-- ------------------------------------------------------------ etshandler

describe("examples/etshandler (seeds 000 and 001, Table Manager and Table Handlers)", function()
  local ms = require("multiserver")

  before_each(function()
    T.start{ schedulers = 2 }
    assert(ms.start{ intensity = 100 })
  end)
  after_each(function() pcall(ms.stop); T.stop() end)

  it("store, load, delete and deleteifmatch on a bag; a second newtable is refused", function()
    assert.is_true(ms.newtable("t1"))
    local ok, why = ms.newtable("t1")
    assert.is_nil(ok)
    assert.are.equal("multiserver.newtable: table 't1' already exists", why)
    assert.are.equal("ok", ms.store("t1", "k", 1))
    assert.are.equal("ok", ms.store("t1", "k", 2))
    assert.are.equal("ok", ms.store("t1", "k", 2))          -- a bag keeps distinct objects
    assert.are.equal("ok", ms.store("t1", "j", { x = 1 }))
    assert.are.same({ 1, 2 }, ms.load("t1", "k"))
    assert.are.same({ 1, 2 }, ms.read("t1", "k"))            -- straight from the table
    assert.is_true(ms.deleteifmatch("t1", "k", 1))
    assert.is_false(ms.deleteifmatch("t1", "k", 7))
    assert.are.same({ 2 }, ms.load("t1", "k"))
    assert.is_true(ms.delete("t1", "k"))
    assert.are.same({}, ms.load("t1", "k"))
    assert.are.same({ { x = 1 } }, ms.load("t1", "j"))
    local t = hl.table.whereis("t1")
    assert.are.equal("bag", t:info("type"))
    assert.are.equal("protected", t:info("access"))
    assert.are.equal(hl.whereis("t1"), t:info("owner"))
    assert.are.equal("etsserver", t:info("heir"))
    local ok2 = pcall(t.insert, t, { "z", 1 })                -- protected: only the handler writes
    assert.is_false(ok2)
  end)

  it("seed 000's test(): the manager dies, then a handler; both tables intact, the heir restored", function()
    assert.is_true(ms.newtable("ets_test1"))
    assert.is_true(ms.newtable("ets_test2"))
    for i = 1, 50 do
      ms.store("ets_test1", i % 5, i)
      ms.store("ets_test2", "all", i)
    end
    -- (a handler gets its table just after its init: the first store waited for it)
    local t1, t2 = hl.table.whereis("ets_test1"), hl.table.whereis("ets_test2")
    local new_mgr = restarted("etsserver", ms.SUP, ms.die)
    -- the handlers were not disturbed; the name heir now means the new manager
    assert.are.equal(hl.whereis("ets_test1"), t1:info("owner"))
    assert.are.equal("etsserver", t1:info("heir"))
    local new_h1, reason = restarted("ets_test1", ms.SUP, function() ms.handler_die("ets_test1") end)
    assert.is_truthy(tostring(reason.error):find("die requested", 1, true))
    assert.are.same({ 5, 10, 15, 20, 25, 30, 35, 40, 45, 50 }, ms.load("ets_test1", 0))
    assert.are.equal(50, #ms.load("ets_test2", "all"))
    assert.is_true(hl.table.whereis("ets_test1") == t1)
    assert.are.equal(new_h1, t1:info("owner"))
    assert.are.equal(new_mgr, hl.whereis("etsserver"))
    local shown = ms.showtables()
    assert.are.equal(2, #shown)
    assert.are.equal("ets_test1", shown[1].name)
    assert.is_true(shown[1].table == t1)
    assert.are.equal(new_h1, shown[1].owner)
    assert.are.equal("ets_test2", shown[2].name)
    assert.is_true(shown[2].table == t2)
  end)

  it("call_retry hides handler crashes from a writer: every acknowledged store is kept", function()
    assert.is_true(ms.newtable("w"))
    local writer = hl.spawn(function(host, n)
      local hl_ = require("heirloom")
      local m = require("multiserver")
      local acked, lost = {}, {}
      for i = 1, n do
        local ok, e = pcall(m.store, "w", "v", i)
        if ok then acked[#acked + 1] = i
        else lost[#lost + 1] = { i, e.kind or tostring(e) } end
      end
      hl_.send(host, { "written", acked, lost })
    end, hl.self(), 300)
    for _ = 1, 5 do
      assert.is_not_nil(hl.await_name("w", 5000))
      T.kill("w")
      hl.sleep(2)
    end
    local m = hl.receive(function(x) return type(x) == "table" and x[1] == "written" end, 20000)
    assert.is_not_nil(m, "the writer did not finish")
    local acked, lost = m[2], m[3]
    local stored = {}
    for _, v in ipairs(ms.load("w", "v")) do stored[v] = true end
    for _, i in ipairs(acked) do assert.is_true(stored[i], "acknowledged store " .. i .. " lost") end
    -- a store that failed may or may not have run (the handler died after
    -- taking it), never with another error than that handler's exit
    for _, l in ipairs(lost) do assert.are.equal("exit", l[2]) end
    assert.is_true(#acked >= 300 - 5)
  end)

  it("requests sent while the handler has no table wait, then run in order; a delete stays a delete", function()
    assert.is_true(hl.supervisor.terminate_child(ms.SUP, "etsserver"))     -- no manager for now
    assert.is_true(ms.newtable("late"))
    assert.are.same({ pending = 0 }, ms.status("late"))
    local ops = {
      { "store", "a", 1 }, { "store", "a", 2 }, { "delete", "a" }, { "load", "a" },
      { "store", "b", 1 }, { "store", "b", 2 }, { "deleteifmatch", "b", 1 }, { "load", "b" },
    }
    for i, op in ipairs(ops) do
      hl.spawn(function(host, n, req)
        local hl_ = require("heirloom")
        hl_.send(host, { "result", n, hl_.server.call("late", req, 10000) })
      end, hl.self(), i, op)
      -- the next request is sent only once this one waits in the handler
      local deadline = hl.now() + 2000
      while ms.status("late").pending < i do
        assert.is_true(hl.now() < deadline, "request " .. i .. " did not reach the handler")
        hl.sleep(1)
      end
    end
    assert.is_nil(hl.receive(function(x) return type(x) == "table" and x[1] == "result" end, 50))
    assert.is_truthy(hl.supervisor.restart_child(ms.SUP, "etsserver"))      -- the manager is back
    local results = {}
    for _ = 1, #ops do
      local m = hl.receive(function(x) return type(x) == "table" and x[1] == "result" end, 5000)
      assert.is_not_nil(m, "a waiting request was never answered")
      results[m[2]] = m[3]
    end
    assert.are.same({ "ok", "ok", true, {}, "ok", "ok", true, { 2 } }, results)
    assert.are.same({}, ms.read("late", "a"))
    assert.are.same({ 2 }, ms.read("late", "b"))
    local st = ms.status("late")
    assert.are.equal(0, st.pending)
    assert.is_true(st.table == hl.table.whereis("late"))
  end)
end)

-- ------------------------------------------------------------ embed

describe("examples/embed: a C host program #child", function()
  it("runs etscounter in an embedded node and reads the count from C after each crash", function()
    local build = os.getenv("HEIRLOOM_BUILD") or (ROOT .. "/build")
    local exe = build .. "/embed_example"
    local f = io.open(exe, "r")
    assert.is_not_nil(f, exe .. " is not built (make builds it)")
    f:close()
    local p = io.popen(("timeout 60 %q %q 2>&1; echo \"rc=$?\""):format(exe, ROOT))
    local out = p:read("a")
    p:close()
    assert.is_truthy(out:find("rc=0\n", 1, true), out)
    local reads = {}
    for n in out:gmatch("the count read from C: (%-?%d+)") do reads[#reads + 1] = tonumber(n) end
    assert.are.same({ 3, 3, 5, 5, 6 }, reads)
    assert.is_truthy(out:find("embed: count = 6 ", 1, true), out)
    assert.is_falsy(out:find("FAILED", 1, true), out)
  end)
end)

-- ------------------------------------------------------------ the shell

describe("examples/etscounter in the heirloom shell #child", function()
  it("replays seed 002's shell session: the count survives the server's and the manager's deaths", function()
    local build = os.getenv("HEIRLOOM_BUILD") or (ROOT .. "/build")
    local input = os.tmpname()
    local f = assert(io.open(input, "w"))
    f:write(table.concat({
      'etscounter = require("etscounter")',
      "etscounter.check()",
      "etscounter.count()", "etscounter.count()", "etscounter.count()",
      "etscounter.check()",
      "etscounter.die()",
      "etscounter.check()",
      "etscounter.count()", "etscounter.count()",
      "etscounter.check()",
      'hl.exit(hl.whereis("etsmgr_srv"), "kill")',
      "etscounter.check()",
    }, "\n") .. "\n")
    f:close()
    local p = io.popen(("cd %q && timeout 60 %q shell examples/etscounter/app.lua < %q 2>/dev/null; echo \"rc=$?\""):format(
      ROOT, build .. "/heirloom", input))
    local out = p:read("a")
    p:close()
    os.remove(input)
    assert.is_truthy(out:find("rc=0\n", 1, true), out)
    -- what the prompt printed for each expression, in order (the server's
    -- own notices are the lines that start with "etscounter_srv:")
    local printed = {}
    for line in out:gmatch("[^\n]+") do
      if not line:find("^etscounter_srv:") and not line:find("^rc=") then printed[#printed + 1] = line end
    end
    assert.are.same({
      '{{"count", 0}}', "1", "2", "3", '{{"count", 3}}',
      '{{"count", 3}}',                  -- after die: the restarted server has the same count
      "4", "5", '{{"count", 5}}',
      "true",                            -- hl.exit of the manager
      '{{"count", 5}}',                  -- after the manager's death
    }, printed)
  end)
end)
