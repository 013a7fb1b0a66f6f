-- ownership_spec.lua — who owns a table and what happens to it when the
-- owner exits: heirs (pids and registered names, one generation), the
-- order of ETS-TRANSFER against EXIT and DOWN, give_away and setopts,
-- custody and hl.table.claim, the host's tables, O(1) transfers of large
-- tables, and races between owners, heirs and claimers. The basic cases
-- (heir = host, a crashing owner, a name heir) are in process_spec.lua.
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local hl = S.hl
local expect, tagged, ready, none = S.expect, S.tagged, S.ready, S.none
local start = S.start

-- ---------------------------------------------------------------- helpers

-- A new agent process (spec/support/owner.lua), ready for commands.
local function agent(opts)
  local pid = hl.spawn("owner", "agent", hl.self(), opts)
  ready(pid)
  return pid
end

-- Runs a command in agent pid; returns ok and the value or error text.
-- The reply may take up to `within` ms (10 s unless given: filling a
-- large table under a sanitizer is slow).
local function cmd_within(within, pid, op, ...)
  hl.send(pid, { "cmd", hl.self(), op, ... })
  local m = expect(function(m)
    return type(m) == "table" and m[1] == "reply" and m[2] == pid
  end, within, "reply to " .. op)
  return m[3], m[4]
end

local function cmd(pid, op, ...)
  return cmd_within(10000, pid, op, ...)
end

-- The same, failing the test when the command raised.
local function must(pid, op, ...)
  local ok, v = cmd(pid, op, ...)
  if not ok then error("command " .. op .. " failed: " .. tostring(v), 2) end
  return v
end

-- Calls t:method(...) inside pid.
local function tcall(pid, t, method, ...)
  return cmd(pid, "table", t, method, table.pack(...))
end

-- A message forwarded by agent pid whose first element is tag.
local function got(pid, tag, ms)
  return expect(function(m)
    return type(m) == "table" and m[1] == "got" and m[2] == pid and
      type(m[3]) == "table" and m[3][1] == tag
  end, ms, "got " .. tag)[3]
end

-- Waits for pid's ETS-TRANSFER and checks it: the table t, from whom, and
-- the data that came with it.
local function transferred(pid, t, from, data)
  local m = got(pid, "ETS-TRANSFER")
  assert.are.equal(t, m[2])
  assert.are.equal(from, m[3])
  assert.are.same(data, m[4])
end

-- Ends pid with how (see ENDINGS) and waits until it is gone.
local ENDINGS = {
  { "returns normally", function(pid) hl.send(pid, { "cmd", hl.self(), "return" }) end, "normal" },
  { "fails with an error", function(pid) hl.send(pid, { "cmd", hl.self(), "crash", "boom" }) end },
  { "calls hl.exit(reason)", function(pid) hl.send(pid, { "cmd", hl.self(), "exit", "bye" }) end, "bye" },
  { "is killed", function(pid) hl.exit(pid, "kill") end, "killed" },
  { "gets an exit signal", function(pid) hl.exit(pid, "shut") end, "shut" },
}

local function stop(pid, how)
  local ref = hl.monitor(pid)
  how = how or ENDINGS[4][2]
  how(pid)
  return expect(tagged("DOWN", ref), 5000, "DOWN")[4]
end

local function dropped(t)
  local ok, err = pcall(t.info, t)
  return not ok and tostring(err):find("dropped", 1, true) ~= nil
end

