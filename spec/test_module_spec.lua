-- test_module_spec.lua — heirloom.test itself: the fixture stops the node
-- whatever the test did, kill_and_await returns the restarted holder,
-- eventually, assert_table and assert_no_leaks catch what they promise,
-- explore and for_seeds run the seeds (HEIRLOOM_SEED alone replays one)
-- and draw kills from the seed, and bad input gets an error naming the
-- function and the argument.
local ROOT = (debug.getinfo(1, "S").source:match("^@(.*)[/\\]spec[/\\]") or ".")
-- spec/support as hlspec.lua puts it on package.path (the specs share it)
local SUPPORT = (debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/?.lua"
if not package.path:find(SUPPORT, 1, true) then package.path = SUPPORT .. ";" .. package.path end

local T = require("heirloom.test")
local hl = require("heirloom")

-- A supervisor (linked to the host) of one tablemgr named `name`.
local function supervised(name)
  return assert(hl.supervisor.start_link{
    strategy = "one_for_one", intensity = 100, period = 5,
    children = { { id = name, start = { "heirloom.tablemgr", "start_link", { name = name } } } } })
end

local function contains(s, frag) return tostring(s):find(frag, 1, true) ~= nil end

-- Whether busted's TAP output says test n (named name...) passed.
local function tap_ok(out, n, name)
  return ("\n" .. out):find("\nok " .. n .. " - " .. name, 1, true) ~= nil
end

-- n processes that each take `rounds` pokes, and a poke for each one alive:
-- steps for a kill plan to fall between.
local function pokeable(n, rounds)
  local pids = {}
  for i = 1, n do
    pids[i] = hl.spawn_opt({ name = "w" .. i }, function(r)
      local h = require("heirloom")
      for _ = 1, r do h.receive() end
    end, rounds)
  end
  return pids
end

local function poke_all(pids)
  for _, p in ipairs(pids) do
    if hl.process_info(p) then hl.send(p, "poke") end
  end
end

-- busted on a file, in a child, from the repository's root: its output.
local function busted_child(file, env)
  local p = io.popen(("cd %q && %s busted -o TAP %s 2>&1"):format(ROOT, env or "", file))
  local out = p:read("a")
  p:close()
  return out
end

-- ------------------------------------------------------------ the fixture

describe("heirloom.test fixture", function()
  after_each(T.stop)

  it("with_node stops the node when the test function errors, and raises its error", function()
    local e = T.catch(T.with_node, { schedulers = 0 }, function()
      hl.spawn(function() require("heirloom").receive() end)
      error("boom")
    end)
    assert.is_true(contains(e, "boom"))
    -- no node is left: starting one works, and it is empty
    hl.start{ schedulers = 0 }
    assert.are.equal(1, #hl.processes())
    hl.stop()
  end)

  it("with_node returns the function's results and stops the node", function()
    local a, b = T.with_node({ schedulers = 2 }, function(h) return h == hl, #hl.processes() end)
    assert.is_true(a)
    assert.are.equal(1, b)
    hl.start{}
    hl.stop()
  end)

  it("start stops a node that a failed test left running, and passes hl.start's options through", function()
    hl.start{ schedulers = 2 }
    hl.spawn(function() require("heirloom").receive() end)
    T.start{ schedulers = 0, seed = 42, memory_limit = 1 << 22 }
    assert.are.equal(1, #hl.processes())
    assert.are.same({ schedulers = 0, seed = 42, memory_limit = 1 << 22 }, T.options())
    assert.is_true(hl.process_info(hl.self()).trap_exit)
    T.stop()
    assert.is_nil(T.options())
    T.start{ trap_exit = false }
    assert.is_false(hl.process_info(hl.self()).trap_exit)
  end)

  it("the seed reaches the node: the same seed, the same random numbers in a process", function()
    local function draw(seed)
      return T.with_node({ schedulers = 0, seed = seed }, function()
        hl.spawn(function(host) require("heirloom").send(host, math.random(1, 1 << 40)) end, hl.self())
        return T.expect(nil, 2000)
      end)
    end
    assert.are.equal(draw(7), draw(7))
  end)

  it("in busted, node() stops the node after a failing test: the next test starts fresh #child", function()
    local out = busted_child("spec/support/fixture_run.lua")
    assert.is_true(contains(out, "not ok 1 - without the fixture 1"), out)
    assert.is_true(contains(out, "not ok 2 - with the fixture 2"), out)
    assert.is_true(tap_ok(out, 3, "with the fixture 3 gets a fresh node"), out)
    assert.is_true(tap_ok(out, 4, "with the fixture 4 too"), out)
  end)
end)

describe("heirloom.test node()", function()
  T.node{ schedulers = 0, seed = 3 }

  it("gives the test a started node", function()
    assert.are.equal(3, T.options().seed)
    assert.are.equal(1, #hl.processes())
    hl.spawn(function() require("heirloom").receive() end)   -- left for the fixture to stop
  end)

  it("and a fresh one to the next test", function()
    assert.are.equal(1, #hl.processes())
  end)
end)

-- ------------------------------------------------------------ waiting

for _, n in ipairs{ 0, 2 } do
  describe("heirloom.test waits (schedulers = " .. n .. ")", function()
    before_each(function() T.start{ schedulers = n } end)
    after_each(T.stop)

    it("kill_and_await kills the holder of a name and returns the restarted one", function()
      supervised("km")
      local old = hl.whereis("km")
      local new = T.kill_and_await("km")
      assert.is_not_nil(new)
      assert.are_not.equal(old, new)
      assert.are.equal(new, hl.whereis("km"))
      assert.is_nil(hl.process_info(old))
      -- given a pid: the name it had
      local newer = T.kill_and_await(new, 3000)
      assert.are_not.equal(new, newer)
      assert.are.equal(newer, hl.whereis("km"))
    end)

    it("kill waits for the DOWN and returns the pid and the exit reason; crash_fn chooses the death", function()
      local p = hl.spawn_opt({ name = "victim" }, function()
        local h = require("heirloom")
        if h.receive() == "crash" then error("crashed on purpose") end
      end)
      local pid, reason = T.kill("victim", 2000, function() hl.send("victim", "crash") end)
      assert.are.equal(p, pid)
      assert.is_true(contains(reason.error, "crashed on purpose"), T.show(reason))
      assert.is_nil(hl.whereis("victim"))
      local q = hl.spawn(function() require("heirloom").receive() end)
      local qpid, why = T.kill(q)
      assert.are.equal(q, qpid)
      assert.are.equal("killed", why)
      -- and kill_and_await, with a crash_fn, returns the old one's reason
      assert(hl.supervisor.start_link{ strategy = "one_for_one", intensity = 10, period = 5, children = {
        { id = "crashy", start = { "heirloom.server", "start_link", "srv_basic", {}, { name = "crashy" } } } } })
      local old = hl.whereis("crashy")
      local new, r = T.kill_and_await("crashy", nil, function() hl.server.cast("crashy", { "crash", "oops" }) end)
      assert.are_not.equal(old, new)
      assert.are.equal(new, hl.whereis("crashy"))
      assert.are.equal("oops", r.error)
    end)

    it("kill_and_await on a pid with no name: killed, awaited, nil returned", function()
      local p = hl.spawn(function() require("heirloom").receive() end)
      assert.is_nil(T.kill_and_await(p))
      assert.is_nil(hl.process_info(p))
    end)

    it("kill_and_await fails clearly when nobody takes the name again", function()
      hl.spawn_opt({ name = "lonely" }, function() require("heirloom").receive() end)
      local e = T.catch(T.kill_and_await, "lonely", 50)
      assert.is_true(contains(e, 'heirloom.test.kill_and_await: nobody registered as "lonely" within 50 ms'), e)
    end)

    it("eventually returns the value once fn holds, on the node's clock", function()
      local t = hl.table.new("ev", { access = "public" })
      hl.spawn(function(tab) local h = require("heirloom"); h.sleep(30); tab:insert({ "done", 42 }) end, t)
      local t0 = T.now()
      assert.are.equal(42, T.eventually(function() return t:lookup_element("done", 2) end, 5000))
      assert.is_true(T.now() - t0 >= 30)
    end)

    it("eventually fails after the timeout with fn's last error", function()
      local e = T.catch(T.eventually, function() error("not yet") end, 30)
      assert.is_true(contains(e, "heirloom.test.eventually: the condition did not hold within 30 ms"), e)
      assert.is_true(contains(e, "not yet"), e)
      e = T.catch(T.eventually, function() return false end, 10)
      assert.is_true(contains(e, "within 10 ms"), e)
    end)
  end)
end

-- ------------------------------------------------------------ assertions

describe("heirloom.test assertions", function()
  before_each(function() T.start{ schedulers = 0 } end)
  after_each(T.stop)

  it("assert_table: a set in any order; what is missing and what is unexpected", function()
    local t = hl.table.new("s", { named = true })
    t:insert({ 1, "a" }, { 2, "b" }, { 3, { x = 1 } })
    assert.is_true(T.assert_table(t, { { 3, { x = 1 } }, { 1, "a" }, { 2, "b" } }))
    assert.is_true(T.assert_table("s", { { 2, "b" }, { 3, { x = 1 } }, { 1, "a" } }))
    local e = T.catch(T.assert_table, t, { { 1, "a" }, { 2, "c" }, { 3, { x = 1 } } }, "after the kill")
    assert.is_true(contains(e, "after the kill"), e)
    assert.is_true(contains(e, 'missing {{2, "c"}}, unexpected {{2, "b"}}'), e)
    e = T.catch(T.assert_table, t, { { 1, "a" }, { 2, "b" } })
    assert.is_true(contains(e, "missing {}, unexpected {{3, {[\"x\"]=1}}}"), e)
  end)

  it("assert_table: integers and floats are told apart, a bag's duplicates count", function()
    local t = hl.table.new("b", { type = "duplicate_bag" })
    t:insert({ "k", 1 }, { "k", 1 }, { "k", 2.5 })
    assert.is_true(T.assert_table(t, { { "k", 2.5 }, { "k", 1 }, { "k", 1 } }))
    T.catch(T.assert_table, t, { { "k", 2.5 }, { "k", 1 } })
    T.catch(T.assert_table, t, { { "k", 2.5 }, { "k", 1 }, { "k", 1.0 } })
  end)

  it("assert_table: an ordered_set in order", function()
    local t = hl.table.new("o", { type = "ordered_set" })
    t:insert({ 2, "b" }, { 1, "a" })
    assert.is_true(T.assert_table(t, { { 1, "a" }, { 2, "b" } }))
    local e = T.catch(T.assert_table, t, { { 2, "b" }, { 1, "a" } })
    assert.is_true(contains(e, 'object 1 is {1, "a"}, expected {2, "b"}'), e)
  end)

  it("assert_no_leaks catches a leaked process and a leaked table, and passes once they are gone", function()
    assert.is_true(T.assert_no_leaks())
    local p = hl.spawn_opt({ name = "leaky" }, function() require("heirloom").receive() end)
    local e = T.catch(T.assert_no_leaks, 20)
    assert.is_true(contains(e, "heirloom.test.assert_no_leaks: 1 process(es) leaked: " .. tostring(p) .. " leaky"), e)
    hl.exit(p, "kill")
    assert.is_true(T.assert_no_leaks())
    local t = hl.table.new("leaked")
    e = T.catch(T.assert_no_leaks, 20)
    assert.is_true(contains(e, "1 table(s) leaked: " .. tostring(t) .. " owned by " .. tostring(hl.self())), e)
    t:drop()
    assert.is_true(T.assert_no_leaks())
  end)

  it("assert_no_leaks waits for processes that are exiting (schedulers = 2)", function()
    T.start{ schedulers = 2 }
    local sup = supervised("gone")
    hl.supervisor.stop(sup)
    assert.is_true(T.assert_no_leaks())
  end)
end)

-- ------------------------------------------------------------ seeds and faults

describe("heirloom.test explore and for_seeds", function()
  after_each(T.stop)

  it("for_seeds runs seeds 1..n, each on a fresh deterministic node started with that seed", function()
    local seen = {}
    local ran = T.for_seeds(5, function(seed)
      assert.are.equal(seed, T.options().seed)
      assert.are.equal(0, T.options().schedulers)
      assert.are.equal(1, #hl.processes())
      hl.spawn(function() require("heirloom").receive() end)
      seen[#seen + 1] = seed
    end)
    if os.getenv("HEIRLOOM_SEED") then return end      -- a replay runs one seed
    assert.are.equal(5, ran)
    assert.are.same({ 1, 2, 3, 4, 5 }, seen)
  end)

  it("a failing seed is raised with the seed and the command that replays it", function()
    local e = T.catch(T.explore, { seeds = 10, quiet = true, function(ctx)
      assert(ctx.seed ~= 4, "seed four is bad")
    end })
    if os.getenv("HEIRLOOM_SEED") then return end
    assert.is_true(contains(e, "heirloom.test.explore: seed 4 failed (0 kill(s))"), e)
    assert.is_true(contains(e, "replay it: HEIRLOOM_SEED=4 busted spec/test_module_spec.lua"), e)
    assert.is_true(contains(e, "seed four is bad"), e)
  end)

  it("HEIRLOOM_SEED runs that seed alone; a bad one is refused #child", function()
    local out = busted_child("spec/test_module_spec.lua --filter=\"for_seeds runs seeds\"", "HEIRLOOM_SEED=3")
    assert.is_true(tap_ok(out, 1, "heirloom.test explore and for_seeds for_seeds runs seeds 1..n"), out)
    out = busted_child("spec/test_module_spec.lua --filter=\"for_seeds runs seeds\"", "HEIRLOOM_SEED=x1")
    assert.is_true(contains(out, 'heirloom.test.explore: HEIRLOOM_SEED must be a non-zero integer, got "x1"'), out)
  end)

  it("kills are drawn from the seed: the same seed kills the same processes at the same steps", function()
    local function kills(seed)
      local got
      T.explore{ seeds = 1, faults = { kill = { rate = 0.2, match = "any" } }, function(ctx)
        if ctx.seed ~= 1 then return end
        local pids = pokeable(6, 20)
        for _ = 1, 20 do poke_all(pids); ctx.run() end
        got = {}
        for _, k in ipairs(ctx.kills) do got[#got + 1] = tostring(k.name) .. "@" .. k.step end
        got = table.concat(got, " ")
      end }
      return got
    end
    if os.getenv("HEIRLOOM_SEED") then return end
    local a, b = kills(1), kills(1)
    assert.is_true(#a > 0, "nothing was killed")
    assert.are.equal(a, b)
  end)

  it("a kill plan hits only what it matches, never the host", function()
    local victims = {}
    T.explore{ seeds = 5, faults = { kill = { rate = 0.5, match = "target" } }, function(ctx)
      supervised("target")
      supervised("bystander")
      local host = hl.self()
      local pids = pokeable(2, 20)
      for _ = 1, 20 do
        poke_all(pids)
        ctx.run()
        assert(hl.process_info(host), "the host was killed")
      end
      for _, k in ipairs(ctx.kills) do victims[k.name or "?"] = true end
    end }
    assert.are.same({ target = true }, victims)
  end)

  it("match = \"supervisors\" kills only supervisors; a predicate sees the process's info and pid", function()
    local names, infos = {}, 0
    T.explore{ seeds = 10, faults = { kill = { rate = 0.5, match = "supervisors" } }, function(ctx)
      local sup = supervised("child")
      for _ = 1, 20 do hl.send(hl.whereis("child") or sup, "poke"); ctx.run() end
      for _, k in ipairs(ctx.kills) do names[#names + 1] = k.name or "unnamed" end
    end }
    for _, n in ipairs(names) do assert.are_not.equal("child", n) end
    assert.is_true(#names > 0)
    T.explore{ seeds = 3, faults = { kill = { rate = 1, match = function(info)
      assert(hl.kind(info.pid) == "pid" and info.status ~= nil and info.registered_name ~= nil)
      infos = infos + 1
      return false
    end } }, function(ctx)
      local pids = pokeable(2, 5)
      for _ = 1, 5 do poke_all(pids); ctx.run() end
      assert(#ctx.kills == 0)
    end }
    assert.is_true(infos > 0)
  end)

  it("match = { module = name } kills only processes spawned from that module", function()
    local names = {}
    T.explore{ seeds = 10, faults = { kill = { rate = 0.5, match = { module = "echo" } } }, function(ctx)
      -- echo.lua's loops, named e1 and e2, beside two functions named w1, w2
      local echoes = { hl.spawn_opt({ name = "e1" }, "echo", "loop"), hl.spawn_opt({ name = "e2" }, "echo", "loop") }
      local pids = pokeable(2, 20)
      for _ = 1, 20 do
        poke_all(pids)
        for _, e in ipairs(echoes) do hl.send(e, "poke") end
        ctx.run()
      end
      for _, k in ipairs(ctx.kills) do names[#names + 1] = k.name or "unnamed" end
    end }
    assert.is_true(#names > 0)
    for _, name in ipairs(names) do assert.is_truthy(name == "e1" or name == "e2", name) end
  end)

  it("run_until fails clearly when the condition never holds", function()
    local e = T.catch(T.explore, { seeds = 1, quiet = true, function(ctx)
      hl.spawn(function() local h = require("heirloom"); while true do h.sleep(0) end end)
      ctx.run_until(function() return false end, 50)
    end })
    assert.is_true(contains(e, "heirloom.test.run_until: the condition did not hold within 50 steps"), e)
  end)
end)

-- ------------------------------------------------------------ bad input

describe("heirloom.test bad input", function()
  after_each(T.stop)

  it("names the function and the argument", function()
    local function err(frag, fn, ...)
      local e = T.catch(fn, ...)
      assert.is_true(contains(e, frag), "expected " .. frag .. ", got " .. tostring(e))
    end
    err("heirloom.test.start: argument 1 (options) must be a table or nil, got string", T.start, "x")
    err("heirloom.test.with_node: argument 2 (fn) must be a function, got nil", T.with_node, {})
    err("heirloom.test.eventually: argument 1 (fn) must be a function, got nil", T.eventually)
    err("heirloom.test.eventually: argument 2 (timeout) must be a number of milliseconds >= 0, got -1",
      T.eventually, function() return true end, -1)
    err("heirloom.test.kill_and_await: argument 1 must be a registered name or a pid, got number",
      T.kill_and_await, 42)
    err("heirloom.test.assert_no_leaks: no node started by heirloom.test", T.assert_no_leaks)
    T.start{ schedulers = 0 }
    err('heirloom.test.kill_and_await: argument 1: no process is registered as "nobody"', T.kill_and_await, "nobody")
    err("heirloom.test.kill_and_await: argument 1: the caller cannot kill itself", T.kill_and_await, hl.self())
    err("heirloom.test.kill_and_await: argument 2 (timeout) must be a number of milliseconds >= 0, got \"x\"",
      T.kill_and_await, "nobody", "x")
    err("heirloom.test.assert_table: argument 1 must be a table handle or a table's name, got number",
      T.assert_table, 1, {})
    err('heirloom.test.assert_table: argument 1: no table is named "none"', T.assert_table, "none", {})
    err("heirloom.test.assert_table: argument 2 (objects) must be a list of objects, got nil",
      T.assert_table, hl.table.new("x"))
    err("heirloom.test.for_seeds: argument 1 (n) must be an integer >= 1, got 0", T.for_seeds, 0, print)
    err("heirloom.test.for_seeds: argument 2 (fn) must be a function, got nil", T.for_seeds, 2)
    local ok = function() end
    err("heirloom.test.explore: argument 1 must be a table, got nil", T.explore)
    err("heirloom.test.explore: argument 'fn' (or [1]) must be the scenario function, got nil",
      T.explore, { seeds = 1 })
    err("heirloom.test.explore: argument 'seeds' must be an integer >= 1, got -3", T.explore, { seeds = -3, ok })
    err("heirloom.test.explore: unknown argument \"sedes\"", T.explore, { seeds = 1, sedes = 2, ok })
    err("heirloom.test.explore: argument 'faults': unknown fault kind \"flood\" (known: kill, store_write, crash)",
      T.explore, { seeds = 1, faults = { flood = 0.1 }, ok })
    err("heirloom.test.explore: argument 'faults.kill.rate' must be a rate from 0 to 1, got -0.5",
      T.explore, { seeds = 1, faults = { kill = { rate = -0.5 } }, ok })
    err("heirloom.test.explore: argument 'faults.kill.rate' must be a rate from 0 to 1, got 2",
      T.explore, { seeds = 1, faults = { kill = { rate = 2 } }, ok })
    err("heirloom.test.explore: argument 'faults.kill.match' must be a name, \"any\", \"supervisors\", { module = name } or a function, got 3",
      T.explore, { seeds = 1, faults = { kill = { rate = 0.1, match = 3 } }, ok })
    err("heirloom.test.explore: argument 'faults.kill.match' must be a name, \"any\", \"supervisors\", { module = name } or a function, got {[\"module\"]=\"x\", [\"name\"]=\"y\"}",
      T.explore, { seeds = 1, faults = { kill = { rate = 0.1, match = { module = "x", name = "y" } } }, ok })
    err("heirloom.test.explore: argument 'faults.kill': unknown field \"rat\"",
      T.explore, { seeds = 1, faults = { kill = { rat = 0.1 } }, ok })
    err("heirloom.test.explore: argument 'faults': kill and crash faults need a deterministic node",
      T.explore, { seeds = 1, start = { schedulers = 2 }, faults = { kill = { rate = 0.1 } }, ok })
    if hl.fault == nil then
      err("heirloom.test.explore: fault store_write needs hl.fault", T.explore,
        { seeds = 1, faults = { store_write = 0.1 }, ok })
    end
    if hl.crash == nil then
      err("heirloom.test.explore: fault crash needs hl.crash", T.explore, { seeds = 1, faults = { crash = 0.1 }, ok })
    else
      err("heirloom.test.explore: argument 'faults.crash' needs start.data_dir", T.explore,
        { seeds = 1, faults = { crash = 0.1 }, ok })
    end
  end)

  it("a predicate that raises: an error naming the argument, not a failing seed", function()
    local e = T.catch(T.explore, { seeds = 5, faults = { kill = { rate = 1, match = function() error("oops") end } },
      function(ctx)
        poke_all(pokeable(1, 2))
        ctx.run()
      end })
    assert.is_true(contains(e, "heirloom.test.explore: argument 'faults.kill.match' raised an error for <"), e)
    assert.is_true(contains(e, "oops"), e)
    assert.is_false(contains(e, "replay it"), e)
  end)
end)
