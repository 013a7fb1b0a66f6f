-- supervisor_spec.lua — hl.supervisor: spec validation, ordered start and
-- shutdown, the restart types and the four strategies, restart intensity
-- on a millisecond clock, shutdown timeouts escalating to kill, dynamic
-- children, nested supervisors, every API's errors, and the reports.
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local hl = S.hl
local expect, none = S.expect, S.none
local exit_from, dead = S.exit_from, S.dead

-- The message of the error f raises, without the position of the call
-- (which must be this file's: the error is the caller's).
local function err_of(f, ...)
  local ok, e = pcall(function(...)
    local r = f(...)            -- not a tail call: this line is the caller
    return r
  end, ...)
  assert.is_false(ok, "expected an error")
  assert.are.equal("string", type(e))
  local at, rest = e:match("^([^:]*):%d+: (.*)$")
  assert.is_truthy(at and at:find("supervisor_spec.lua", 1, true), "position of the error: " .. e)
  return rest
end

local function worker(id, opts, extra)
  local c = { id = id, start = { "sup_worker", "start_link", hl.self(), id, opts } }
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end

-- {tag, id, ...} from the workers
local function msg(tag, id)
  return function(m) return type(m) == "table" and m[1] == tag and (id == nil or m[2] == id) end
end

local function started(id) return expect(msg("started", id), 3000, "started " .. tostring(id))[3] end
local function stopping(id) return expect(msg("stopping", id), 3000, "stopping " .. tostring(id)) end

local function children_by_id(sup)
  local out = {}
  for _, c in ipairs(hl.supervisor.which_children(sup)) do out[c.id] = c end
  return out
end

local function ids(sup)
  local out = {}
  for i, c in ipairs(hl.supervisor.which_children(sup)) do out[i] = c.id end
  return out
end

