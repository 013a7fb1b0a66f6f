-- tablemgr_spec.lua — hl.tablemgr against the crash scenarios 1 to 12 of
-- SCENARIOS.md, one describe each. Every scenario kills real processes
-- (hl.exit(pid, "kill"), errors in clients, the manager killed, both at
-- once) and checks the data: "kept" means the same table (the same handle
-- and id), every object in it, and no copy. Then the registry's check at
-- start, and the API's errors.
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local T = require("heirloom.test")
local hl = S.hl
local tm = hl.tablemgr
local expect = S.expect

-- ---------------------------------------------------------------- helpers

-- A fresh node (heirloom.test's fixture: crash reports captured, and the
-- host traps exits, for it starts managers, clients and supervisors
-- linked to itself and kills them); stopped after each test, failed or not.
local function start(schedulers, extra)
  local cfg = { schedulers = schedulers or 2 }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  T.start(cfg)
end

local stop = T.stop

local function mgr_child(name, id)
  return { id = id or ("mgr_" .. (name or "tablemgr")),
           start = { "heirloom.tablemgr", "start_link", { name = name } } }
end

-- args: name, table, mgr, topts, ... (tm_client.lua); reports to the host
local function client_args(args)
  local a = { report = hl.self() }
  for k, v in pairs(args) do a[k] = v end
  return a
end

local function client_child(args)
  return { id = args.name, start = { "tm_client", "start_link", client_args(args) } }
end

local function start_client(args)
  return assert(hl.server.start_link("tm_client", client_args(args), { name = args.name }))
end

-- Waits for client `name`'s report of its init: pid, table, created.
local function up(name)
  local m = expect(function(m)
    return type(m) == "table" and m[1] == "client_up" and m[2] == name
  end, 5000, "client_up " .. name)
  return m[3], m[4], m[5]
end

-- Waits until pid is no longer listed (after its DOWN it may still be,
-- for a moment, as exiting).
local function dead(pid)
  T.eventually(function() return hl.process_info(pid) == nil end, 3000)
end

local function kill(pid)
  T.kill(pid)
  dead(pid)
end

-- Kills the holder of name and returns the restarted one, alive and not
-- the old one.
local function restart_of(name)
  local old = hl.whereis(name)
  local new = T.kill_and_await(name)
  assert.are_not.equal(old, new)
  assert.is_nil(hl.process_info(old))
  assert.is_not_nil(hl.process_info(new))
  return new
end

local function call(dest, ...)
  return hl.server.call(dest, { ... }, 5000)
end

-- Asserts that t holds exactly the n objects {i, "v<i>"} that "fill" writes.
local function assert_filled(t, n)
  local objects = {}
  for i = 1, n do objects[i] = { i, "v" .. i } end
  T.assert_table(t, objects)
end

-- Asserts that u is t itself: the same handle, the same id, not a copy.
local function assert_same(t, u)
  assert.are.equal(t, u)
  assert.are.equal(t:info().id, u:info().id)
end

local function entry(name, mgr)
  for _, e in ipairs(tm.info(mgr)) do
    if e.name == name then return e end
  end
  return nil
end

local function registry(mgr)
  local out = {}
  for _, kv in ipairs(hl.store.list("tablemgr/" .. (mgr or "tablemgr"))) do out[kv[1]] = kv[2] end
  return out
end

local function count_keys(m)
  local n = 0
  for _ in pairs(m) do n = n + 1 end
  return n
end

