-- atom_spec.lua — hl.atom: atoms as Lua values (docs/term-format.md): one
-- value per name, usable as a table key, printed as their name, carried by
-- messages and tables (durable ones too), tested by match specs.
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local hl = S.hl

describe("hl.atom", function()
  after_each(function() pcall(hl.stop) end)

  it("is one value per name: ==, a table key, tostring, hl.kind, ordered by name", function()
    local ok = hl.atom("ok")
    assert.equal(ok, hl.atom("ok"))
    assert.not_equal(ok, hl.atom("error"))
    assert.not_equal(ok, "ok")
    local t = { [ok] = 1 }
    collectgarbage()
    assert.equal(1, t[hl.atom("ok")])
    assert.equal("ok", tostring(ok))
    assert.equal("atom", hl.kind(ok))
    assert.is_true(hl.atom("a") < hl.atom("b"))
    assert.is_true(hl.atom("a") < hl.atom("ab"))
    assert.equal("", tostring(hl.atom("")))
    assert.equal(255, #tostring(hl.atom(("x"):rep(255))))
    assert.equal("userdata", type(ok))
  end)

  it("refuses what no atom can be named, naming the function and the argument", function()
    local function err(...)
      local okc, e = pcall(hl.atom, ...)
      assert.is_false(okc)
      return e
    end
    assert.matches("heirloom.atom: argument 1 (name) must be a string (got number)", err(1), 1, true)
    assert.matches("heirloom.atom: argument 1 (name) must be a string (got no value)", err(), 1, true)
    assert.matches("heirloom.atom: argument 1 (name) must not hold a zero byte", err("a\0b"), 1, true)
    assert.matches("heirloom.atom: argument 1 (name) must be at most 255 bytes (got 256)",
      err(("x"):rep(256)), 1, true)
  end)

  it("travels in messages and tables, as objects, keys and map keys", function()
    S.start(2)
    local ok, err = hl.atom("ok"), hl.atom("error")
    hl.send(hl.self(), { ok, { [err] = "why", list = { ok, err } } })
    local m = hl.receive(1000)
    assert.equal(ok, m[1])
    assert.equal("why", m[2][err])
    assert.same({ ok, err }, m[2].list)
    for _, ttype in ipairs({ "set", "ordered_set" }) do
      local t = hl.table.new("atoms_" .. ttype, { type = ttype })
      t:insert({ ok, 1 })
      t:insert({ err, 2 })
      t:insert({ "ok", 3 })          -- a string is not the atom
      assert.equal(1, t:lookup(ok)[1][2])
      assert.equal(3, t:lookup("ok")[1][2])
      assert.same({ ok }, t:select({ { { "$1", 1 }, { { "is_atom", "$1" } }, { "$1" } } }))
      assert.equal(2, #t:select({ { { "$1", "_" }, { { "is_atom", "$1" } }, { "$1" } } }))
      assert.equal(0, #t:select({ { { "$1", "_" }, { { "is_string", "$1" }, { "is_atom", "$1" } }, { "$1" } } }))
      t:drop()
    end
    -- an ordered_set holds atoms after numbers and before strings, as
    -- Erlang's order does; and after the booleans, which Erlang sorts
    -- among the atoms by name (docs/tables.md, "Differences from ETS")
    local o = hl.table.new("atom_order", { type = "ordered_set" })
    for _, k in ipairs({ "s", ok, true, 5, err }) do o:insert({ k }) end
    local keys = {}
    for _, obj in ipairs(o:tab2list()) do keys[#keys + 1] = obj[1] end
    assert.same({ 5, true, err, ok, "s" }, keys)
  end)

  it("prints as its name in the shell, unquoted, as a value and as a key", function()
    local shell = require("heirloom.shell")
    assert.equal("ok", shell.show(hl.atom("ok")))
    assert.equal('"ok"', shell.show("ok"))
    assert.equal('{ok, [error] = "why"}', shell.show({ hl.atom("ok"), [hl.atom("error")] = "why" }))
  end)

  it("is logged by its name, as the shell shows it", function()
    hl.start{ schedulers = 2, logger = "capture" }
    hl.logs()
    hl.log.notice({ hl.atom("ok"), { [hl.atom("error")] = "why" } })
    local lines = hl.logs()
    assert.equal(1, #lines)
    assert.matches('{ok, {[error] = "why"}}', lines[1], 1, true)
  end)

  it("comes back from a durable table after a restart", function()
    local root, fresh = S.temp_root()
    local dir = fresh()
    S.start_on(dir)
    local t = hl.table.new("durable_atoms", { durable = true, named = true })
    t:insert({ hl.atom("key"), { state = hl.atom("running") } })
    hl.stop()
    S.start_on(dir)
    local obj = hl.table.whereis("durable_atoms"):lookup(hl.atom("key"))[1]
    assert.equal(hl.atom("running"), obj[2].state)
    hl.stop()
    os.execute("rm -rf " .. root)
  end)
end)