-- The captured log lines containing text (plain).
local logs = {}
local function logged(text)
  for _, l in ipairs(hl.logs()) do logs[#logs + 1] = l end
  local found = {}
  for _, l in ipairs(logs) do
    if l:find(text, 1, true) then found[#found + 1] = l end
  end
  return found
end

local function crash(pid, why)
  hl.send(pid, { "crash", why or "boom" })
end

describe("hl.supervisor", function()
  before_each(function()
    logs = {}
    hl.start{ schedulers = 2, logger = "capture" }
  end)
  after_each(function() pcall(hl.stop) end)

  -- ------------------------------------------------------------ spec validation
  describe("spec validation", function()
    local function spec_error(spec)
      return err_of(hl.supervisor.start_link, spec)
    end
    local P = "heirloom.supervisor.start_link: "
    local ok_start = { "sup_worker", "start_link" }

    it("refuses a spec that is not a table, and unknown fields", function()
      assert.are.equal(P .. "spec must be a table (got string)", spec_error("x"))
      assert.are.equal(P .. "spec must be a table (got nil)", spec_error(nil))
      assert.are.equal(P .. 'spec: unknown field "stratgy"', spec_error{ stratgy = "one_for_one" })
      assert.are.equal(P .. 'children[1]: unknown field "restrt"',
        spec_error{ children = { { id = "a", start = ok_start, restrt = "permanent" } } })
      assert.are.equal(P .. "children[1]: expected a child spec (a table), got \"a\"",
        spec_error{ children = { "a" } })
    end)

    it("names an unknown strategy", function()
      assert.are.equal(P .. 'strategy: expected "one_for_one", "one_for_all", "rest_for_one" or '
        .. '"simple_one_for_one", got "one_for_none"', spec_error{ strategy = "one_for_none" })
      assert.are.equal(P .. 'strategy: expected "one_for_one", "one_for_all", "rest_for_one" or '
        .. '"simple_one_for_one", got 3', spec_error{ strategy = 3 })
    end)

    it("names a duplicate id and where it was first", function()
      assert.are.equal(P .. 'children[3].id: duplicate id "a" (children[1] has it)',
        spec_error{ children = { { id = "a", start = ok_start }, { id = "b", start = ok_start },
                                 { id = "a", start = ok_start } } })
    end)

    it("names a missing or malformed start", function()
      assert.are.equal(P .. "children[2].start: missing ({module, fname, args...})",
        spec_error{ children = { { id = "a", start = ok_start }, { id = "b" } } })
      assert.are.equal(P .. 'children[1].start: expected a table {module, fname, args...}, got "m"',
        spec_error{ children = { { id = "a", start = "m" } } })
      assert.are.equal(P .. "children[1].start: expected an array {module, fname, args...} of at least 2 elements",
        spec_error{ children = { { id = "a", start = { "m" } } } })
      assert.are.equal(P .. "children[1].start: expected an array {module, fname, args...} without holes or other keys",
        spec_error{ children = { { id = "a", start = { "m", "f", x = 1 } } } })
      assert.are.equal(P .. "children[1].start[1]: expected a module name (a non-empty string), got 5",
        spec_error{ children = { { id = "a", start = { 5, "f" } } } })
      assert.are.equal(P .. 'children[1].start[2]: expected a function name (a non-empty string), got ""',
        spec_error{ children = { { id = "a", start = { "m", "" } } } })
      assert.are.equal(P .. "children[1].start[3]: cannot encode a function",
        spec_error{ children = { { id = "a", start = { "m", "f", print } } } })
    end)

    it("names a bad restart, shutdown, type and id", function()
      local function child(fields)
        local c = { id = "a", start = ok_start }
        for k, v in pairs(fields) do c[k] = v end
        return spec_error{ children = { { id = "z", start = ok_start }, c } }
      end
      assert.are.equal(P .. 'children[2].restart: expected "permanent", "transient" or "temporary", got "sometimes"',
        child{ restart = "sometimes" })
      local shut = 'children[2].shutdown: expected "brutal_kill", "infinity" or a non-negative integer of milliseconds, got '
      assert.are.equal(P .. shut .. "-1", child{ shutdown = -1 })
      assert.are.equal(P .. shut .. "1.5", child{ shutdown = 1.5 })
      assert.are.equal(P .. shut .. '"soon"', child{ shutdown = "soon" })
      assert.are.equal(P .. 'children[2].type: expected "worker" or "supervisor", got "manager"',
        child{ type = "manager" })
      assert.are.equal(P .. "children[2].id: missing (a non-empty string)",
        spec_error{ children = { { id = "z", start = ok_start }, { start = ok_start } } })
      assert.are.equal(P .. "children[2].id: expected a non-empty string, got false", child{ id = false })
      assert.are.equal(P .. "children[2].id: expected a non-empty string, got 7", child{ id = 7 })
      assert.are.equal(P .. 'children[2].id: expected a non-empty string, got ""', child{ id = "" })
    end)

    it("names bad intensity, period and name fields", function()
      assert.are.equal(P .. "intensity: expected an integer from 0 to 1000000, got -1", spec_error{ intensity = -1 })
      assert.are.equal(P .. "intensity: expected an integer from 0 to 1000000, got 1.5", spec_error{ intensity = 1.5 })
      assert.are.equal(P .. 'intensity: expected an integer from 0 to 1000000, got "3"', spec_error{ intensity = "3" })
      assert.are.equal(P .. "period: expected a positive number of seconds, got 0", spec_error{ period = 0 })
      assert.are.equal(P .. 'period: expected a positive number of seconds, got "5"', spec_error{ period = "5" })
      assert.are.equal(P .. "period: 0.0001 seconds is less than the clock's 1 ms", spec_error{ period = 0.0001 })
      assert.are.equal(P .. "period_ms: expected a positive integer of milliseconds, got 0", spec_error{ period_ms = 0 })
      assert.are.equal(P .. "period_ms: expected a positive integer of milliseconds, got 2.5", spec_error{ period_ms = 2.5 })
      assert.are.equal(P .. "period: give period (seconds) or period_ms, not both",
        spec_error{ period = 1, period_ms = 1000 })
      assert.are.equal(P .. 'name: expected a non-empty string, got ""', spec_error{ name = "" })
      assert.are.equal(P .. "name: expected a non-empty string, got 5", spec_error{ name = 5 })
    end)

    it("wants children as an array, and one template for simple_one_for_one", function()
      assert.are.equal(P .. "children: expected an array of child specs, got a table with other keys",
        spec_error{ children = { a = { id = "a", start = ok_start } } })
      assert.are.equal(P .. 'children: expected an array of child specs, got "a"', spec_error{ children = "a" })
      assert.are.equal(P .. "children: a simple_one_for_one supervisor has exactly one child spec (the template), got 0",
        spec_error{ strategy = "simple_one_for_one" })
      assert.are.equal(P .. "children: a simple_one_for_one supervisor has exactly one child spec (the template), got 2",
        spec_error{ strategy = "simple_one_for_one",
                    children = { { id = "a", start = ok_start }, { id = "b", start = ok_start } } })
    end)

    it("starts no process for a refused spec", function()
      local n = S.nprocs()
      spec_error{ children = { { id = "a", start = ok_start, restart = "sometimes" } } }
      assert.are.equal(n, S.nprocs())
    end)

    it("accepts a minimal spec and applies the defaults", function()
      local sup = assert(hl.supervisor.start_link{ children = { worker("a") } })
      started("a")
      local c = hl.supervisor.which_children(sup)[1]
      assert.are.same({ id = "a", pid = c.pid, type = "worker", restart = "permanent" }, c)
      assert.are.same({ specs = 1, active = 1, supervisors = 0, workers = 1 },
        hl.supervisor.count_children(sup))
      local empty = assert(hl.supervisor.start_link{})
      assert.are.same({}, hl.supervisor.which_children(empty))
    end)
  end)

  -- ------------------------------------------------------------ start and shutdown order
  describe("start and shutdown", function()
    it("starts left to right and shuts down right to left", function()
      local trap = { trap = true }
      local sup = assert(hl.supervisor.start_link{ name = "ordered",
        children = { worker("a", trap), worker("b", trap), worker("c", trap) } })
      local order = {}
      for _ = 1, 3 do order[#order + 1] = expect(msg("started"))[2] end
      assert.are.same({ "a", "b", "c" }, order)
      assert.are.same({ "a", "b", "c" }, ids(sup))
      assert.are.equal(sup, hl.whereis("ordered"))
      hl.exit(sup, "shutdown")               -- from the parent: the supervisor terminates
      order = {}
      for _ = 1, 3 do
        local m = expect(msg("stopping"))
        assert.are.equal("shutdown", m[3])
        order[#order + 1] = m[2]
      end
      assert.are.same({ "c", "b", "a" }, order)
      assert.are.equal("shutdown", expect(exit_from(sup))[3])
      assert.is_true(dead(sup))
      assert.is_nil(hl.whereis("ordered"))
    end)

    it("a failing start undoes the children started before it", function()
      local trap = { trap = true }
      local n = S.nprocs()
      local sup, reason = hl.supervisor.start_link{ name = "undone", children = {
        worker("a", trap), worker("b", trap),
        { id = "c", start = { "sup_worker", "fail_start", hl.self(), "c", "no database" } },
        worker("d", trap) } }
      assert.is_nil(sup)
      assert.are.same({ "failed_to_start_child", "c", "no database" }, reason)
      assert.are.equal("a", expect(msg("started"))[2])
      assert.are.equal("b", expect(msg("started"))[2])
      assert.are.equal("b", stopping("b")[2])
      assert.are.equal("a", stopping("a")[2])
      none(msg("started", "d"), 100, "d must not start")
      none(function(m) return type(m) == "table" and m[1] == "EXIT" end, 100, "no exit signal")
      assert.is_nil(hl.whereis("undone"))
      assert.is_true(S.wait_until(function() return S.nprocs() == n end, 3000))
      assert.are.equal(1, #logged('child "c" failed to start, reason: "no database"'))
    end)

    it("reports each way a start function can fail", function()
      local function reason_of(start)
        local sup, reason = hl.supervisor.start_link{ children = { { id = "x", start = start } } }
        assert.is_nil(sup)
        assert.are.equal("failed_to_start_child", reason[1])
        assert.are.equal("x", reason[2])
        return reason[3]
      end
      local me = hl.self()
      local r = reason_of{ "sup_worker", "raise_start", me, "x", "kaboom" }
      assert.are.equal("kaboom", r.error)
      assert.is_truthy(r.traceback:find("raise_start", 1, true))
      r = reason_of{ "sup_worker", "bad_return", me, "x" }
      assert.are.equal("sup_worker.bad_return returned a number, expected a pid (or nil, reason)", r.error)
      r = reason_of{ "no_such_module_xyz", "start_link" }
      assert.is_truthy(r.error:find("cannot load module 'no_such_module_xyz'", 1, true))
      r = reason_of{ "sup_worker", "no_such_function" }
      assert.are.equal("module 'sup_worker' has no function 'no_such_function'", r.error)
      r = reason_of{ "sup_worker", "fail_start", me, "x" }    -- nil without a reason
      assert.are.equal("sup_worker.fail_start returned nil", r.error)
    end)

    it("refuses a name that is taken", function()
      local first = assert(hl.supervisor.start_link{ name = "taken_sup" })
      local sup, why = hl.supervisor.start_link{ name = "taken_sup" }
      assert.is_nil(sup)
      assert.are.same({ "already_started", first }, why)
    end)

    it("stop shuts the children down and ends the supervisor normally", function()
      local sup = assert(hl.supervisor.start_link{ children = { worker("a", { trap = true }) } })
      local a = started("a")
      assert.is_true(hl.supervisor.stop(sup))
      assert.are.equal("shutdown", stopping("a")[3])
      assert.are.equal("normal", expect(exit_from(sup))[3])
      assert.is_true(dead(a))
    end)

    it("links a child whose start function did not", function()
      local sup = assert(hl.supervisor.start_link{ children = {
        { id = "u", start = { "sup_worker", "start_unlinked", hl.self(), "u" } } } })
      local u = started("u")
      crash(u)
      local u2 = started("u")
      assert.are_not.equal(u, u2)
      assert.are.equal(u2, children_by_id(sup).u.pid)
    end)

    it("killing the supervisor takes its children with it", function()
      local sup = assert(hl.supervisor.start_link{ children = { worker("a"), worker("b") } })
      local a, b = started("a"), started("b")
      hl.exit(sup, "kill")
      assert.are.equal("killed", expect(exit_from(sup))[3])
      assert.is_true(dead(a))
      assert.is_true(dead(b))
    end)
  end)

  -- ------------------------------------------------------------ restart types
  describe("restart types", function()
    it("transient: a normal exit is not restarted and its spec stays", function()
      local sup = assert(hl.supervisor.start_link{ children = { worker("t", nil, { restart = "transient" }) } })
      local t = started("t")
      hl.send(t, "stop")
      assert.is_true(dead(t))
      none(msg("started", "t"), 150, "no restart")
      local c = hl.supervisor.which_children(sup)[1]
      assert.are.equal("t", c.id)
      assert.is_nil(c.pid)
      assert.are.same({ specs = 1, active = 0, supervisors = 0, workers = 1 }, hl.supervisor.count_children(sup))
      assert.are.equal(0, #logged("terminated"))
    end)

    it("transient: exits with shutdown and {\"shutdown\", x} are not restarted", function()
      local sup = assert(hl.supervisor.start_link{ children = {
        worker("t1", nil, { restart = "transient" }), worker("t2", nil, { restart = "transient" }) } })
      local t1, t2 = started("t1"), started("t2")
      hl.send(t1, { "exit", "shutdown" })
      hl.send(t2, { "exit", { "shutdown", "done" } })
      assert.is_true(dead(t1) and dead(t2))
      none(msg("started"), 150, "no restart")
      assert.is_nil(children_by_id(sup).t1.pid)
      assert.is_nil(children_by_id(sup).t2.pid)
    end)

    it("transient: an error is restarted and reported", function()
      local sup = assert(hl.supervisor.start_link{ children = { worker("t", nil, { restart = "transient" }) } })
      local t = started("t")
      crash(t, "transient failure")
      local t2 = started("t")
      assert.are_not.equal(t, t2)
      assert.are.equal(t2, children_by_id(sup).t.pid)
      -- reported once: the crash report has the reason, the supervisor's points at it
      local lines = logged('child "t" ' .. tostring(t) .. " terminated (its crash report has the reason)")
      assert.are.equal(1, #lines)
      assert.is_nil(lines[1]:find("transient failure", 1, true))
      assert.are.equal(1, #logged("transient failure"))
      assert.is_truthy(logged("transient failure")[1]:find("=CRASH REPORT==== process " .. tostring(t), 1, true))
    end)

    it("permanent: even a normal exit is restarted", function()
      local sup = assert(hl.supervisor.start_link{ children = { worker("p") } })
      local p = started("p")
      hl.send(p, "stop")
      local p2 = started("p")
      assert.are_not.equal(p, p2)
      assert.are.equal(p2, children_by_id(sup).p.pid)
      assert.are.equal(1, #logged('child "p" ' .. tostring(p) .. ' terminated, reason: "normal"'))
    end)

    it("temporary: never restarted, and its spec is removed", function()
      local sup = assert(hl.supervisor.start_link{ children = {
        worker("x", nil, { restart = "temporary" }), worker("y", nil, { restart = "temporary" }) } })
      local x, y = started("x"), started("y")
      crash(x)
      hl.send(y, "stop")
      assert.is_true(dead(x) and dead(y))
      none(msg("started"), 150, "no restart")
      assert.are.same({}, hl.supervisor.which_children(sup))
      assert.are.equal(1, #logged('child "x" ' .. tostring(x) .. " terminated"))   -- y exited normally
    end)
  end)

  -- ------------------------------------------------------------ strategies
  describe("strategies", function()
    local trap = { trap = true }

    it("one_for_one restarts only the child that failed", function()
      local sup = assert(hl.supervisor.start_link{ strategy = "one_for_one",
        children = { worker("a", trap), worker("b", trap), worker("c", trap) } })
      local a, b, c = started("a"), started("b"), started("c")
      crash(b)
      local b2 = started("b")
      none(msg("stopping"), 100, "nobody else stopped")
      local now = children_by_id(sup)
      assert.are.equal(a, now.a.pid)
      assert.are.equal(b2, now.b.pid)
      assert.are.equal(c, now.c.pid)
    end)

    it("one_for_all restarts every child; a temporary one is stopped and removed", function()
      local sup = assert(hl.supervisor.start_link{ strategy = "one_for_all", children = {
        worker("a", trap), worker("t", trap, { restart = "temporary" }), worker("c", trap) } })
      local a, t, c = started("a"), started("t"), started("c")
      crash(a)
      local m1, m2 = stopping(), stopping()
      assert.are.same({ "c", "t" }, { m1[2], m2[2] })     -- right to left
      assert.are.equal("shutdown", m1[3])
      local s1, s2 = expect(msg("started")), expect(msg("started"))
      assert.are.same({ "a", "c" }, { s1[2], s2[2] })     -- left to right, t not again
      assert.is_true(dead(t) and dead(c) and dead(a))
      assert.are.same({ "a", "c" }, ids(sup))
      local now = children_by_id(sup)
      assert.are.equal(s1[3], now.a.pid)
      assert.are.equal(s2[3], now.c.pid)
    end)

    it("rest_for_one restarts the failed child and those after it", function()
      local sup = assert(hl.supervisor.start_link{ strategy = "rest_for_one",
        children = { worker("a", trap), worker("b", trap), worker("c", trap), worker("d", trap) } })
      local a = started("a")
      started("b"); started("c"); started("d")
      crash(children_by_id(sup).b.pid)
      assert.are.equal("d", stopping()[2])
      assert.are.equal("c", stopping()[2])
      assert.are.equal("b", expect(msg("started"))[2])
      assert.are.equal("c", expect(msg("started"))[2])
      assert.are.equal("d", expect(msg("started"))[2])
      none(msg("stopping", "a"), 100, "a untouched")
      assert.are.equal(a, children_by_id(sup).a.pid)
    end)

    it("one_for_all starts again a child that had exited normally, as OTP does", function()
      local sup = assert(hl.supervisor.start_link{ strategy = "one_for_all", children = {
        worker("a"), worker("t", nil, { restart = "transient" }) } })
      local a = started("a")
      local t = started("t")
      hl.send(t, "stop")
      assert.is_true(dead(t))
      crash(a)
      started("a")
      started("t")
      assert.are.equal(2, hl.supervisor.count_children(sup).active)
    end)
  end)

  -- ------------------------------------------------------------ intensity
  describe("restart intensity", function()
    it("exceeded: the supervisor shuts its children down, exits shutdown, and says so", function()
      local sup = assert(hl.supervisor.start_link{ name = "fragile", intensity = 1, period = 5,
        children = { worker("a"), worker("b", { trap = true }) } })
      local a, b = started("a"), started("b")
      crash(a)
      local a2 = started("a")
      crash(a2)
      assert.are.equal("shutdown", stopping("b")[3])
      assert.are.equal("shutdown", expect(exit_from(sup))[3])
      assert.is_true(dead(sup) and dead(b))
      assert.are.equal(1, #logged("restart intensity reached (more than 1 restarts within 5000 ms), shutting down"))
      assert.is_nil(hl.whereis("fragile"))
    end)

    it("intensity 0: the first restart is one too many", function()
      local sup = assert(hl.supervisor.start_link{ intensity = 0, children = { worker("a") } })
      crash(started("a"))
      assert.are.equal("shutdown", expect(exit_from(sup))[3])
    end)

    it("counts in milliseconds: restarts further apart than period_ms never add up", function()
      local sup = assert(hl.supervisor.start_link{ intensity = 1, period_ms = 40, children = { worker("a") } })
      local a = started("a")
      for _ = 1, 3 do
        hl.sleep(120)                         -- three window lengths: the last restart has left it
        crash(a)
        a = started("a")
      end
      assert.is_not_nil(hl.process_info(sup))
      none(exit_from(sup), 50, "the supervisor stays")
    end)

    it("a fractional period is measured in milliseconds too", function()
      local sup = assert(hl.supervisor.start_link{ intensity = 1, period = 0.04, children = { worker("a") } })
      local a = started("a")
      hl.sleep(120)
      crash(a)
      a = started("a")
      hl.sleep(120)
      crash(a)
      started("a")
      assert.is_not_nil(hl.process_info(sup))
      -- and inside the window two restarts are too many
      local sup2 = assert(hl.supervisor.start_link{ intensity = 1, period = 30, children = { worker("q") } })
      crash(started("q"))
      crash(started("q"))
      assert.are.equal("shutdown", expect(exit_from(sup2))[3])
    end)

    it("a restart that fails to start counts, until the supervisor gives up", function()
      local flags = hl.table.new("sup_flags", { named = true })
      flags:insert({ "fail", false })
      local sup = assert(hl.supervisor.start_link{ intensity = 3, period = 10, children = {
        { id = "f", start = { "sup_worker", "start_unless_told", hl.self(), "f", "sup_flags" } } } })
      local f = started("f")
      flags:insert({ "fail", true })
      crash(f)
      -- one crash and three failed starts: the fourth restart within the window
      for _ = 1, 3 do expect(msg("start_called", "f")) end
      assert.are.equal("shutdown", expect(exit_from(sup))[3])
      assert.are.equal(3, #logged('child "f" failed to start, reason: "told to fail"'))
      assert.are.equal(1, #logged("restart intensity reached"))
    end)

    it("a restart that fails is tried again and succeeds when it can", function()
      local flags = hl.table.new("sup_flags2", { named = true })
      flags:insert({ "fail", false })
      local sup = assert(hl.supervisor.start_link{ strategy = "one_for_all", intensity = 1000, period = 10,
        children = { worker("a", { trap = true }),
                     { id = "f", start = { "sup_worker", "start_unless_told", hl.self(), "f", "sup_flags2" } } } })
      started("a")
      local f = started("f")
      flags:insert({ "fail", true })
      crash(f)
      expect(msg("start_called", "f"))         -- the restart failed (a was restarted first)
      flags:insert({ "fail", false })
      assert.is_truthy(S.wait_until(function()
        local c = children_by_id(sup)
        return c.f.pid ~= nil and c.a.pid ~= nil
      end, 3000))
      assert.is_not_nil(hl.process_info(sup))
    end)
    it("terminate_child during failed restarts stops the retries", function()
      local flags = hl.table.new("sup_flags4", { named = true })
      flags:insert({ "fail", false })
      local sup = assert(hl.supervisor.start_link{ intensity = 100000, period = 10, children = {
        { id = "f", start = { "sup_worker", "start_unless_told", hl.self(), "f", "sup_flags4" } } } })
      local f = started("f")
      flags:insert({ "fail", true })
      crash(f)
      expect(msg("start_called", "f"))        -- failing, and tried again and again
      assert.is_true(hl.supervisor.terminate_child(sup, "f"))
      flags:insert({ "fail", false })
      none(msg("started", "f"), 200, "no restart after terminate_child")
      assert.is_nil(children_by_id(sup).f.pid)
      assert.is_not_nil(hl.process_info(sup))
      S.drain()
    end)
  end)

  -- ------------------------------------------------------------ shutdown
  describe("child shutdown", function()
    it("a child that ignores the shutdown signal is killed after the timeout", function()
      local sup = assert(hl.supervisor.start_link{ children = {
        worker("s", { stubborn = true }, { shutdown = 100 }) } })
      local s = started("s")
      local ref = hl.monitor(s)
      assert.is_true(hl.supervisor.terminate_child(sup, "s"))
      assert.are.equal("shutdown", expect(msg("ignored", "s"))[3])
      local down = expect(function(m) return type(m) == "table" and m[1] == "DOWN" and m[2] == ref end)
      assert.are.equal("killed", down[4])
      assert.are.equal(1, #logged('child "s" ' .. tostring(s) .. ' shutdown error, reason: "killed"'))
      assert.is_nil(children_by_id(sup).s.pid)
    end)

    it("a child that obeys within the timeout is not killed, and nothing is reported", function()
      local sup = assert(hl.supervisor.start_link{ children = {
        worker("s", { trap = true }, { shutdown = 5000 }) } })
      local s = started("s")
      local ref = hl.monitor(s)
      assert.is_true(hl.supervisor.terminate_child(sup, "s"))
      assert.are.equal("shutdown", stopping("s")[3])
      local down = expect(function(m) return type(m) == "table" and m[1] == "DOWN" and m[2] == ref end)
      assert.are.equal("shutdown", down[4])
      assert.are.equal(0, #logged("shutdown error"))
    end)

    it("brutal_kill kills at once, even a trapping child", function()
      local sup = assert(hl.supervisor.start_link{ children = {
        worker("k", { trap = true }, { shutdown = "brutal_kill" }) } })
      local k = started("k")
      local ref = hl.monitor(k)
      assert.is_true(hl.supervisor.terminate_child(sup, "k"))
      local down = expect(function(m) return type(m) == "table" and m[1] == "DOWN" and m[2] == ref end)
      assert.are.equal("killed", down[4])
      none(msg("stopping", "k"), 50, "no shutdown signal first")
      assert.are.equal(0, #logged("shutdown error"))
    end)

    it("infinity waits for the child however long it takes", function()
      local sup = assert(hl.supervisor.start_link{ children = {
        worker("i", { trap = true }, { shutdown = "infinity" }) } })
      started("i")
      assert.is_true(hl.supervisor.terminate_child(sup, "i"))
      assert.are.equal("shutdown", stopping("i")[3])
    end)
  end)

  -- ------------------------------------------------------------ dynamic children
  describe("simple_one_for_one", function()
    local function pool(restart)
      return assert(hl.supervisor.start_link{ strategy = "simple_one_for_one", children = {
        { id = "w", start = { "sup_worker", "start_link", hl.self() }, restart = restart or "transient" } } })
    end

    it("starts no child at first; start_child appends its args to the template's", function()
      local sup = pool()
      assert.are.same({}, hl.supervisor.which_children(sup))
      local p1 = assert(hl.supervisor.start_child(sup, { "w1" }))
      local p2 = assert(hl.supervisor.start_child(sup, { "w2", { trap = true } }))
      assert.are.equal(p1, started("w1"))
      assert.are.equal(p2, started("w2"))
      local list = hl.supervisor.which_children(sup)
      assert.are.equal(2, #list)
      assert.is_nil(list[1].id)
      assert.are.same({ p1, p2 }, { list[1].pid, list[2].pid })
      assert.are.same({ specs = 2, active = 2, supervisors = 0, workers = 2 }, hl.supervisor.count_children(sup))
      hl.exit(sup, "shutdown")
      assert.are.equal("shutdown", stopping("w2")[3])
      assert.is_true(dead(p1))
    end)

    it("restarts a crashed child with the same args, forgets one that is done", function()
      local sup = pool()
      local p1 = hl.supervisor.start_child(sup, { "w1" })
      local p2 = hl.supervisor.start_child(sup, { "w2" })
      assert.are.same({ p1, p2 }, { started("w1"), started("w2") })
      crash(p1)
      local p1b = started("w1")
      assert.are_not.equal(p1, p1b)
      hl.send(p2, "stop")
      assert.is_true(dead(p2))
      assert.is_true(S.wait_until(function() return #hl.supervisor.which_children(sup) == 1 end, 2000))
      assert.are.equal(p1b, hl.supervisor.which_children(sup)[1].pid)
    end)

    it("terminate_child takes a pid and removes the child; the rest refuse", function()
      local sup = pool()
      local p1 = hl.supervisor.start_child(sup, { "w1", { trap = true } })
      assert.is_true(hl.supervisor.terminate_child(sup, p1))
      assert.are.equal("shutdown", stopping("w1")[3])
      assert.are.same({}, hl.supervisor.which_children(sup))
      assert.are.same({ nil, "not_found" }, { hl.supervisor.terminate_child(sup, p1) })
      assert.are.same({ nil, "not_found" }, { hl.supervisor.terminate_child(sup, "w") })
      assert.are.same({ nil, "simple_one_for_one" }, { hl.supervisor.restart_child(sup, "w") })
      assert.are.same({ nil, "simple_one_for_one" }, { hl.supervisor.delete_child(sup, "w") })
    end)

    it("start_child errors: bad args, a failing start", function()
      local sup = pool()
      assert.are.equal("heirloom.supervisor.start_child: args must be an array of extra start "
        .. "arguments for a simple_one_for_one supervisor (got a table with other keys)",
        err_of(hl.supervisor.start_child, sup, { id = "x" }))
      local bad = assert(hl.supervisor.start_link{ strategy = "simple_one_for_one", children = {
        { id = "w", start = { "sup_worker", "fail_start", hl.self() } } } })
      assert.are.same({ nil, "nope" }, { hl.supervisor.start_child(bad, { "w9", "nope" }) })
      assert.are.same({}, hl.supervisor.which_children(bad))
      assert.is_not_nil(hl.process_info(sup))
    end)
  end)

  -- ------------------------------------------------------------ nested
  describe("nested supervisors", function()
    local function inner_spec(intensity, trap)
      return { name = "inner", intensity = intensity, period = 10,
               children = { worker("w1", { trap = trap }), worker("w2", { trap = trap }) } }
    end

    it("a child supervisor's children are shut down in order with it", function()
      local top = assert(hl.supervisor.start_link{ name = "top", children = {
        worker("first", { trap = true }),
        { id = "inner", type = "supervisor", start = { "heirloom.supervisor", "start_link", inner_spec(1, true) } } } })
      assert.are.same({ "first", "w1", "w2" },
        { expect(msg("started"))[2], expect(msg("started"))[2], expect(msg("started"))[2] })
      local c = children_by_id(top).inner
      assert.are.same({ "supervisor", "permanent" }, { c.type, c.restart })
      assert.are.equal(hl.whereis("inner"), c.pid)
      assert.are.same({ specs = 2, active = 2, supervisors = 1, workers = 1 }, hl.supervisor.count_children(top))
      hl.exit(top, "shutdown")
      assert.are.same({ "w2", "w1", "first" }, { stopping()[2], stopping()[2], stopping()[2] })
      assert.are.equal("shutdown", expect(exit_from(top))[3])
    end)

    it("a child supervisor that gives up exits shutdown and its parent restarts it", function()
      local top = assert(hl.supervisor.start_link{ name = "top", intensity = 5, children = {
        { id = "inner", type = "supervisor", start = { "heirloom.supervisor", "start_link", inner_spec(0) } } } })
      local w1 = started("w1")
      started("w2")
      local inner = hl.whereis("inner")
      crash(w1)                                    -- intensity 0: inner gives up
      local w1b = started("w1")                    -- top started a new inner
      started("w2")
      assert.are_not.equal(w1, w1b)
      local inner2 = children_by_id(top).inner.pid
      assert.are_not.equal(inner, inner2)
      assert.is_true(dead(inner))
      assert.are.equal(inner2, hl.whereis("inner"))
      assert.are.equal(1, #logged('"inner": restart intensity reached'))
      assert.are.equal(1, #logged('"top": child "inner" ' .. tostring(inner) .. ' terminated, reason: "shutdown"'))
    end)

    it("giving up climbs the tree when the parent gives up too", function()
      local top = assert(hl.supervisor.start_link{ name = "top", intensity = 0, children = {
        { id = "inner", type = "supervisor", start = { "heirloom.supervisor", "start_link", inner_spec(0) } } } })
      crash(started("w1"))
      assert.are.equal("shutdown", expect(exit_from(top))[3])
      assert.is_nil(hl.whereis("inner"))
      assert.are.equal(2, #logged("restart intensity reached"))
    end)

    it("a child supervisor that cannot start fails its parent's start", function()
      local bad_inner = { children = { { id = "x", start = { "sup_worker", "fail_start", hl.self(), "x", "down" } } } }
      local top, reason = hl.supervisor.start_link{ children = {
        { id = "inner", type = "supervisor", start = { "heirloom.supervisor", "start_link", bad_inner } } } }
      assert.is_nil(top)
      assert.are.same({ "failed_to_start_child", "inner", { "failed_to_start_child", "x", "down" } }, reason)
    end)
  end)

  -- ------------------------------------------------------------ API errors
  describe("API errors", function()
    it("start_child: an id that is taken, a bad spec, a failing start", function()
      local sup = assert(hl.supervisor.start_link{ children = { worker("a") } })
      local a = started("a")
      assert.are.same({ nil, { "already_started", a } }, { hl.supervisor.start_child(sup, worker("a")) })
      assert.is_true(hl.supervisor.terminate_child(sup, "a"))
      assert.are.same({ nil, "already_present" }, { hl.supervisor.start_child(sup, worker("a")) })
      assert.are.equal('heirloom.supervisor.start_child: spec.restart: expected "permanent", '
        .. '"transient" or "temporary", got "sometimes"',
        err_of(hl.supervisor.start_child, sup, worker("b", nil, { restart = "sometimes" })))
      assert.are.equal("heirloom.supervisor.start_child: spec.start: missing ({module, fname, args...})",
        err_of(hl.supervisor.start_child, sup, { id = "b" }))
      assert.are.equal("heirloom.supervisor.start_child: spec.start[3]: cannot encode a function",
        err_of(hl.supervisor.start_child, sup, { id = "b", start = { "m", "f", print } }))
      assert.are.equal("heirloom.supervisor.start_child: spec must be a child spec, or an array of "
        .. "extra arguments for a simple_one_for_one supervisor (got string)",
        err_of(hl.supervisor.start_child, sup, "b"))
      local pid, reason = hl.supervisor.start_child(sup,
        { id = "b", start = { "sup_worker", "fail_start", hl.self(), "b", "nope" } })
      assert.is_nil(pid)
      assert.are.equal("nope", reason)
      assert.are.same({ "a" }, ids(sup))           -- the failed spec is not kept
      local b = assert(hl.supervisor.start_child(sup, worker("b")))
      assert.are.equal(b, started("b"))
      assert.are.same({ "a", "b" }, ids(sup))      -- appended: started last
    end)

    it("terminate_child, restart_child and delete_child", function()
      local sup = assert(hl.supervisor.start_link{ children = { worker("a"), worker("x", nil, { restart = "temporary" }) } })
      local a = started("a")
      started("x")
      assert.are.same({ nil, "not_found" }, { hl.supervisor.terminate_child(sup, "zz") })
      assert.are.same({ nil, "not_found" }, { hl.supervisor.terminate_child(sup, a) })  -- pids only for simple_one_for_one
      assert.are.same({ nil, "running" }, { hl.supervisor.restart_child(sup, "a") })
      assert.are.same({ nil, "running" }, { hl.supervisor.delete_child(sup, "a") })
      assert.are.same({ nil, "not_found" }, { hl.supervisor.restart_child(sup, "zz") })
      assert.are.same({ nil, "not_found" }, { hl.supervisor.delete_child(sup, "zz") })
      assert.is_true(hl.supervisor.terminate_child(sup, "a"))
      assert.is_true(dead(a))
      assert.is_true(hl.supervisor.terminate_child(sup, "a"))    -- not running: fine
      local a2 = assert(hl.supervisor.restart_child(sup, "a"))
      assert.are.equal(a2, started("a"))
      assert.is_true(hl.supervisor.terminate_child(sup, "x"))    -- temporary: its spec goes
      assert.are.same({ "a" }, ids(sup))
      assert.is_true(hl.supervisor.terminate_child(sup, "a"))
      assert.is_true(hl.supervisor.delete_child(sup, "a"))
      assert.are.same({}, hl.supervisor.which_children(sup))
      assert.are.same({ nil, "not_found" }, { hl.supervisor.restart_child(sup, "a") })
      for _, f in ipairs{ "terminate_child", "restart_child", "delete_child" } do
        assert.are.equal("heirloom.supervisor." .. f .. ": id must be a child's id (a string), or a pid "
          .. "for a simple_one_for_one supervisor (got number)", err_of(hl.supervisor[f], sup, 5))
      end
    end)

    it("restart_child of a child whose start now fails", function()
      local flags = hl.table.new("sup_flags3", { named = true })
      flags:insert({ "fail", false })
      local sup = assert(hl.supervisor.start_link{ children = {
        { id = "f", start = { "sup_worker", "start_unless_told", hl.self(), "f", "sup_flags3" } } } })
      started("f")
      hl.supervisor.terminate_child(sup, "f")
      flags:insert({ "fail", true })
      assert.are.same({ nil, "told to fail" }, { hl.supervisor.restart_child(sup, "f") })
      assert.is_nil(children_by_id(sup).f.pid)
    end)

    it("a bad, unknown or dead supervisor", function()
      for _, f in ipairs{ "which_children", "count_children", "stop" } do
        assert.are.equal("heirloom.supervisor." .. f .. ": sup must be a pid or a registered name (got number)",
          err_of(hl.supervisor[f], 42))
        assert.are.equal("heirloom.supervisor." .. f .. ": no process is registered as 'nobody'",
          err_of(hl.supervisor[f], "nobody"))
      end
      local sup = assert(hl.supervisor.start_link{})
      hl.supervisor.stop(sup)
      assert.is_true(dead(sup))
      assert.are.equal("heirloom.supervisor.which_children: the supervisor " .. tostring(sup) .. " is not alive",
        err_of(hl.supervisor.which_children, sup))
      assert.are.equal("heirloom.supervisor.start_child: the supervisor " .. tostring(sup) .. " is not alive",
        err_of(hl.supervisor.start_child, sup, worker("a")))
      S.drain()
    end)

    it("a call to a process that dies during the call raises", function()
      -- exit_later takes the request as its cue and exits without answering
      local victim = hl.spawn("echo", "exit_later", hl.self(), "gone")
      S.ready(victim)
      assert.are.equal("heirloom.supervisor.which_children: the supervisor " .. tostring(victim)
        .. " exited during the call (gone)", err_of(hl.supervisor.which_children, victim))
      none(function(m) return type(m) == "table" and m[1] == "DOWN" end, 50, "no DOWN left behind")
    end)

    it("every call to a dead supervisor, by pid or by name, raises at once", function()
      local sup = assert(hl.supervisor.start_link{ name = "gone_sup", children = { worker("a") } })
      started("a")
      local ref = hl.monitor(sup)
      hl.unlink(sup)
      hl.exit(sup, "kill")
      expect(msg("DOWN", ref))
      local calls = {
        { "which_children" }, { "count_children" }, { "stop" }, { "start_child", worker("b") },
        { "terminate_child", "a" }, { "restart_child", "a" }, { "delete_child", "a" },
      }
      for _, c in ipairs(calls) do
        local f = hl.supervisor[c[1]]
        local with_timeout = { sup, 1000 }
        if c[2] ~= nil then with_timeout = { sup, c[2], 1000 } end
        assert.are.equal("heirloom.supervisor." .. c[1] .. ": the supervisor " .. tostring(sup)
          .. " is not alive", err_of(f, sup, c[2]))
        assert.are.equal("heirloom.supervisor." .. c[1] .. ": the supervisor " .. tostring(sup)
          .. " is not alive", err_of(f, table.unpack(with_timeout)))
        assert.are.equal("heirloom.supervisor." .. c[1] .. ": no process is registered as 'gone_sup'",
          err_of(f, "gone_sup", c[2]))
      end
      none(nil, 50, "a message left behind by a call")
    end)

    it("a call with a timeout raises when the supervisor is busy; its late answer never arrives", function()
      local sup = assert(hl.supervisor.start_link{ children = { worker("a") } })
      local a = started("a")
      -- another process starts a child whose start function holds the supervisor
      hl.spawn(function(s, to)
        local h = require("heirloom")
        h.send(to, { "asked", (h.supervisor.start_child(s, { id = "slow",
          start = { "sup_worker", "start_when_told", to, "slow" } })) })
      end, sup, hl.self())
      expect(msg("start_called", "slow"))
      assert.are.equal("heirloom.supervisor.which_children: timeout: the supervisor " .. tostring(sup)
        .. " did not answer within 30 ms", err_of(hl.supervisor.which_children, sup, 30))
      assert.are.equal("heirloom.supervisor.count_children: timeout: the supervisor " .. tostring(sup)
        .. " did not answer within 0 ms", err_of(hl.supervisor.count_children, sup, 0))
      -- a request that timed out is still carried out, as in OTP: only its answer is lost
      assert.are.equal("heirloom.supervisor.terminate_child: timeout: the supervisor " .. tostring(sup)
        .. " did not answer within 20 ms", err_of(hl.supervisor.terminate_child, sup, "a", 20))
      hl.send(sup, "go")
      local slow = started("slow")
      assert.are.equal(slow, expect(msg("asked"))[2])
      local kids = children_by_id(sup)
      assert.is_nil(kids.a.pid)
      assert.is_true(dead(a))
      assert.are.equal(slow, kids.slow.pid)
      none(function(m) return type(m) == "table" and m[1] == "$reply" end, 50, "a late answer")
      none(function(m) return type(m) == "table" and m[1] == "DOWN" end, 0, "a monitor's DOWN")
    end)

    it("the timeout: milliseconds or \"infinity\", the default", function()
      local sup = assert(hl.supervisor.start_link{ children = { worker("a") } })
      local a = started("a")
      assert.are.equal(a, hl.supervisor.which_children(sup, "infinity")[1].pid)
      assert.are.equal(1, hl.supervisor.count_children(sup, 5000).active)
      assert.is_true(hl.supervisor.terminate_child(sup, "a", 5000))
      assert.is_truthy(hl.supervisor.restart_child(sup, "a", "infinity"))
      started("a")
      assert.are.same({ nil, "running" }, { hl.supervisor.delete_child(sup, "a", 5000) })
      assert.is_truthy(hl.supervisor.start_child(sup, worker("b"), 5000))
      started("b")
      for _, bad in ipairs({ -1, 1.5, "soon", true }) do
        assert.are.equal("heirloom.supervisor.which_children: timeout must be a non-negative integer of "
          .. "milliseconds or \"infinity\" (got " .. (type(bad) == "string" and ("%q"):format(bad)
          or tostring(bad)) .. ")", err_of(hl.supervisor.which_children, sup, bad))
      end
      assert.is_true(hl.supervisor.stop(sup, 5000))
      assert.is_true(dead(sup))
    end)

    it("a process that answers calls but is no supervisor is told apart", function()
      local srv = assert(hl.server.start("srv_minimal", 0))
      assert.are.equal("heirloom.supervisor.which_children: " .. tostring(srv)
        .. " is not a supervisor (it answered nil)", err_of(hl.supervisor.which_children, srv))
      hl.server.stop(srv)
    end)

    it("calls by registered name", function()
      assert(hl.supervisor.start_link{ name = "by_name", children = { worker("a") } })
      local a = started("a")
      assert.are.equal(a, hl.supervisor.which_children("by_name")[1].pid)
      assert.are.equal(1, hl.supervisor.count_children("by_name").active)
      assert.is_true(hl.supervisor.terminate_child("by_name", "a"))
      S.drain()
    end)
  end)

  -- ------------------------------------------------------------ servers
  describe("hl.server children", function()
    local function server(id, args, extra)
      local c = { id = id, start = { "heirloom.server", "start_link", "srv_basic", args } }
      for k, v in pairs(extra or {}) do c[k] = v end
      return c
    end

    it("a crashed server is restarted; a trapping one runs terminate on shutdown", function()
      local me = hl.self()
      local sup = assert(hl.supervisor.start_link{ children = {
        server("s", { observer = me, trap = true, n = 5 }) } })
      local s1 = expect(msg("init"))[2]
      assert.are.equal(5, hl.server.call(s1, { "get" }))
      pcall(hl.server.call, s1, { "crash", "server down" })
      assert.are.equal("server down", expect(msg("terminate"))[2].error)
      local s2 = expect(msg("init"))[2]
      assert.are_not.equal(s1, s2)
      assert.are.equal(s2, children_by_id(sup).s.pid)
      assert.are.equal(5, hl.server.call(s2, { "get" }))
      assert.is_true(hl.supervisor.terminate_child(sup, "s"))
      local t = expect(msg("terminate"))
      assert.are.same({ "terminate", "shutdown", 5 }, t)
    end)

    it("a start that returns nil, \"ignore\" is no failure: the child is not running", function()
      local sup = assert(hl.supervisor.start_link{ children = {
        server("quiet", { mode = "ignore" }), worker("a") } })
      started("a")
      local c = children_by_id(sup)
      assert.is_nil(c.quiet.pid)
      assert.are.same({ "quiet", "a" }, ids(sup))
      assert.are.same({ nil, "ignore" }, { hl.supervisor.restart_child(sup, "quiet") })
      assert.are.same({ nil, "ignore" }, { hl.supervisor.start_child(sup, server("q2", { mode = "ignore" })) })
      assert.are.same({ "quiet", "a", "q2" }, ids(sup))     -- its spec is kept, as in OTP
      assert.are.equal(0, #logged("failed to start"))
    end)
  end)

  -- ------------------------------------------------------------ reports
  describe("reports", function()
    it("child started, child terminated, restart intensity reached", function()
      local sup = assert(hl.supervisor.start_link{ name = "rep", intensity = 1, children = { worker("a") } })
      local a = started("a")
      assert.are.equal(1, #logged('=PROGRESS REPORT==== supervisor ' .. tostring(sup) .. ' "rep": child "a" '
        .. tostring(a) .. " started"))
      crash(a, "first")
      local a2 = started("a")
      crash(a2, "second")
      expect(exit_from(sup))
      local t = logged("=SUPERVISOR REPORT==== supervisor " .. tostring(sup) .. ' "rep": child "a" ')
      assert.are.equal(2, #t)
      assert.is_truthy(t[1]:find(tostring(a) .. ' terminated (its crash report has the reason)', 1, true))
      assert.is_truthy(t[2]:find(tostring(a2) .. ' terminated (its crash report has the reason)', 1, true))
      assert.is_truthy(logged("=CRASH REPORT==== process " .. tostring(a) .. ' (registered name -) exited: {error = "first"')[1])
      assert.is_truthy(logged("=CRASH REPORT==== process " .. tostring(a2) .. ' (registered name -) exited: {error = "second"')[1])
      assert.are.equal(1, #logged("=SUPERVISOR REPORT==== supervisor " .. tostring(sup)
        .. ' "rep": restart intensity reached (more than 1 restarts within 5000 ms), shutting down'))
    end)
  end)
end)

describe("hl.supervisor in a deterministic node", function()
  before_each(function() hl.start{ schedulers = 0, logger = "capture" } end)
  after_each(function() pcall(hl.stop) end)

  it("starts, restarts and stops its children", function()
    local sup = assert(hl.supervisor.start_link{ strategy = "one_for_all",
      children = { worker("a", { trap = true }), worker("b", { trap = true }) } })
    local a, b = started("a"), started("b")
    crash(a)
    assert.are.equal("b", stopping()[2])
    local a2, b2 = started("a"), started("b")
    assert.are_not.equal(a, a2)
    assert.are_not.equal(b, b2)
    assert.is_true(hl.supervisor.stop(sup))
    assert.are.same({ "b", "a" }, { stopping()[2], stopping()[2] })
  end)
end)
