-- table_lua_path_spec.lua — the shapes the Lua table functions take and
-- give on their shortest paths: short arrays of scalars as objects (encoded
-- in one pass), integer and string keys, and the result lists of lookup
-- and update_counter. Each must answer exactly as the general path does.
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helpers.lua")
local hl = H.hl

describe("the Lua table path", function()
  local t
  before_each(function()
    H.start()
    t = hl.table.new("lua_path", { type = "set" })
  end)
  after_each(H.stop)

  describe("objects that are short arrays", function()
    it("keeps numbers, strings and booleans, integral floats as integers", function()
      t:insert({ "k", 1, -2.5, 3.0, -0.0, true, false, "s\0t", math.maxinteger, 1 / 0 })
      H.assert_strict({ { "k", 1, -2.5, 3, 0, true, false, "s\0t", math.maxinteger, 1 / 0 } },
                      t:lookup("k"))
    end)

    it("keeps NaN as a value and refuses it as the key", function()
      t:insert({ "n", 0 / 0 })
      local v = t:lookup("n")[1][2]
      assert.is_true(v ~= v)
      local ok, err = pcall(t.insert, t, { 0 / 0, 1 })
      assert.is_false(ok)
      assert.matches("heirloom.table.insert: key must not be NaN", err, 1, true)
    end)

    it("is an array whatever order its keys were set in", function()
      local o = {}
      o[3] = "c"
      o[2] = "b"
      o[1] = "k"
      t:insert(o)
      H.assert_strict({ { "k", "b", "c" } }, t:lookup("k"))
    end)

    it("is a map with a hole or a key besides 1..n, and refused as an object", function()
      for _, o in ipairs({ { "k", nil, 3 }, { "k", 2, x = 1 }, { [2] = "k" }, { [0] = 1, "k" } }) do
        local ok, err = pcall(t.insert, t, o)
        assert.is_false(ok)
        assert.matches("heirloom.table.insert: object must be an array (keypos is 1)", err, 1, true)
      end
      assert.are.equal(0, t:info("size"))
    end)

    it("reads the object raw, ignoring its metatable", function()
      local o = setmetatable({ "k", 1 }, {
        __index = function() return "meta" end,
        __len = function() return 99 end,
        __pairs = function() error("__pairs must not be called") end,
      })
      t:insert(o)
      local got = t:lookup("k")[1]
      H.assert_strict({ "k", 1 }, got)
      assert.is_nil(getmetatable(got))
    end)

    it("keeps arrays of every length around 127 and 128 elements", function()
      for _, n in ipairs({ 0, 1, 126, 127, 128, 129, 300 }) do
        local o = { "k" .. n }
        for i = 2, n do o[i] = i end
        if n == 0 then o = {} end
        if n > 0 then
          t:insert(o)
          H.assert_strict({ o }, t:lookup("k" .. n), "length " .. n)
        else
          local ok, err = pcall(t.insert, t, o)
          assert.is_false(ok)
          assert.matches("object has 0 elements but keypos is 1", err, 1, true)
        end
      end
    end)

    it("keeps long strings, alone and together", function()
      local a, b = string.rep("a", 40000), string.rep("b", 20000)
      t:insert({ "k1", a })
      t:insert({ "k2", b, b })
      t:insert({ "k3", string.rep("c", 200000) })
      H.assert_strict({ { "k1", a } }, t:lookup("k1"))
      H.assert_strict({ { "k2", b, b } }, t:lookup("k2"))
      assert.are.equal(200000, #t:lookup("k3")[1][2])
    end)

    it("names the element it cannot encode", function()
      local ok, err = pcall(t.insert, t, { "k", 1, print })
      assert.is_false(ok)
      assert.matches("heirloom.table.insert: object[3]: cannot encode a function", err, 1, true)
      ok, err = pcall(t.insert, t, { "k", { 1, print } })
      assert.is_false(ok)
      assert.matches("object[2][2]: cannot encode a function", err, 1, true)
    end)

    it("keeps nested tables and handles inside short arrays", function()
      t:insert({ "k", { 1, 2 }, { a = 1 }, t })
      local got = t:lookup("k")[1]
      H.assert_strict({ "k", { 1, 2 }, { a = 1 } }, { got[1], got[2], got[3] })
      assert.are.equal(t, got[4])
    end)
  end)

  describe("keys", function()
    it("finds integers, floats, strings and tables alike, 1 and 1.0 as one key", function()
      t:insert({ 1, "int" })
      t:insert({ 2.5, "float" })
      t:insert({ "s", "string" })
      t:insert({ { 1, "x" }, "array" })
      t:insert({ { a = 1 }, "map" })
      assert.are.equal("int", t:lookup(1.0)[1][2])
      assert.are.equal("float", t:lookup(2.5)[1][2])
      assert.are.equal("string", t:lookup("s")[1][2])
      assert.are.equal("array", t:lookup({ 1.0, "x" })[1][2])
      assert.are.equal("map", t:lookup({ a = 1 })[1][2])
      assert.are.equal(0, #t:lookup("1"))
      assert.are.equal(0, #t:lookup({ 1, "x", nil, 3 }))
    end)
  end)

  describe("results", function()
    it("gives a new empty list for a missing key", function()
      local a, b = t:lookup("nothing"), t:lookup("nothing")
      assert.are.equal("table", type(a))
      assert.are.equal(0, #a)
      assert.is_nil(next(a))
      assert.are_not.equal(a, b)
      assert.is_nil(getmetatable(a))
    end)

    it("gives a new list and new objects on every lookup", function()
      t:insert({ "k", 1 })
      local a, b = t:lookup("k"), t:lookup("k")
      assert.are_not.equal(a, b)
      assert.are_not.equal(a[1], b[1])
      a[1][2] = 99
      assert.are.equal(1, t:lookup("k")[1][2])
    end)

    it("lists every object of a bag under its key, in insertion order", function()
      local bag = hl.table.new("lua_path_bag", { type = "duplicate_bag" })
      bag:insert({ "k", 1 })
      bag:insert({ "k", "two" })
      bag:insert({ "k", 1 })
      bag:insert({ "other", 3 })
      H.assert_strict({ { "k", 1 }, { "k", "two" }, { "k", 1 } }, bag:lookup("k"))
    end)

    it("gives update_counter's value as an integer, and a list for a list of ops", function()
      t:insert({ "c", 5, 10 })
      H.assert_strict(6, t:update_counter("c", 1))
      H.assert_strict(16, t:update_counter("c", { 3, 6 }))
      H.assert_strict({ 7, 15 }, t:update_counter("c", { { 2, 1 }, { 3, -1 } }))
      H.assert_strict(1, t:update_counter("new", 1, { "new", 0 }))
      H.assert_strict({ { "c", 7, 15 } }, t:lookup("c"))
    end)
  end)
end)