-- The message of the error f raises, without its position, and the
-- position (the caller's: this file).
local function err_of(f, ...)
  local ok, e = pcall(function(...)
    local r = f(...)            -- not a tail call: this line is the caller
    return r
  end, ...)
  assert.is_false(ok, "expected an error")
  e = tostring(e)
  local at, rest = e:match("^([^:]*:%d+): (.*)$")
  if at then return rest, at end
  return e, nil
end

local function sup_start(spec)
  local sup = assert(hl.supervisor.start_link(spec))
  return sup
end

-- The shape an application takes: the managers first, then the clients
-- under a supervisor of their own. (A client's init waits for its manager,
-- and a supervisor starts one child at a time: one supervisor restarting
-- both a client and its manager could have to start the client first.)
local function app(mgr_names, clients, intensity)
  local children, cc = {}, {}
  for _, n in ipairs(mgr_names) do children[#children + 1] = mgr_child(n) end
  for _, a in ipairs(clients) do cc[#cc + 1] = client_child(a) end
  children[#children + 1] = { id = "clients", type = "supervisor",
    start = { "heirloom.supervisor", "start_link",
              { intensity = intensity, period = 5, children = cc } } }
  return sup_start{ intensity = intensity, period = 5, children = children }
end

-- ---------------------------------------------------------------- 1

describe("scenario 1: a client killed", function()
  after_each(stop)

  for _, n in ipairs({ 2, 0 }) do
    it("keeps the table, the manager holds it meanwhile, the new client gets it back (schedulers = "
        .. n .. ")", function()
      start(n)
      local mgr = assert(tm.start_link())
      local c1 = start_client({ name = "c", table = "counter" })
      local pid, t, created = up("c")
      assert.are.equal(c1, pid)
      assert.is_true(created)
      assert.are.equal(100, call("c", "fill", 100))
      local ntables = #hl.table.all()

      kill(pid)
      local e = entry("counter")
      assert.are.equal("held", e.state)
      assert.are.equal(mgr, e.owner)
      assert.are.equal(mgr, t:info().owner)
      assert_filled(t, 100)

      start_client({ name = "c", table = "counter" })
      local pid2, t2, created2 = up("c")
      assert.is_false(created2)
      assert_same(t, t2)
      assert.are.equal(pid2, t:info().owner)
      assert.are.equal("tablemgr", t:info().heir)
      assert_filled(t, 100)
      assert.are.equal(ntables, #hl.table.all())
      assert.are.equal("owned", entry("counter").state)
    end)
  end

  it("under a supervisor: the restarted client has the same table, every object in it", function()
    start(2)
    local sup = app({ "tablemgr" }, { { name = "c", table = "data" } }, 10)
    local pid, t = up("c")
    call("c", "fill", 1000)
    for _ = 1, 3 do
      local new = restart_of("c")
      local pid2, t2, created = up("c")
      assert.are.equal(new, pid2)
      assert.are_not.equal(pid, pid2)
      assert.is_false(created)
      assert_same(t, t2)
      assert_filled(t, 1000)
      assert.are.equal(pid2, t:info().owner)
      pid = pid2
    end
    assert.is_not_nil(hl.process_info(sup))
  end)
end)

-- ---------------------------------------------------------------- 2

describe("scenario 2: a client that fails with an ordinary error", function()
  after_each(stop)

  it("error() in a callback, hl.exit(reason) and a normal stop: the table is kept each time",
      function()
    start(2)
    app({ "tablemgr" }, { { name = "c", table = "t2" } }, 10)
    local pid, t = up("c")
    call("c", "fill", 50)
    local ok, e = pcall(call, "c", "crash", "bad arithmetic")
    assert.is_false(ok)
    assert.is_true(hl.server.is_error(e, "exit"))
    assert.are.equal("bad arithmetic", e.reason.error)
    local pid2, t2 = up("c")
    assert.are_not.equal(pid, pid2)
    assert_same(t, t2)
    assert_filled(t, 50)

    call("c", "store", "after", 1)
    ok, e = pcall(call, "c", "exit", "bad_state")
    assert.is_false(ok)
    assert.are.equal("bad_state", e.reason)
    local pid3, t3 = up("c")
    assert.are_not.equal(pid2, pid3)
    assert_same(t, t3)
    assert.are.same({ "value", 1 }, call("c", "load", "after"))
    call("c", "delete", "after")

    assert.are.equal("stopping", call("c", "stop", "normal"))   -- permanent: restarted
    local _, t4 = up("c")
    assert_same(t, t4)
    assert_filled(t, 50)
  end)

  it("a plain process that errors after writing: the next caller gets its writes", function()
    start(2)
    assert(tm.start_link())
    for i, how in ipairs({ "error", "exit", "return", "error" }) do
      local p = hl.spawn("tm_worker", "manage_and_die", hl.self(), "tablemgr", "plain", i, how)
      local got = expect(S.tagged("got", p), 3000)
      dead(p)
      local t = got[3]
      assert.are.equal("held", entry("plain").state)
      assert.are.same({ { "k", i } }, t:tab2list())
    end
    local t = tm.manage("plain")
    assert.are.same({ { "k", 4 } }, t:tab2list())
  end)
end)

-- ---------------------------------------------------------------- 3

describe("scenario 3: a client killed 20 times in a row", function()
  after_each(stop)

  it("keeps the table, and the counter equals the acknowledged increments", function()
    start(2)
    app({ "tablemgr" }, { { name = "counter", table = "counts" } }, 100)
    local pid, t = up("counter")
    local inc = hl.spawn("tm_worker", "incr_loop", hl.self(), "counter")
    for i = 1, 20 do
      hl.sleep(i % 4)                      -- 0 to 3 ms between kills
      hl.exit(pid, "kill")
      local pid2, t2, created = up("counter")
      assert.are_not.equal(pid, pid2)
      assert.is_false(created)
      assert_same(t, t2)
      pid = pid2
    end
    hl.send(inc, "stop")
    local done = expect(S.tagged("incr_done"), 30000)
    local acked, last, failed = done[2], done[3], done[5]
    assert.are.equal(0, failed)
    assert.is_true(acked > 0)
    local o = t:lookup("count")[1]
    assert.are.equal(acked, o[2])          -- every acknowledged increment, nothing else
    assert.are.equal(acked, o[3])          -- the last sequence number applied
    assert.are.equal(acked, last)
    assert.are.equal(1, #t:tab2list())
  end)
end)

-- ---------------------------------------------------------------- 4

describe("scenario 4: the manager crashes while the client is alive", function()
  after_each(stop)

  it("keeps the table; the new manager is heir again without the client doing anything",
      function()
    start(2)
    local sup = app({ "tablemgr" }, { { name = "c", table = "t4" } }, 10)
    local cpid, t = up("c")
    call("c", "fill", 200)
    local m2 = restart_of("tablemgr")
    -- the client was not restarted and did nothing: it still owns the table
    assert.are.equal(cpid, hl.whereis("c"))
    assert.are.equal(cpid, t:info().owner)
    assert.are.equal("tablemgr", t:info().heir)
    local e = entry("t4")
    assert.are.equal("owned", e.state)
    assert.are.equal(cpid, e.owner)
    assert_same(t, e.table)

    -- the client dies now: the new manager inherits, the next client gets it
    local new = restart_of("c")
    local cpid2, t2 = up("c")
    assert.are.equal(new, cpid2)
    assert.are_not.equal(cpid, cpid2)
    assert_same(t, t2)
    assert_filled(t, 200)
    assert.are.equal(m2, hl.whereis("tablemgr"))
    assert.is_not_nil(hl.process_info(sup))
  end)
end)

-- ---------------------------------------------------------------- 5

describe("scenario 5: the manager crashes while it holds the table", function()
  after_each(stop)

  it("the table waits in custody and the restarted manager claims it back", function()
    start(2)
    local m1 = assert(tm.start_link())
    local c = start_client({ name = "c", table = "t5" })
    local _, t = up("c")
    call("c", "fill", 300)
    kill(c)
    assert.are.equal("held", entry("t5").state)
    kill(m1)
    assert.is_nil(t:info().owner)          -- nobody: the node's custody
    assert.is_true(t:info().custody)
    assert_filled(t, 300)

    local m2 = assert(tm.start_link())
    local e = entry("t5")
    assert.are.equal("held", e.state)
    assert.are.equal(m2, t:info().owner)
    start_client({ name = "c", table = "t5" })
    local _, t2, created = up("c")
    assert.is_false(created)
    assert_same(t, t2)
    assert_filled(t, 300)
  end)

  it("under a supervisor, killed again and again while it holds the table", function()
    start(2)
    sup_start{ intensity = 20, period = 5, children = { mgr_child() } }
    local c = start_client({ name = "c", table = "t5s" })
    local _, t = up("c")
    call("c", "fill", 100)
    kill(c)
    local m = hl.whereis("tablemgr")
    for _ = 1, 5 do
      m = restart_of("tablemgr")
      assert.are.equal("held", entry("t5s").state)
      assert.are.equal(m, t:info().owner)
    end
    start_client({ name = "c", table = "t5s" })
    local _, t2 = up("c")
    assert_same(t, t2)
    assert_filled(t, 100)
  end)
end)

-- ---------------------------------------------------------------- 6

describe("scenario 6: the manager and the client crash together", function()
  after_each(stop)

  it("custody (the default): kept, whatever the order of the deaths", function()
    start(2)
    local sup = app({ "tablemgr" }, { { name = "c", table = "t6" } }, 100)
    local cpid, t = up("c")
    call("c", "fill", 100)
    for round = 1, 10 do
      -- the client can be up again before its supervisor's sibling, the
      -- manager, has registered its name
      local m = hl.await_name("tablemgr", 5000)
      assert.is_not_nil(m)
      if round % 2 == 0 then
        hl.exit(m, "kill"); hl.exit(cpid, "kill")
      else
        hl.exit(cpid, "kill"); hl.exit(m, "kill")
      end
      local cpid2, t2 = up("c")
      assert_same(t, t2)
      assert_filled(t, 100)
      assert.are.equal(cpid2, t:info().owner)
      cpid = cpid2
    end
    assert.is_not_nil(hl.process_info(sup))           -- no cascade
    assert.are.equal(1, count_keys(registry()))
  end)

  it("custody = false: the table is lost as documented, the registry entry is dropped, " ..
      "the name is created afresh", function()
    start(2)
    local m1 = assert(tm.start_link())
    local c = start_client({ name = "c", table = "t6f", topts = { custody = false } })
    local _, t = up("c")
    call("c", "fill", 10)
    kill(m1)
    kill(c)                                 -- no live heir, no custody: deleted
    assert.has_error(function() t:info() end, "heirloom.table.info: the table has been dropped")
    assert.is_not_nil(registry()["t6f"])    -- written by the dead manager
    local m2 = assert(tm.start_link())
    assert.is_nil(registry()["t6f"])        -- checked at start: dropped, never handed out
    assert.are.same({}, tm.info())
    start_client({ name = "c", table = "t6f", topts = { custody = false } })
    local _, t2, created = up("c")
    assert.is_true(created)
    assert.are_not.equal(t, t2)
    assert.are.equal(0, t2:info().size)
    assert.are.equal(t2, registry()["t6f"].table)
    assert.is_not_nil(hl.process_info(m2))
  end)
end)

-- ---------------------------------------------------------------- 7

describe("scenario 7: requests sent while the client restarts", function()
  after_each(stop)

  -- Replays the outcomes in order: an acknowledged write sets the model,
  -- a failed write may or may not have happened (the key is then
  -- uncertain until the next acknowledged write), a read must see the
  -- model. Returns the model and the uncertain keys.
  local function replay(out, bound)
    local model, unsure = {}, {}
    for i, r in ipairs(out) do
      local op, key, value, ok, res, kind, ms = table.unpack(r, 1, 7)
      assert.is_true(ms <= bound, ("request %d took %d ms (bound %d)"):format(i, ms, bound))
      if ok then
        if op == "store" then
          assert.are.equal("stored", res)
          model[key], unsure[key] = value, nil
        elseif op == "delete" then
          assert.are.equal("deleted", res)          -- a delete stays a delete
          model[key], unsure[key] = nil, nil
        elseif not unsure[key] then
          assert.are.same({ "value", model[key] }, res,
            ("request %d: load %s"):format(i, key))
        end
      else
        assert.is_truthy(res:find("^heirloom%.server%.call_retry: " .. kind .. ": "), res)
        assert.is_truthy(kind == "noproc" or kind == "exit" or kind == "timeout", kind)
        if op ~= "load" and kind ~= "noproc" then unsure[key] = true end
      end
    end
    return model, unsure
  end

  it("are served after the restart in order, or fail with a clear error in bounded time",
      function()
    start(2)
    app({ "tablemgr" }, { { name = "h", table = "store" } }, 100)
    local pid, t = up("h")
    local wait = { timeout = 1000, retry_for = 1000 }
    local w = hl.spawn("tm_worker", "ops_stream", hl.self(), "h", 600, wait)
    for i = 1, 10 do
      hl.sleep(1 + i % 3)
      hl.exit(pid, "kill")
      local pid2, t2 = up("h")
      assert_same(t, t2)
      pid = pid2
    end
    local out = expect(S.tagged("ops_done"), 60000)[2]
    dead(w)
    assert.are.equal(600, #out)
    local model, unsure = replay(out, 2000 + 500)
    for k = 0, 6 do
      local key = "k" .. k
      if not unsure[key] then
        local o = t:lookup(key)[1]
        assert.are.equal(model[key], o and o[2], key)
      end
    end
  end)

  it("requests that arrive while the new client is still in init wait for it, in order",
      function()
    start(2)
    app({ "tablemgr" }, { { name = "h", table = "slow", init_sleep = 100 } }, 10)
    local pid, t = up("h")
    call("h", "store", "pre", "before")
    hl.exit(pid, "kill")
    local w = hl.spawn("tm_worker", "ops_stream", hl.self(), "h", 30)
    local _, t2 = up("h")
    assert_same(t, t2)
    local out = expect(S.tagged("ops_done"), 10000)[2]
    dead(w)
    for _, r in ipairs(out) do assert.is_true(r[4], tostring(r[5])) end   -- all served
    replay(out, 7000)
    assert.are.same({ "value", "before" }, call("h", "load", "pre"))
  end)

  it("a client that stays down: each request fails with noproc within retry_for", function()
    start(2)
    assert(tm.start_link())
    local h = start_client({ name = "h", table = "gone" })
    up("h")
    kill(h)
    local w = hl.spawn("tm_worker", "ops_stream", hl.self(), "h", 6, { timeout = 200, retry_for = 100 })
    local out = expect(S.tagged("ops_done"), 5000)[2]
    dead(w)
    for _, r in ipairs(out) do
      assert.is_false(r[4])
      assert.are.equal("noproc", r[6])
      assert.is_truthy(r[5]:find("request {\"" .. r[1], 1, true), r[5])   -- names the request
      assert.is_true(r[7] <= 100 + 300)
    end
  end)
end)

-- ---------------------------------------------------------------- 8

describe("scenario 8: the caller dies while the manager hands it the table", function()
  after_each(stop)

  for _, n in ipairs({ 0, 2 }) do
    it("the manager survives and keeps the table (schedulers = " .. n .. ")", function()
      start(n)
      local mgr = assert(tm.start_link())
      -- a client writes and fails: the manager holds the table
      local w = hl.spawn("tm_worker", "manage_and_die", hl.self(), "tablemgr", "t8", "data", "error")
      local t = expect(S.tagged("got", w))[3]
      dead(w)
      local ntables = #hl.table.all()
      -- callers that are gone when the manager hands the table over
      for _ = 1, 40 do
        local p = hl.spawn("tm_worker", "call_and_vanish", "tablemgr", "t8")
        dead(p)
      end
      assert.are.equal(mgr, hl.whereis("tablemgr"))
      local e = entry("t8")
      assert.are.equal("held", e.state)
      assert_same(t, e.table)
      assert.are.equal(ntables, #hl.table.all())    -- nothing created on the way
      -- a caller killed right after it asked: the table is held or comes back
      for _ = 1, 20 do
        local p = hl.spawn("tm_worker", "manage_and_wait", hl.self(), "tablemgr", "t8")
        hl.exit(p, "kill")
        dead(p)
      end
      assert.is_true(S.wait_until(function() return entry("t8").state == "held" end, 3000))
      assert.are.equal(mgr, hl.whereis("tablemgr"))
      local u = tm.manage("t8")
      assert_same(t, u)
      assert.are.same({ { "k", "data" } }, t:tab2list())
      assert.are.equal(ntables, #hl.table.all())
      S.drain()
    end)
  end
end)

-- ---------------------------------------------------------------- 9

describe("scenario 9: names", function()
  after_each(stop)

  for _, n in ipairs({ 2, 0 }) do
    it("a name held by a live owner is refused with a clear error (schedulers = " .. n .. ")",
        function()
      start(n)
      assert(tm.start_link())
      local p = hl.spawn("tm_worker", "manage_and_wait", hl.self(), "tablemgr", "t9")
      local m = expect(S.tagged("managed", p))
      assert.is_true(m[3])
      local e = err_of(tm.manage, "t9")
      assert.are.equal(("heirloom.tablemgr.manage: table \"t9\" is owned by %s, a live process")
        :format(tostring(p)), e)
      assert.are.equal(p, m[4]:info().owner)       -- the refusal changed nothing
      -- its owner killed: the name is free again, the same table
      kill(p)
      local t = tm.manage("t9")
      assert_same(m[4], t)
    end)
  end

  it("a name whose table died is created afresh", function()
    start(2)
    assert(tm.start_link())
    local t = tm.manage("t9d")
    t:insert({ "old" })
    t:drop()
    local u, created = tm.manage("t9d")
    assert.is_true(created)
    assert.are_not.equal(t, u)
    assert.are.equal(0, u:info().size)
    assert.are.equal(u, registry()["t9d"].table)
    assert.are.equal(1, #tm.info())
  end)

  it("an existing table asked for with other options is refused", function()
    start(2)
    assert(tm.start_link())
    tm.manage("t9o", { type = "bag" })
    assert.are.equal('heirloom.tablemgr.manage: table "t9o" exists with type = "bag" ' ..
      '(asked for "set")', err_of(tm.manage, "t9o", { type = "set" }))
    assert.are.equal(tm.manage("t9o", { type = "bag" }), tm.manage("t9o"))
  end)

  it("an owner exiting at the very moment it is asked about: the caller waits for the table",
      function()
    start(2)
    assert(tm.start_link())
    for _ = 1, 20 do
      local p = hl.spawn("tm_worker", "manage_and_wait", hl.self(), "tablemgr", "t9x")
      local m = expect(S.tagged("managed", p))
      hl.exit(p, "kill")                     -- no wait: the exit may be under way
      local ok, t = pcall(tm.manage, "t9x")
      if ok then
        assert_same(m[4], t)
        assert.are.equal(hl.self(), t:info().owner)
        tm.release("t9x")
      else
        -- the kill had not reached it yet: it was alive and refused
        assert.is_truthy(t:find("a live process", 1, true), t)
        dead(p)
        assert_same(m[4], tm.manage("t9x"))
        tm.release("t9x")
      end
    end
  end)
end)

-- ---------------------------------------------------------------- 10

describe("scenario 10: several tables, clients and managers", function()
  after_each(stop)

  it("each is isolated from the others", function()
    start(2)
    app({ "tm_a", "tm_b" }, {
      { name = "c1", table = "c1_main", mgr = "tm_a", tables = { "c1_x", "c1_y" } },
      { name = "c2", table = "shared", mgr = "tm_a" },
      { name = "c3", table = "shared", mgr = "tm_b" },
    }, 50)
    local c1, t1 = up("c1")
    local c2, t2 = up("c2")
    local c3, t3 = up("c3")
    assert.are_not.equal(t2, t3)                     -- one name, two managers, two tables
    local x, y = call("c1", "extra", "c1_x"), call("c1", "extra", "c1_y")
    for _, c in ipairs({ "c1", "c2", "c3" }) do call(c, "fill", 20) end
    assert.are.same({ "c1_main", "c1_x", "c1_y", "shared" },
      (function() local out = {} for i, e in ipairs(tm.info("tm_a")) do out[i] = e.name end return out end)())
    assert.are.equal(1, #tm.info("tm_b"))
    assert.are.equal("tm_a", x:info().heir)
    assert.are.equal("tm_b", t3:info().heir)

    -- kill one client: its three tables come back to it, the others untouched
    hl.exit(c1, "kill")
    local c1b, t1b = up("c1")
    assert_same(t1, t1b)
    assert_same(x, call("c1", "extra", "c1_x"))
    assert_same(y, call("c1", "extra", "c1_y"))
    assert.are.equal(c1b, x:info().owner)
    assert.are.equal(c2, hl.whereis("c2"))
    assert.are.equal(c3, hl.whereis("c3"))

    -- kill manager a: b and its client do not notice
    local b = hl.whereis("tm_b")
    restart_of("tm_a")
    assert.are.equal(b, hl.whereis("tm_b"))
    assert.are.equal(c3, t3:info().owner)
    assert.are.equal(4, #tm.info("tm_a"))
    -- kill c3: its table goes to b, not to a
    local c3b = restart_of("c3")
    local c3up, t3b = up("c3")
    assert.are.equal(c3b, c3up)
    assert_same(t3, t3b)
    assert_filled(t3, 20)
    assert_filled(t2, 20)
    assert.are.equal(4, count_keys(registry("tm_a")))
    assert.are.equal(1, count_keys(registry("tm_b")))
  end)

  it("a named table is one per node: a second manager is refused the name clearly", function()
    start(2)
    assert(tm.start_link({ name = "tm_a" }))
    assert(tm.start_link({ name = "tm_b" }))
    tm.manage("only", { named = true }, "tm_a")
    local e = err_of(tm.manage, "only", { named = true }, "tm_b")
    assert.is_truthy(e:find('^heirloom%.tablemgr%.manage: table "only" cannot be created: '), e)
    assert.are.same({}, tm.info("tm_b"))
    assert.are.same({}, registry("tm_b"))
  end)
end)

-- ---------------------------------------------------------------- 11

describe("scenario 11: release and stray tables", function()
  after_each(stop)

  it("an orderly release: the manager forgets the table and it is dropped", function()
    start(2)
    local mgr = assert(tm.start_link())
    local t = tm.manage("r1")
    t:insert({ 1 })
    assert.is_true(tm.release("r1"))
    assert.are.same({}, tm.info())
    assert.is_nil(registry()["r1"])
    assert.has_error(function() t:info() end, "heirloom.table.info: the table has been dropped")
    -- a held table waits for its client: refused until it is managed again
    local c = start_client({ name = "c", table = "r2" })
    local _, t2 = up("c")
    kill(c)
    assert.are.equal('heirloom.tablemgr.release: table "r2" waits for its client (held by the ' ..
      'manager): only its owner may release it; manage it first', err_of(tm.release, "r2"))
    assert.are.equal(t2, tm.manage("r2"))
    assert.is_true(tm.release("r2"))
    assert.has_error(function() t2:info() end, "heirloom.table.info: the table has been dropped")
    -- someone else's table: refused
    local p = hl.spawn("tm_worker", "manage_and_wait", hl.self(), "tablemgr", "r3")
    expect(S.tagged("managed", p))
    assert.are.equal(('heirloom.tablemgr.release: table "r3" is owned by %s: only its owner ' ..
      'may release it'):format(tostring(p)), err_of(tm.release, "r3"))
    assert.are.equal('heirloom.tablemgr.release: table "nope" is not managed by "tablemgr"',
      err_of(tm.release, "nope"))
    assert.are.equal(mgr, hl.whereis("tablemgr"))
  end)

  it("a stray ETS-TRANSFER is dropped, not a crash; the managed tables are untouched", function()
    start(2)
    local mgr = assert(tm.start_link())
    local c = start_client({ name = "c", table = "kept" })
    local _, kept = up("c")
    call("c", "fill", 10)
    -- given away to the manager
    local stray = hl.table.new("stray", {})
    stray:insert({ 1 })
    stray:give_away(mgr, "here")
    -- inherited by name from a process that set the manager as its heir
    local p = hl.spawn(function(host)
      local hl = require("heirloom")
      local t = hl.table.new("stray2", { heir = "tablemgr" })
      hl.send(host, { "made", t })
      hl.receive()
    end, hl.self())
    local stray2 = expect(S.tagged("made"))[2]
    kill(p)
    -- junk that looks like one
    hl.send(mgr, { "ETS-TRANSFER", "junk" })
    hl.send(mgr, { "ETS-TRANSFER" })
    assert.is_true(S.wait_until(function()
      return not pcall(stray.info, stray) and not pcall(stray2.info, stray2)
    end, 3000))
    assert.are.equal(mgr, hl.whereis("tablemgr"))
    local e = tm.info()
    assert.are.equal(1, #e)
    assert.are.equal("kept", e[1].name)
    assert_filled(kept, 10)
    -- the managed table still comes back to the manager
    kill(c)
    assert.are.equal("held", entry("kept").state)
  end)

  it("requests the manager does not know are answered with an error", function()
    start(2)
    local mgr = assert(tm.start_link())
    assert.are.same({ "error", 'unknown request "frobnicate"' }, hl.server.call(mgr, { "frobnicate" }))
    assert.are.same({ "error", "unknown request nil" }, hl.server.call(mgr, 42))
    hl.server.cast(mgr, "whatever")
    hl.send(mgr, "noise")
    assert.are.same({}, tm.info())
    assert.are.equal(mgr, hl.whereis("tablemgr"))
  end)
end)

-- ---------------------------------------------------------------- 12

describe("scenario 12: the restart budget is exhausted", function()
  after_each(stop)

  it("callers of the client get an error in bounded time; the table stays with the manager",
      function()
    start(2)
    assert(tm.start_link())
    local csup = sup_start{ intensity = 2, period = 5,
      children = { client_child({ name = "c", table = "t12" }) } }
    local pid, t = up("c")
    call("c", "fill", 30)
    for _ = 1, 2 do
      local new = restart_of("c")
      pid = up("c")
      assert.are.equal(new, pid)
    end
    hl.exit(pid, "kill")                   -- the third restart in the period: it gives up
    expect(function(m) return type(m) == "table" and m[1] == "EXIT" and m[2] == csup end, 5000)
    local t0 = hl.now()
    local ok, e = pcall(hl.server.call_retry, "c", { "load", 1 }, { timeout = 500, retry_for = 300 })
    assert.is_false(ok)
    assert.is_true(hl.server.is_error(e, "noproc"))
    assert.is_true(hl.now() - t0 <= 300 + 500 + 500)
    assert.are.equal("held", entry("t12").state)
    assert_filled(t, 30)
    -- a new supervisor: the client comes back with the same table
    sup_start{ intensity = 2, period = 5, children = { client_child({ name = "c", table = "t12" }) } }
    local _, t2 = up("c")
    assert_same(t, t2)
    assert_filled(t, 30)
  end)

  it("the manager's supervisor gives up: manage fails in bounded time, the tables wait in custody",
      function()
    start(2)
    local msup = sup_start{ intensity = 1, period = 5, children = { mgr_child() } }
    local c = start_client({ name = "c", table = "t12m" })
    local _, t = up("c")
    call("c", "fill", 40)
    kill(c)
    local m = restart_of("tablemgr")
    hl.exit(m, "kill")                       -- the second restart within the period
    expect(function(x) return type(x) == "table" and x[1] == "EXIT" and x[2] == msup end, 5000)
    assert.is_nil(t:info().owner)            -- custody
    local t0 = hl.now()
    local e = err_of(tm.manage, "t12m", {}, nil, { timeout = 500, retry_for = 200 })
    assert.are.equal('heirloom.tablemgr.manage: no table manager is running as "tablemgr" ' ..
      '(waited 200 ms)', e)
    assert.is_true(hl.now() - t0 <= 200 + 500 + 500)
    -- a client that starts now fails to start (bounded), it does not hang
    local ok, why = hl.server.start("tm_client", client_args({ name = "c", table = "t12m",
      wait = { timeout = 200, retry_for = 100 } }), { name = "c" })
    assert.is_nil(ok)
    assert.is_truthy(tostring(why.error):find("no table manager is running", 1, true))
    -- the tree started again: the table is claimed back, every object in it
    sup_start{ intensity = 1, period = 5, children = { mgr_child() } }
    start_client({ name = "c", table = "t12m" })
    local _, t2 = up("c")
    assert_same(t, t2)
    assert_filled(t, 40)
  end)
end)

-- ---------------------------------------------------------------- registry

describe("the registry", function()
  after_each(stop)

  it("is checked at start: an entry whose table no longer exists is dropped, never handed out",
      function()
    start(2)
    local gone = hl.table.new("ghost", { heir = "tablemgr" })
    gone:drop()
    hl.store.put("tablemgr/tablemgr", "ghost", { table = gone, tname = "ghost", opts = {} })
    hl.store.put("tablemgr/tablemgr", "junk", 42)
    -- a live table of the same name whose heir is not the manager is not taken for it
    local imposter = hl.table.new("impost", {})
    hl.store.put("tablemgr/tablemgr", "impost", { table = imposter, tname = "impost", opts = {} })
    assert(tm.start_link())
    assert.are.same({}, tm.info())
    assert.are.same({}, registry())
    local t, created = tm.manage("ghost")
    assert.is_true(created)
    assert.are_not.equal(gone, t)
    assert.are.equal(hl.self(), imposter:info().owner)
  end)

  it("without a data_dir lives as long as the node: a new node starts with none", function()
    start(2)
    assert(tm.start_link())
    tm.manage("a")
    local dir = hl.store.dir(true)
    assert.are.equal(1, count_keys(registry()))
    stop()
    start(2)
    assert.are_not.equal(dir, hl.store.dir(true))
    assert.are.same({}, registry())
    assert(tm.start_link())
    assert.are.same({}, tm.info())
  end)

  it("in a data_dir: a durable table comes back to its manager after a node restart, " ..
      "an entry for a lost table is dropped", function()
    local dir = os.tmpname()
    os.remove(dir)
    start(2, { data_dir = dir })
    assert(tm.start_link())
    local c = start_client({ name = "c", table = "dur", topts = { durable = true, named = true } })
    local _, t = up("c")
    call("c", "fill", 25)
    tm.manage("mem")                        -- not durable: lost with the node
    local p = hl.spawn("tm_worker", "manage_and_wait", hl.self(), "tablemgr", "dur2",
      { durable = true })
    expect(S.tagged("managed", p))
    kill(p)
    stop()

    start(2, { data_dir = dir })
    assert.are.equal(3, count_keys(registry()))
    assert(tm.start_link())
    assert.are.same({ "dur", "dur2" },
      (function() local o = {} for i, e in ipairs(tm.info()) do o[i] = e.name end return o end)())
    for _, e in ipairs(tm.info()) do assert.are.equal("held", e.state) end
    assert.is_nil(registry()["mem"])
    start_client({ name = "c", table = "dur", topts = { durable = true, named = true } })
    local _, t2, created = up("c")
    assert.is_false(created)
    assert.are.equal(hl.table.whereis("dur"), t2)
    assert_filled(t2, 25)
    local t3, created3 = tm.manage("mem")
    assert.is_true(created3)
    assert.are.equal(0, t3:info().size)
    stop()
    os.execute("rm -rf '" .. dir .. "'")
  end)
end)

-- ---------------------------------------------------------------- API errors

describe("table handles read back from the store", function()
  after_each(stop)

  -- Table ids start again at 1 with each node; a handle decoded from the
  -- previous run's records names an id no table of this run has yet. The
  -- host's handle for that id must come alive with the table that gets it
  -- (it stayed "dropped" for ever: the registry then broke the first
  -- tables created after a restart).
  it("come alive when a table of this run gets their id", function()
    local dir = os.tmpname()
    os.remove(dir)
    start(2, { data_dir = dir })
    local ids = {}
    for i = 1, 5 do
      local t = hl.table.new("t" .. i, {})
      hl.store.put("ns", i, t)
      ids[i] = t:info().id
    end
    stop()
    start(2, { data_dir = dir })
    local old = {}
    for i = 1, 5 do old[i] = hl.store.get("ns", i) end   -- ids no table has yet
    assert.has_error(function() old[1]:info() end, "heirloom.table.info: the table has been dropped")
    for i = 1, 5 do
      local t = hl.table.new("n" .. i, {})
      assert.are.equal(ids[i], t:info().id)
      assert.are.equal(old[i], t)                         -- the same id, the same handle
      t:insert({ i })
      assert.are.same({ { i } }, old[i]:tab2list())
    end
    stop()
    os.execute("rm -rf '" .. dir .. "'")
  end)
end)

describe("hl.table.claim with a handle", function()
  after_each(stop)

  -- The manager claims its own tables back by handle: by name, a claim
  -- takes the oldest unnamed table of that name in custody, which may be
  -- another's.
  it("claims exactly that table", function()
    start(2)
    local function orphan(tag)
      local p = hl.spawn(function(host, tag)
        local hl = require("heirloom")
        local t = hl.table.new("same", { custody = true })
        t:insert({ tag })
        hl.send(host, { "made", t })
        hl.receive()
      end, hl.self(), tag)
      local t = expect(S.tagged("made"))[2]
      kill(p)
      return t
    end
    local first, second = orphan("first"), orphan("second")
    assert.is_nil(second:info().owner)
    assert.are.equal(second, hl.table.claim(second))
    assert.are.equal(hl.self(), second:info().owner)
    assert.is_nil(first:info().owner)                  -- not the older one
    assert.are.same({ { "second" } }, second:tab2list())
    assert.are.equal("heirloom.table.claim: the caller already owns the table",
      err_of(hl.table.claim, second))
    local mine = hl.table.new("mine", {})
    mine:drop()
    assert.are.equal("heirloom.table.claim: the table has been dropped", err_of(hl.table.claim, mine))
    assert.are.equal("heirloom.table.claim: name must be a string or a table handle (got number)",
      err_of(hl.table.claim, 42))
  end)
end)

describe("the API's errors", function()
  before_each(function() start(2) end)
  after_each(stop)

  it("names the function and the argument", function()
    assert(tm.start_link())
    local cases = {
      { 'heirloom.tablemgr.manage: name must be a non-empty string (got number)', tm.manage, 1 },
      { 'heirloom.tablemgr.manage: name must be a non-empty string (got an empty string)',
        tm.manage, "" },
      { 'heirloom.tablemgr.manage: table_opts must be a table (got string)', tm.manage, "x", "set" },
      { 'heirloom.tablemgr.manage: table_opts: unknown option "tpye"', tm.manage, "x",
        { tpye = "set" } },
      { 'heirloom.tablemgr.manage: table_opts.heir: the manager sets the heir (itself, by its ' ..
        'registered name); leave it out', tm.manage, "x", { heir = "me" } },
      { 'heirloom.tablemgr.manage: table_opts.type: expected a string, number or boolean (got table)',
        tm.manage, "x", { type = {} } },
      { 'heirloom.tablemgr.manage: mgr (the manager\'s registered name) must be a non-empty string ' ..
        '(got number)', tm.manage, "x", {}, 5 },
      { 'heirloom.tablemgr.manage: opts: unknown option "retry"', tm.manage, "x", {}, nil,
        { retry = 1 } },
      { 'heirloom.tablemgr.manage: opts.timeout must be a non-negative integer of milliseconds ' ..
        '(got -1)', tm.manage, "x", {}, nil, { timeout = -1 } },
      { 'heirloom.tablemgr.release: name must be a non-empty string (got nil)', tm.release },
      { 'heirloom.tablemgr.info: mgr (the manager\'s registered name) must be a non-empty string ' ..
        '(got table)', tm.info, {} },
      { 'heirloom.tablemgr.start_link: opts must be a table (got string)', tm.start_link, "x" },
      { 'heirloom.tablemgr.start_link: opts: unknown option "nmae"', tm.start_link, { nmae = "x" } },
      { 'heirloom.tablemgr.start_link: opts.name must be a non-empty string (got number)',
        tm.start_link, { name = 3 } },
    }
    for _, c in ipairs(cases) do
      local e, at = err_of(c[2], table.unpack(c, 3, 6))
      assert.are.equal(c[1], e)
      assert.is_truthy(at and at:find("tablemgr_spec.lua", 1, true), "position: " .. tostring(at))
    end
    assert.are.same({}, tm.info())
  end)

  it("bad table options come back from hl.table.new with the table's name", function()
    assert(tm.start_link())
    assert.are.equal('heirloom.tablemgr.manage: table "x" cannot be created: ' ..
      'opts.type must be one of \'set\', \'ordered_set\', \'bag\', \'duplicate_bag\'',
      err_of(tm.manage, "x", { type = "sett" }))
    assert.is_truthy(err_of(tm.manage, "d", { durable = true })
      :find('table "d" cannot be created: durable tables need a node started with data_dir', 1, true))
    assert.are.same({}, tm.info())
    assert.are.same({}, registry())
  end)

  it("an unknown manager: an error once retry_for has passed", function()
    local t0 = hl.now()
    assert.are.equal('heirloom.tablemgr.manage: no table manager is running as "nobody" ' ..
      '(waited 50 ms)', err_of(tm.manage, "x", {}, "nobody", { retry_for = 50 }))
    assert.are.equal('heirloom.tablemgr.info: no table manager is running as "tablemgr" ' ..
      '(waited 0 ms)', err_of(tm.info, nil, { retry_for = 0 }))
    assert.is_true(hl.now() - t0 < 2000)
  end)

  it("a second manager under a taken name is not started", function()
    local m = assert(tm.start_link())
    local pid, why = tm.start_link()
    assert.is_nil(pid)
    assert.are.same({ "already_started", m }, why)
  end)
end)
