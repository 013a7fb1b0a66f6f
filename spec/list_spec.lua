-- list_spec.lua — hl.list: lists as a kind of value of their own
-- (docs/term-format.md, "Lists"): apart from arrays in messages, tables
-- (as keys, in Erlang's list order, durable ones too) and match specs.
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local hl = S.hl

describe("hl.list", function()
  after_each(function() pcall(hl.stop) end)

  it("marks a table as a list and returns it; hl.kind tells lists apart", function()
    local t = { 1, 2, 3 }
    local l = hl.list(t)
    assert.equal(t, l)
    assert.equal("list", hl.kind(l))
    assert.is_nil(hl.kind({ 1, 2, 3 }))
    assert.equal("list", hl.kind(hl.list()))
    assert.equal("list", hl.kind(hl.list({})))
    assert.equal(3, #l)
    assert.equal(2, l[2])
    assert.equal(l, hl.list(l))   -- again: still the same list
  end)

  it("refuses what cannot be a list, naming the function and the argument", function()
    local function err(...)
      local okc, e = pcall(hl.list, ...)
      assert.is_false(okc)
      return e
    end
    assert.matches("heirloom.list: argument 1 (t) must be a table (got string)", err("abc"), 1, true)
    assert.matches("heirloom.list: argument 1 (t) must have only positive integer keys", err({ a = 1 }), 1, true)
    assert.matches("heirloom.list: argument 1 (t) must have only positive integer keys", err({ [0] = 1 }), 1, true)
    assert.matches("heirloom.list: argument 1 (t) must have only positive integer keys", err({ 1, x = 2 }), 1, true)
    assert.matches("heirloom.list: argument 1 (t) already has a metatable",
      err(setmetatable({}, {})), 1, true)
  end)

  it("travels in messages as a list, apart from an array with the same elements", function()
    S.start(2)
    hl.send(hl.self(), { hl.list{ 1, hl.list{ 2 }, "ab" }, { 1, 2 }, hl.list(), { k = hl.list{ true } } })
    local m = hl.receive(1000)
    assert.equal("list", hl.kind(m[1]))
    assert.equal("list", hl.kind(m[1][2]))
    assert.same({ 1, { 2 }, "ab" }, m[1])
    assert.is_nil(hl.kind(m[2]))
    assert.equal("list", hl.kind(m[3]))
    assert.equal(0, #m[3])
    assert.equal("list", hl.kind(m[4].k))
  end)

  it("keeps nil elements as holes in their places, and refuses a key that is no index", function()
    S.start(2)
    hl.send(hl.self(), hl.list{ nil, 2, nil, 4 })
    local m = hl.receive(1000)
    assert.equal("list", hl.kind(m))
    assert.same({ [2] = 2, [4] = 4 }, m)
    hl.send(hl.self(), { m })   -- and again: [nil, 2, nil, 4] as it was
    assert.same({ [2] = 2, [4] = 4 }, hl.receive(1000)[1])
    local l = hl.list{ 1, 2 }
    l.extra = true
    local okc, e = pcall(hl.send, hl.self(), { l })
    assert.is_false(okc)
    assert.matches("message[1]: cannot encode a list with a key that is not a positive integer", e, 1, true)
  end)

  it("is a table key apart from the array, in Erlang's list order", function()
    S.start(2)
    for _, ttype in ipairs({ "set", "ordered_set" }) do
      local t = hl.table.new("lists_" .. ttype, { type = ttype })
      t:insert({ hl.list{ 1, 2 }, "list" })
      t:insert({ { 1, 2 }, "array" })
      assert.equal("list", t:lookup(hl.list{ 1, 2 })[1][2])
      assert.equal("array", t:lookup({ 1, 2 })[1][2])
      assert.equal("list", hl.kind(t:lookup(hl.list{ 1, 2 })[1][1]))
      assert.same({ "list" }, t:select({ { { "$1", "$2" }, { { "is_list", "$1" } }, { "$2" } } }))
      assert.same({ "array" }, t:select({ { { "$1", "$2" }, { { "is_array", "$1" } }, { "$2" } } }))
      -- a list in a head is a constant
      assert.same({ "list" }, t:select({ { { hl.list{ 1, 2 }, "$2" }, {}, { "$2" } } }))
      t:drop()
    end
    -- arrays < maps < lists < strings; lists element by element, a prefix first
    local o = hl.table.new("list_order", { type = "ordered_set" })
    local keys = { "s", hl.list{ 2 }, hl.list{ 1, 2 }, hl.list{ 1 }, hl.list(), { 9, 9, 9 }, { a = 1 } }
    for _, k in ipairs(keys) do o:insert({ k }) end
    local got = {}
    for _, obj in ipairs(o:tab2list()) do got[#got + 1] = require("heirloom.shell").show(obj[1]) end
    assert.same({ "{9, 9, 9}", "{a = 1}", "[]", "[1]", "[1, 2]", "[2]", '"s"' }, got)
  end)

  it("is logged in brackets", function()
    hl.start{ schedulers = 2, logger = "capture" }
    hl.logs()
    hl.log.notice({ hl.list{ 1, "a", hl.list() }, { 2 } })
    local lines = hl.logs()
    assert.equal(1, #lines)
    assert.matches('{[1, "a", []], {2}}', lines[1], 1, true)
  end)

  it("prints in brackets in the shell", function()
    local shell = require("heirloom.shell")
    assert.equal("[1, [2], \"ab\"]", shell.show(hl.list{ 1, hl.list{ 2 }, "ab" }))
    assert.equal("[]", shell.show(hl.list()))
    assert.equal("{[1], {1}}", shell.show({ hl.list{ 1 }, { 1 } }))
  end)

  it("comes back from a durable table after a restart, as a key and in a value", function()
    local root, fresh = S.temp_root()
    local dir = fresh()
    S.start_on(dir)
    local t = hl.table.new("durable_lists", { durable = true, named = true })
    t:insert({ hl.list{ "k", 1 }, { items = hl.list{ 1, hl.list{ 2 } } } })
    hl.stop()
    S.start_on(dir)
    local obj = hl.table.whereis("durable_lists"):lookup(hl.list{ "k", 1 })[1]
    assert.equal("list", hl.kind(obj[1]))
    assert.equal("list", hl.kind(obj[2].items))
    assert.equal("list", hl.kind(obj[2].items[2]))
    assert.same({ 1, { 2 } }, obj[2].items)
    hl.stop()
    os.execute("rm -rf " .. root)
  end)
end)