local function P(fname, ...)
  local parts = { "heirloom%.table%." .. fname }
  for _, s in ipairs({ ... }) do parts[#parts + 1] = s:gsub("%p", "%%%0") end
  return table.concat(parts, ".*")
end

-- ---------------------------------------------------------------- specs

for _, schedulers in ipairs({ 2, 0 }) do
describe("ownership (schedulers = " .. schedulers .. ")", function()
  before_each(function() start(schedulers) end)
  after_each(function() pcall(hl.stop) end)

  -- ------------------------------------------------------------ the owner's exit
  describe("when the owner exits", function()
    for _, ending in ipairs(ENDINGS) do
      local what, how, reason = ending[1], ending[2], ending[3]

      it("and " .. what .. ", the table goes to its live heir", function()
        local heir = agent()
        local owner = agent()
        local t = must(owner, "new", "inherit", { heir = heir, heir_data = { why = what } }, 3)
        local r = stop(owner, how)
        if reason then assert.are.equal(reason, r) end
        transferred(heir, t, owner, { why = what })
        assert.are.equal(heir, t:info().owner)
        assert.are.same({ { 2, "v2" } }, t:lookup(2))
        assert.are.equal(3, t:info().size)
        assert.is_true(must(heir, "table", t, "insert", { { 4, "v4" } }))   -- it owns it
        assert.are.equal(4, t:info().size)
      end)

      it("and " .. what .. " with no heir, the table is deleted", function()
        local owner = agent()
        local t = must(owner, "new", "lone", { named = true }, 3)
        stop(owner, how)
        assert.is_true(dropped(t))
        assert.is_nil(hl.table.whereis("lone"))
      end)
    end

    it("an owner that named itself heir loses the table: it is deleted", function()
      local owner = agent()
      local t = must(owner, "new", "self_heir", {}, 1)
      assert.is_true(must(owner, "table", t, "setopts", { { heir = owner, heir_data = "x" } }))
      assert.are.equal(owner, t:info().heir)
      stop(owner)
      assert.is_true(dropped(t))
      none(nil, 50, "no ETS-TRANSFER anywhere")
    end)

    it("an heir dead when set is stored as none, and the table is then deleted", function()
      local dead = agent()
      stop(dead)
      local owner = agent()
      local t = must(owner, "new", "dead_heir", { heir = dead, heir_data = "lost" }, 1)
      assert.is_nil(t:info().heir)
      assert.is_nil(t:info().heir_data)
      stop(owner)
      assert.is_true(dropped(t))
    end)

    it("setopts with a dead heir removes the heir that was set", function()
      local live, dead = agent(), agent()
      stop(dead)
      local owner = agent()
      local t = must(owner, "new", "re_heir", { heir = live, heir_data = 1 }, 1)
      assert.are.equal(live, t:info().heir)
      assert.is_true(must(owner, "table", t, "setopts", { { heir = dead, heir_data = 2 } }))
      assert.is_nil(t:info().heir)
      stop(owner)
      assert.is_true(dropped(t))
      none(tagged("got"), 50, "the former heir gets nothing")
    end)

    it("one generation only: an inherited table has no heir, and dies with the heir", function()
      local heir, owner = agent(), agent()
      local t = must(owner, "new", "gen1", { heir = heir, heir_data = "d" }, 2)
      stop(owner)
      got(heir, "ETS-TRANSFER")
      assert.are.equal(heir, t:info().owner)
      assert.is_nil(t:info().heir)
      assert.is_nil(t:info().heir_data)
      stop(heir)
      assert.is_true(dropped(t))
    end)

    it("a new owner that sets an heir passes the table on again (two generations)", function()
      local second, heir, owner = agent(), agent(), agent()
      local t = must(owner, "new", "gen2", { heir = heir, heir_data = "first" }, 5)
      stop(owner, ENDINGS[2][2])
      got(heir, "ETS-TRANSFER")
      assert.is_true(must(heir, "table", t, "setopts", { { heir = second, heir_data = "second" } }))
      stop(heir, ENDINGS[3][2])
      transferred(second, t, heir, "second")
      assert.are.equal(second, t:info().owner)
      assert.are.equal(5, t:info().size)
      assert.are.same({ { 5, "v5" } }, t:lookup(5))
    end)

    it("the heir gets ETS-TRANSFER before the owner's EXIT (linked, trapping exits)", function()
      local heir = agent({ trap = true })
      local owner = agent()
      must(owner, "link", heir)
      local t = must(owner, "new", "before_exit", { heir = heir }, 1)
      stop(owner, ENDINGS[2][2])
      local first = expect(tagged("got"), 2000)
      assert.are.equal(heir, first[2])
      assert.are.equal("ETS-TRANSFER", first[3][1])
      assert.are.equal(t, first[3][2])
      local second = expect(tagged("got"), 2000)
      assert.are.equal("EXIT", second[3][1])
      assert.are.equal(owner, second[3][2])
    end)

    it("the heir gets ETS-TRANSFER before the owner's DOWN (monitoring)", function()
      local heir = agent()
      local owner = agent()
      local ref = must(heir, "monitor", owner)
      must(owner, "new", "before_down", { heir = heir }, 1)
      stop(owner)
      local first = expect(tagged("got"), 2000)
      assert.are.equal("ETS-TRANSFER", first[3][1])
      local second = expect(tagged("got"), 2000)
      assert.are.equal("DOWN", second[3][1])
      assert.are.equal(ref, second[3][2])
      assert.are.equal(owner, second[3][3])
    end)

    it("every table of a dying owner goes its own way", function()
      local heir = agent()
      local owner = agent()
      local a = must(owner, "new", "a", { heir = heir, heir_data = "a" }, 1)
      local b = must(owner, "new", "b", { custody = true, named = true }, 2)
      local c = must(owner, "new", "c", {}, 3)
      stop(owner)
      assert.are.equal("a", got(heir, "ETS-TRANSFER")[4])
      assert.are.equal(heir, a:info().owner)
      assert.is_nil(b:info().owner)
      assert.are.equal(2, b:info().size)
      assert.is_true(dropped(c))
    end)
  end)

  -- ------------------------------------------------------------ give_away and setopts
  describe("give_away", function()
    it("sends {ETS-TRANSFER, tab, giver, data} and makes the target the owner", function()
      local giver, target = agent(), agent()
      local t = must(giver, "new", "gift", {}, 3)
      assert.is_true(must(giver, "table", t, "give_away", { target, { note = "yours" } }))
      transferred(target, t, giver, { note = "yours" })
      assert.are.equal(target, t:info().owner)
      -- a protected table: only the new owner may write now
      local ok, err = tcall(giver, t, "insert", { 9, "no" })
      assert.is_false(ok)
      assert.matches(P("insert", "protected"), err)
      assert.is_true(must(target, "table", t, "insert", { { 9, "yes" } }))
      assert.are.same({ { 9, "yes" } }, t:lookup(9))
      assert.are.equal(4, t:info().size)
    end)

    it("keeps the heir setting, which serves the new owner", function()
      local giver, target, heir = agent(), agent(), agent()
      local t = must(giver, "new", "gift_heir", { heir = heir, heir_data = "hd" }, 1)
      must(giver, "table", t, "give_away", { target, "g" })
      got(target, "ETS-TRANSFER")
      assert.are.equal(heir, t:info().heir)
      assert.are.equal("hd", t:info().heir_data)
      stop(target)
      transferred(heir, t, target, "hd")
    end)

    it("refuses a caller that is not the owner", function()
      local owner, other = agent(), agent()
      local t = must(owner, "new", "not_yours", {}, 1)
      local ok, err = tcall(other, t, "give_away", other, "x")
      assert.is_false(ok)
      assert.matches(P("give_away", "owner"), err)
      ok, err = tcall(other, t, "give_away", owner, "x")
      assert.is_false(ok)
      assert.matches(P("give_away", "owner"), err)
      assert.are.equal(owner, t:info().owner)
      none(tagged("got"), 50, "no ETS-TRANSFER")
    end)

    it("refuses a dead target, naming the pid", function()
      local owner, dead = agent(), agent()
      stop(dead)
      local t = must(owner, "new", "to_dead", {}, 1)
      local ok, err = tcall(owner, t, "give_away", dead, "x")
      assert.is_false(ok)
      assert.matches(P("give_away", "pid", tostring(dead), "not alive"), err)
      assert.are.equal(owner, t:info().owner)
      assert.are.same({ { 1, "v1" } }, t:lookup(1))
    end)

    it("refuses the owner itself and a target that is not a pid", function()
      local owner = agent()
      local t = must(owner, "new", "to_self", {}, 1)
      local ok, err = tcall(owner, t, "give_away", owner)
      assert.is_false(ok)
      assert.matches(P("give_away", "already own"), err)
      ok, err = tcall(owner, t, "give_away", "a name")
      assert.is_false(ok)
      assert.matches(P("give_away", "pid"), err)
      assert.are.equal(owner, t:info().owner)
    end)

    it("a table given away to the host is the host's", function()
      local owner = agent()
      local t = must(owner, "new", "to_host", { type = "ordered_set" }, 3)
      must(owner, "table", t, "give_away", { hl.self(), 42 })
      local m = expect(tagged("ETS-TRANSFER"))
      assert.are.equal(t, m[2])
      assert.are.equal(owner, m[3])
      assert.are.equal(42, m[4])
      t:insert({ 0, "host" })
      assert.are.same({ 0, "host" }, t:tab2list()[1])
      stop(owner)
      assert.are.equal(4, t:info().size)         -- the giver's exit does not touch it
    end)
  end)

  describe("setopts", function()
    it("is refused to a process that is not the owner, and the heir is kept", function()
      local owner, other = agent(), agent()
      local t = must(owner, "new", "opts", { heir = owner, heir_data = 1 }, 1)
      local ok, err = tcall(other, t, "setopts", { heir = other, heir_data = 2 })
      assert.is_false(ok)
      assert.matches(P("setopts", "owner"), err)
      ok, err = tcall(other, t, "setopts", {})
      assert.is_false(ok)
      assert.matches(P("setopts", "owner"), err)
      assert.are.equal(owner, t:info().heir)
      assert.are.equal(1, t:info().heir_data)
    end)

    it("heir = nil (or no heir at all) removes the heir and its data", function()
      local heir, owner = agent(), agent()
      local t = must(owner, "new", "clear", { heir = heir, heir_data = "d" }, 1)
      assert.is_true(must(owner, "table", t, "setopts", { { heir = nil } }))
      assert.is_nil(t:info().heir)
      assert.is_nil(t:info().heir_data)
      stop(owner)
      assert.is_true(dropped(t))
      none(tagged("got"), 50, "the removed heir gets nothing")
    end)

    it("refuses heir_data without an heir rather than dropping the heir", function()
      local t = hl.table.new("data_only", { heir = "keeper", heir_data = 1 })
      assert.error_matches(function() t:setopts{ heir_data = 2 } end,
        P("setopts", "heir_data", "heir"))
      assert.are.equal("keeper", t:info().heir)
      assert.are.equal(1, t:info().heir_data)
    end)
  end)

  -- ------------------------------------------------------------ heirs by name
  describe("an heir given as a registered name", function()
    it("is resolved when the owner dies: a restarted holder inherits, no re-heir step", function()
      local mgr1 = agent({ name = "mgr" })
      local owner = agent()
      local t = must(owner, "new", "by_name", { heir = "mgr", heir_data = "state" }, 10)
      stop(mgr1)                                       -- killed: the name is freed
      assert.is_nil(hl.whereis("mgr"))
      local mgr2 = agent({ name = "mgr" })             -- restarted under the same name
      assert.are.equal("mgr", t:info().heir)
      stop(owner)
      transferred(mgr2, t, owner, "state")
      assert.are.equal(mgr2, t:info().owner)
      assert.are.equal(10, t:info().size)
      assert.are.same({ { 7, "v7" } }, t:lookup(7))
    end)

    it("stays set after a transfer (unlike a pid heir)", function()
      local mgr = agent({ name = "keeper" })
      local owner = agent()
      local t = must(owner, "new", "stays", { heir = "keeper", heir_data = "d" }, 1)
      stop(owner)
      got(mgr, "ETS-TRANSFER")
      assert.are.equal(mgr, t:info().owner)
      assert.are.equal("keeper", t:info().heir)
      assert.are.equal("d", t:info().heir_data)
      -- the holder gives it to a worker; when the worker dies the holder
      -- gets it back through the name
      local worker = agent()
      must(mgr, "table", t, "give_away", { worker, "work" })
      got(worker, "ETS-TRANSFER")
      stop(worker)
      local m = got(mgr, "ETS-TRANSFER")
      assert.are.equal(worker, m[3])
      assert.are.equal(mgr, t:info().owner)
    end)

    it("the holder of the name dying as owner frees the name first: the table is deleted", function()
      local mgr = agent({ name = "holder" })
      local t = must(mgr, "new", "own_name", { heir = "holder" }, 1)
      stop(mgr)
      assert.is_true(dropped(t))
    end)

    it("a name nobody holds at that moment: custody when asked", function()
      local owner = agent()
      local t = must(owner, "new", "nobody", { named = true, heir = "absent", custody = true }, 2)
      stop(owner)
      assert.are.equal(t, hl.table.whereis("nobody"))
      assert.is_nil(t:info().owner)
      assert.are.equal("absent", t:info().heir)
      assert.are.equal(2, t:info().size)
    end)

    it("many owners dying at once with the same name heir: it inherits every table", function()
      local N = 40
      local mgr = agent({ name = "many_heir" })
      local owners, tabs = {}, {}
      for i = 1, N do
        owners[i] = agent()
        tabs[i] = must(owners[i], "new", "m" .. i, { heir = "many_heir", heir_data = i }, i)
      end
      for i = 1, N do hl.exit(owners[i], "kill") end
      local seen = {}
      for _ = 1, N do
        local m = got(mgr, "ETS-TRANSFER", 5000)
        assert.is_nil(seen[m[4]])
        seen[m[4]] = true
        assert.are.equal(tabs[m[4]], m[2])
        assert.are.equal(owners[m[4]], m[3])
      end
      for i = 1, N do
        assert.are.equal(mgr, tabs[i]:info().owner)
        assert.are.equal(i, tabs[i]:info().size)
      end
    end)
  end)

  -- ------------------------------------------------------------ custody
  describe("custody", function()
    local function orphan(name, opts, n)
      local owner = agent()
      opts.custody = true
      opts.named = opts.named ~= false
      local t = must(owner, "new", name, opts, n or 3)
      stop(owner)
      return t, owner
    end

    it("keeps a table with no live heir: owner nil, listed by all(), objects intact", function()
      local t = orphan("kept", {})
      assert.is_nil(t:info().owner)
      assert.is_nil(t:info("owner"))
      assert.is_true(t:info().custody)
      assert.are.equal(t, hl.table.whereis("kept"))
      local listed = false
      for _, u in ipairs(hl.table.all()) do listed = listed or u == t end
      assert.is_true(listed)
      assert.are.same({ { 1, "v1" }, { 2, "v2" }, { 3, "v3" } },
        (function() local l = t:tab2list(); table.sort(l, function(a, b) return a[1] < b[1] end); return l end)())
    end)

    it("a live heir still comes first", function()
      local heir = agent()
      local t = orphan("heir_first", { heir = heir })
      got(heir, "ETS-TRANSFER")
      assert.are.equal(heir, t:info().owner)
    end)

    it("a public table in custody stays readable and writable by anyone", function()
      local t = orphan("pub", { access = "public" })
      t:insert({ 4, "host" })
      local other = agent()
      assert.is_true(must(other, "table", t, "insert", { { 5, "other" } }))
      assert.are.same({ { 5, "other" } }, must(other, "table", t, "lookup", { 5 }))
      assert.are.equal(5, t:info().size)
    end)

    it("a protected table in custody is readable, and writable by nobody", function()
      local t = orphan("prot", {})
      assert.are.same({ { 1, "v1" } }, t:lookup(1))
      assert.error_matches(function() t:insert({ 4 }) end, P("insert", "protected"))
      assert.error_matches(function() t:drop() end, P("drop"))
      assert.are.equal(3, t:info().size)
    end)

    it("a private table in custody is readable by nobody until claimed", function()
      local t = orphan("priv", { access = "private" })
      assert.error_matches(function() t:lookup(1) end, P("lookup", "private"))
      assert.are.equal(t, hl.table.claim("priv"))
      assert.are.same({ { 1, "v1" } }, t:lookup(1))
    end)

    it("claim makes the claimer the owner; a second claim fails", function()
      local t = orphan("claimed", {})
      assert.are.equal(t, hl.table.claim("claimed"))
      assert.are.equal(hl.self(), t:info().owner)
      t:insert({ 4, "mine" })
      assert.are.equal(4, t:info().size)
      assert.error_matches(function() hl.table.claim("claimed") end,
        P("claim", "'claimed'", "already owns"))
      local other = agent()
      local ok, err = cmd(other, "claim", "claimed")
      assert.is_false(ok)
      assert.matches(P("claim", "'claimed'", "not in custody", tostring(hl.self())), err)
      assert.are.equal(hl.self(), t:info().owner)
    end)

    it("claim of a table that never left its owner fails", function()
      local owner = agent()
      local t = must(owner, "new", "owned", { named = true, custody = true }, 1)
      assert.error_matches(function() hl.table.claim("owned") end,
        P("claim", "'owned'", "not in custody", tostring(owner)))
      assert.are.equal(owner, t:info().owner)
    end)

    it("claim of an unknown name or of a non-string fails", function()
      assert.error_matches(function() hl.table.claim("nothing_here") end,
        P("claim", "no table", "nothing_here"))
      assert.error_matches(function() hl.table.claim(42) end, P("claim", "name", "string", "number"))
      assert.error_matches(function() hl.table.claim() end, P("claim", "name", "string", "no value"))
    end)

    it("any process may claim, not only the host", function()
      local t = orphan("by_other", {})
      local claimer = agent()
      assert.are.equal(t, must(claimer, "claim", "by_other"))
      assert.are.equal(claimer, t:info().owner)
      assert.is_true(must(claimer, "table", t, "insert", { { 4, "c" } }))
      assert.are.equal(4, t:info().size)
    end)

    it("an unnamed table in custody is claimed by its name", function()
      local t = orphan("unnamed", { named = false })
      assert.is_nil(hl.table.whereis("unnamed"))
      assert.are.equal(t, hl.table.claim("unnamed"))
      assert.are.equal(hl.self(), t:info().owner)
    end)

    it("custody claimed after owner and heir both died (heir first)", function()
      local heir, owner = agent(), agent()
      local t = must(owner, "new", "both_died",
        { named = true, custody = true, heir = heir, heir_data = "hd" }, 4)
      stop(heir)
      stop(owner)
      assert.is_nil(t:info().owner)
      assert.are.equal(4, t:info().size)
      local claimer = agent()
      assert.are.equal(t, must(claimer, "claim", "both_died"))
      assert.are.equal(claimer, t:info().owner)
      assert.are.same({ { 4, "v4" } }, t:lookup(4))
    end)

    it("a claimed table can get an heir again, and returns to custody without one", function()
      local t = orphan("again", {})
      local claimer, heir = agent(), agent()
      must(claimer, "claim", "again")
      assert.is_true(must(claimer, "table", t, "setopts", { { heir = heir, heir_data = "next" } }))
      stop(claimer)
      transferred(heir, t, claimer, "next")
      assert.are.equal(heir, t:info().owner)
      stop(heir)                                   -- one generation: no heir now
      assert.is_nil(t:info().owner)
      assert.are.equal(t, hl.table.claim("again"))
      assert.are.equal(3, t:info().size)
    end)
  end)

  -- ------------------------------------------------------------ the host's tables
  describe("the host's tables", function()
    it("live until hl.stop(), and are gone after a new start", function()
      local t = hl.table.new("hosted", { named = true, custody = true })
      t:insert({ "k", 1 })
      local p = agent()
      stop(p)
      assert.are.equal(hl.self(), t:info().owner)
      assert.are.equal(t, hl.table.whereis("hosted"))
      hl.stop()
      start(schedulers)
      assert.is_nil(hl.table.whereis("hosted"))
      assert.are.equal(0, #hl.table.all())
      assert.error_matches(function() t:lookup("k") end, "heirloom%.table%.lookup")
    end)
  end)
end)
end

-- ------------------------------------------------------------ large tables
describe("transfers of a large table", function()
  before_each(function() start(2) end)
  after_each(function() pcall(hl.stop) end)

  it("1,000,000 objects go to the heir and are given away whole, nothing copied", function()
    local N = 1000000
    local heir, owner = agent(), agent()
    local ok, t = cmd_within(600000, owner, "new", "big", { heir = heir, heir_data = "big" }, N)
    assert.is_true(ok, tostring(t))
    local memory = t:info().memory
    assert.are.equal(N, t:info().size)
    stop(owner)
    local m = got(heir, "ETS-TRANSFER", 10000)
    assert.are.equal(t, m[2])                    -- the same table, not a copy
    assert.are.equal(t:info().id, m[2]:info().id)
    assert.are.equal(heir, t:info().owner)
    assert.are.equal(N, t:info().size)
    assert.are.equal(memory, t:info().memory)
    for _, k in ipairs({ 1, 2, 500000, 999999, N }) do
      assert.are.same({ { k, "v" .. k } }, t:lookup(k))
    end
    must(heir, "table", t, "give_away", { hl.self(), "whole" })
    assert.are.equal("whole", expect(tagged("ETS-TRANSFER"))[4])
    assert.are.equal(hl.self(), t:info().owner)
    assert.are.equal(N, t:info().size)
    assert.are.same({ { 123456, "v123456" } }, t:lookup(123456))
    t:insert({ N + 1, "host" })
    assert.are.equal(N + 1, t:info().size)
  end)
end)

-- ------------------------------------------------------------ races
for _, schedulers in ipairs({ 2, 0 }) do
describe("ownership races (schedulers = " .. schedulers .. ")", function()
  before_each(function() start(schedulers) end)
  after_each(function() pcall(hl.stop) end)

  -- A table is owned by a live process or is in custody or dropped; never
  -- owned by a pid that has exited.
  local function sane(t)
    if dropped(t) then return true end
    local owner = t:info().owner
    return owner == nil or hl.process_info(owner) ~= nil
  end

  it("the heir killed at the same time as the owner: the table ends in custody", function()
    for round = 1, 60 do
      local heir, owner = agent(), agent()
      local t = must(owner, "new", "race" .. round, { custody = true, heir = heir }, 2)
      local r1, r2 = hl.monitor(heir), hl.monitor(owner)
      if round % 2 == 0 then hl.exit(heir, "kill"); hl.exit(owner, "kill")
      else hl.exit(owner, "kill"); hl.exit(heir, "kill") end
      expect(tagged("DOWN", r1))
      expect(tagged("DOWN", r2))
      assert.is_true(sane(t))
      assert.is_nil(t:info().owner, "round " .. round)
      assert.are.equal(t, hl.table.claim("race" .. round))
      assert.are.equal(2, t:info().size)
    end
  end)

  it("an owner killed while it gives the table away", function()
    for round = 1, 60 do
      local a, b = hl.spawn("owner", "bouncer", hl.self()), hl.spawn("owner", "bouncer", hl.self())
      ready(a); ready(b)
      hl.send(a, { "peer", b })
      hl.send(b, { "peer", a })
      local t = hl.table.new("bounce" .. round, { named = true, custody = true })
      t:insert({ "k", round })
      t:give_away(a, "start")
      hl.sleep(1)
      local victim, survivor = a, b
      if round % 2 == 0 then victim, survivor = b, a end
      stop(victim)
      hl.send(survivor, { "report" })
      expect(tagged("report", survivor))
      assert.is_true(sane(t), "round " .. round)
      local owner = t:info().owner
      assert.is_true(owner == nil or owner == survivor, "round " .. round)
      assert.are.same({ { "k", round } }, t:lookup("k"))
      hl.exit(survivor, "kill")
    end
  end)

  it("many claimers at once while the owner is killed: exactly one wins", function()
    for round = 1, 20 do
      local owner = agent()
      local name = "contested" .. round
      local t = must(owner, "new", name, { named = true, custody = true }, 1)
      local claimers = {}
      for i = 1, 6 do
        claimers[i] = hl.spawn("owner", "claimer", hl.self(), name)
        ready(claimers[i])
      end
      for i = 1, 6 do hl.send(claimers[i], "go") end
      stop(owner)
      local winner = expect(function(m) return type(m) == "table" and m[1] == "claimed" and m[3] end,
        5000, "a winner")[2]
      assert.are.equal(winner, t:info().owner)
      -- the losers are stopped first: once the winner returns, the table
      -- is back in custody and could be won again
      for i = 1, 6 do
        if claimers[i] ~= winner then hl.send(claimers[i], "stop") end
      end
      local losers = 0
      for _ = 1, 5 do
        local m = expect(tagged("claimed"), 5000)
        assert.is_false(m[3], "round " .. round .. ": a second winner")
        assert.matches(P("claim", name, "not in custody"), m[4])
        losers = losers + 1
      end
      assert.are.equal(5, losers)
      assert.are.equal(winner, t:info().owner)
      stop(winner, function(pid) hl.send(pid, "stop") end)
      assert.is_nil(t:info().owner)                -- custody again
      assert.is_true(sane(t))
    end
  end)
end)
end
