-- table_spec.lua — ETS semantics of heirloom tables, one behaviour per test.
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helpers.lua")
local hl = H.hl

local TYPES = { "set", "ordered_set", "bag", "duplicate_bag" }
local SETS = { "set", "ordered_set" }

describe("tables", function()
  before_each(H.start)
  after_each(H.stop)

  -- ------------------------------------------------------------ creation, info
  describe("new and info", function()
    it("uses the documented defaults", function()
      local t = hl.table.new("plain")
      local info = t:info()
      assert.are.equal("set", info.type)
      assert.are.equal("protected", info.access)
      assert.are.equal(false, info.named)
      assert.are.equal(1, info.keypos)
      assert.are.equal(0, info.size)
      assert.are.equal("plain", info.name)
      assert.are.equal(hl.self(), info.owner)
      assert.is_nil(info.heir)
      assert.are.equal("number", type(info.memory))
      assert.are.equal("integer", math.type(info.memory))
      assert.is_true(info.memory >= 0)
      assert.is_not_nil(info.id)
    end)

    for _, ty in ipairs(TYPES) do
      for _, access in ipairs({ "public", "protected", "private" }) do
        it("creates a " .. access .. " " .. ty, function()
          local t = hl.table.new("t", { type = ty, access = access })
          assert.are.equal(ty, t:info("type"))
          assert.are.equal(access, t:info("access"))
          assert.is_true(t:insert({ "a", 1 }))
          H.assert_strict({ { "a", 1 } }, t:lookup("a"))
        end)
      end
    end

    it("gives single items with info(item), equal to the full info", function()
      local t = hl.table.new("items", { type = "bag", access = "public", named = true, keypos = 2 })
      t:insert({ 1, "a" }, { 2, "a" }, { 3, "b" })
      local info = t:info()
      for _, item in ipairs({ "type", "access", "size", "memory", "owner", "name", "named",
                              "keypos", "id" }) do
        assert.are.equal(info[item], t:info(item), item)
      end
      assert.are.equal(3, info.size)
      assert.are.equal(2, info.keypos)
      assert.are.equal(true, info.named)
      assert.are.equal("public", info.access)
    end)

    it("counts objects, not keys, in size; memory grows with data", function()
      local t = hl.table.new("sz", { type = "duplicate_bag" })
      local m0 = t:info("memory")
      for i = 1, 100 do t:insert({ i % 10, ("x"):rep(100) }) end
      assert.are.equal(100, t:info("size"))
      assert.is_true(t:info("memory") > m0 + 100 * 100)
      t:delete_all_objects()
      assert.are.equal(0, t:info("size"))
    end)

    it("counts a hash table's slots in its memory, and gives them back when emptied", function()
      local t = hl.table.new("slots", { type = "set" })
      for i = 1, 1000 do t:insert({ i, 0 }) end
      -- each object's 24-byte header and its bytes, and at least a 16-byte
      -- slot each (a slot array is at most 3/4 full)
      assert.is_true(t:info("memory") >= 1000 * (24 + 16 + 16), t:info("memory"))
      t:delete_all_objects()
      assert.are.equal(0, t:info("memory"))
    end)

    it("counts an ordered_set's tree nodes in its memory, and gives them back when emptied", function()
      local o = hl.table.new("nodes", { type = "ordered_set" })
      local empty = o:info("memory")
      assert.is_true(empty > 0)   -- the store's own structure
      for i = 1, 1000 do o:insert({ i, 0 }) end
      -- the objects (24-byte header, 16 bytes or more of term), and in the
      -- leaves a key prefix and a pointer (16 bytes) for each
      assert.is_true(o:info("memory") >= empty + 1000 * (24 + 16 + 16), o:info("memory"))
      o:delete_all_objects()
      assert.are.equal(empty, o:info("memory"))
      for i = 1, 1000 do o:insert({ i, 0 }) end
      for i = 1, 1000 do o:delete(i) end
      assert.are.equal(empty, o:info("memory"))
    end)

    it("gives each table its own id", function()
      local a, b = hl.table.new("a"), hl.table.new("a")
      assert.are_not.equal(a:info("id"), b:info("id"))
      assert.are_not.equal(a, b)
    end)

    it("reports heir and heir_data given at creation", function()
      local t = hl.table.new("h", { heir = "keeper", heir_data = { "data", 1 } })
      assert.are.equal("keeper", t:info("heir"))
      H.assert_strict({ "data", 1 }, t:info("heir_data"))
    end)

    it("reports the owner itself as heir when set so (ETS keeps heir = self())", function()
      local u = hl.table.new("h2", { heir = hl.self(), heir_data = "d" })
      assert.are.equal(hl.self(), u:info("heir"))
      assert.are.equal("d", u:info("heir_data"))
    end)

    it("makes every function a module function too", function()
      local t = hl.table.new("mod")
      assert.is_true(hl.table.insert(t, { "k", 1 }))
      H.assert_strict({ { "k", 1 } }, hl.table.lookup(t, "k"))
      assert.is_true(hl.table.member(t, "k"))
      assert.are.equal(1, hl.table.info(t, "size"))
    end)
  end)

  -- ------------------------------------------------------------ names
  describe("names", function()
    it("finds a named table with whereis, as the same handle", function()
      local t = hl.table.new("users", { named = true })
      local found = hl.table.whereis("users")
      assert.are.equal(t, found)
      assert.is_true(rawequal(t, found))
      local seen = {}
      seen[t] = "yes"
      assert.are.equal("yes", seen[found])   -- usable as a table key
    end)

    it("does not find unnamed tables by name, and lets them share a name", function()
      local a = hl.table.new("same")
      local b = hl.table.new("same")
      assert.is_nil(hl.table.whereis("same"))
      assert.are.equal("same", a:info("name"))
      assert.are.equal("same", b:info("name"))
      a:insert({ 1, "a" })
      assert.are.equal(0, b:info("size"))
    end)

    it("returns nil for an unknown name", function()
      assert.is_nil(hl.table.whereis("nobody"))
    end)

    it("lists every live table with all()", function()
      local a = hl.table.new("a")
      local b = hl.table.new("b", { named = true })
      local c = hl.table.new("c", { type = "bag" })
      local all = hl.table.all()
      assert.are.equal(3, #all)
      local found = {}
      for _, h in ipairs(all) do found[h] = true end
      assert.is_true(found[a] and found[b] and found[c])
      b:drop()
      all = hl.table.all()
      assert.are.equal(2, #all)
      for _, h in ipairs(all) do assert.are_not.equal(b, h) end
    end)

    it("renames a named table: whereis follows the new name", function()
      local t = hl.table.new("old", { named = true })
      t:insert({ "k", 1 })
      assert.are.equal("new", t:rename("new"))
      assert.are.equal("new", t:info("name"))
      assert.is_nil(hl.table.whereis("old"))
      assert.are.equal(t, hl.table.whereis("new"))
      H.assert_strict({ { "k", 1 } }, hl.table.whereis("new"):lookup("k"))
      -- the old name is free again
      local u = hl.table.new("old", { named = true })
      assert.are.equal(u, hl.table.whereis("old"))
      assert.are_not.equal(t, u)
    end)

    it("renames an unnamed table", function()
      local t = hl.table.new("anon")
      assert.are.equal("other", t:rename("other"))
      assert.are.equal("other", t:info("name"))
      assert.is_nil(hl.table.whereis("other"))
    end)

    it("frees the name of a dropped table", function()
      local t = hl.table.new("once", { named = true })
      t:drop()
      assert.is_nil(hl.table.whereis("once"))
      local u = hl.table.new("once", { named = true })
      assert.are.equal(u, hl.table.whereis("once"))
    end)

    it("drops every table on stop", function()
      local t = hl.table.new("gone", { named = true })
      t:insert({ 1 })
      hl.stop()
      hl.start{}
      assert.is_nil(hl.table.whereis("gone"))
      assert.are.equal(0, #hl.table.all())
      assert.has_error(function() t:lookup(1) end)
    end)
  end)

  -- ------------------------------------------------------------ insert
  describe("insert", function()
    it("replaces the object with the same key in a set and an ordered_set", function()
      for _, ty in ipairs(SETS) do
        local t = hl.table.new(ty, { type = ty })
        assert.is_true(t:insert({ "k", 1 }))
        assert.is_true(t:insert({ "k", 2, "more" }))
        assert.are.equal(1, t:info("size"))
        H.assert_strict({ { "k", 2, "more" } }, t:lookup("k"))
      end
    end)

    it("keeps distinct objects per key in a bag, in insertion order, no duplicates", function()
      local t = hl.table.new("bag", { type = "bag" })
      t:insert({ "k", 1 })
      t:insert({ "k", 2 })
      t:insert({ "k", 1 })            -- already there: nothing
      t:insert({ "k", 3 }, { "k", 2 }, { "j", 0 })
      H.assert_strict({ { "k", 1 }, { "k", 2 }, { "k", 3 } }, t:lookup("k"))
      H.assert_strict({ { "j", 0 } }, t:lookup("j"))
      assert.are.equal(4, t:info("size"))
    end)

    it("keeps every object in a duplicate_bag, in insertion order", function()
      local t = hl.table.new("dbag", { type = "duplicate_bag" })
      t:insert({ "k", 1 })
      t:insert({ "k", 2 })
      t:insert({ "k", 1 })
      t:insert({ "k", 1 }, { "k", 3 })
      H.assert_strict({ { "k", 1 }, { "k", 2 }, { "k", 1 }, { "k", 1 }, { "k", 3 } }, t:lookup("k"))
      assert.are.equal(5, t:info("size"))
    end)

    it("inserts several objects in one call and with insert_many, on every type", function()
      for _, ty in ipairs(TYPES) do
        local t = hl.table.new(ty, { type = ty })
        assert.is_true(t:insert({ 1, "a" }, { 2, "b" }, { 3, "c" }))
        assert.is_true(t:insert_many({ { 4, "d" }, { 5, "e" } }))
        assert.is_true(t:insert_many({}))
        assert.are.equal(5, t:info("size"))
        for i, v in ipairs({ "a", "b", "c", "d", "e" }) do
          H.assert_strict({ { i, v } }, t:lookup(i))
        end
      end
    end)

    it("applies a set's last object when one call has the same key twice", function()
      local t = hl.table.new("s")
      t:insert({ "k", 1 }, { "k", 2 })
      H.assert_strict({ { "k", 2 } }, t:lookup("k"))
      t:insert_many({ { "j", 1 }, { "j", 3 } })
      H.assert_strict({ { "j", 3 } }, t:lookup("j"))
    end)

    it("keeps objects of any length, the key alone included", function()
      local t = hl.table.new("lens")
      t:insert({ "only" }, { "many", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 })
      H.assert_strict({ { "only" } }, t:lookup("only"))
      H.assert_strict({ { "many", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 } }, t:lookup("many"))
    end)

    it("holds many objects and finds each one, on every type", function()
      for _, ty in ipairs(TYPES) do
        local t = hl.table.new(ty, { type = ty })
        for i = 1, 5000 do t:insert({ i, i * 2, tostring(i) }) end
        assert.are.equal(5000, t:info("size"))
        for i = 1, 5000, 7 do H.assert_strict({ { i, i * 2, tostring(i) } }, t:lookup(i)) end
        assert.are.same({}, t:lookup(5001))
      end
    end)
  end)

  -- ------------------------------------------------------------ insert_new
  describe("insert_new", function()
    for _, ty in ipairs(TYPES) do
      it("inserts only when no key is present (" .. ty .. ")", function()
        local t = hl.table.new("n", { type = ty })
        assert.is_true(t:insert_new({ "a", 1 }))
        assert.is_false(t:insert_new({ "a", 2 }))
        H.assert_strict({ { "a", 1 } }, t:lookup("a"))
        -- all or nothing
        assert.is_false(t:insert_new({ "b", 1 }, { "a", 3 }, { "c", 1 }))
        assert.is_false(t:member("b"))
        assert.is_false(t:member("c"))
        H.assert_strict({ { "a", 1 } }, t:lookup("a"))
        assert.is_true(t:insert_new({ "b", 1 }, { "c", 2 }))
        assert.are.equal(3, t:info("size"))
        assert.is_false(t:insert_new_many({ { "d", 1 }, { "b", 9 } }))
        assert.is_false(t:member("d"))
        assert.is_true(t:insert_new_many({ { "d", 1 }, { "e", 2 } }))
        H.assert_strict({ { "e", 2 } }, t:lookup("e"))
        assert.are.equal(5, t:info("size"))
      end)
    end

    it("treats 1.0 as present when 1 is", function()
      local t = hl.table.new("n")
      t:insert({ 1, "int" })
      assert.is_false(t:insert_new({ 1.0, "float" }))
      H.assert_strict({ { 1, "int" } }, t:lookup(1))
    end)

    it("finds an integer key by a float of the same value, and floats as themselves", function()
      local t = hl.table.new("nkeys", { type = "ordered_set" })
      t:insert({ 2, 0 })
      t:insert({ 2.5, "half" })
      t:insert({ 2 ^ 63, "big" })
      H.assert_strict({ { 2, 0 } }, t:lookup(2.0))
      assert.are.equal(1, t:update_counter(2.0, 1))
      assert.is_true(t:member(-0.0 + 2))
      H.assert_strict({ { 2.5, "half" } }, t:lookup(2.5))
      H.assert_strict({ { 2 ^ 63, "big" } }, t:lookup(2 ^ 63))
      assert.are.same({}, t:lookup(math.maxinteger))
      assert.are.same({}, t:lookup("2"))          -- a string is no number
      t:delete(2.0)
      assert.are.same({}, t:lookup(2))
      assert.are.equal(2, t:info("size"))
    end)
  end)

  -- ------------------------------------------------------------ lookup & co
  describe("lookup, member, lookup_element", function()
    for _, ty in ipairs(TYPES) do
      it("gives an empty list and false for a missing key (" .. ty .. ")", function()
        local t = hl.table.new("l", { type = ty })
        t:insert({ "present", 1 })
        local got = t:lookup("absent")
        assert.are.equal("table", type(got))
        assert.are.equal(0, #got)
        assert.is_nil(next(got))
        assert.is_false(t:member("absent"))
        assert.is_true(t:member("present"))
      end)
    end

    it("gives one element of a set object, the key at keypos", function()
      for _, ty in ipairs(SETS) do
        local t = hl.table.new("le", { type = ty })
        t:insert({ "k", 10, { nested = true }, "last" })
        assert.are.equal("k", t:lookup_element("k", 1))
        assert.are.equal(10, t:lookup_element("k", 2))
        H.assert_strict({ nested = true }, t:lookup_element("k", 3))
        assert.are.equal("last", t:lookup_element("k", 4))
      end
    end)

    it("gives the elements before and after a key that is not first", function()
      for _, ty in ipairs(TYPES) do
        local t = hl.table.new("le2", { type = ty, keypos = 2 })
        t:insert({ 1, "k", { 2, { 3 } }, 4.5, "five" })
        local function one(x) return (ty == "bag" or ty == "duplicate_bag") and { x } or x end
        H.assert_strict(one(1), t:lookup_element("k", 1))
        H.assert_strict(one("k"), t:lookup_element("k", 2))
        H.assert_strict(one({ 2, { 3 } }), t:lookup_element("k", 3))
        H.assert_strict(one(4.5), t:lookup_element("k", 4))
        H.assert_strict(one("five"), t:lookup_element("k", 5))
        assert.has_error(function() t:lookup_element("k", 6) end)
      end
    end)

    it("gives a list of elements for a bag and a duplicate_bag", function()
      local b = hl.table.new("b", { type = "bag" })
      b:insert({ "k", 1 }, { "k", 2 }, { "k", 3 })
      H.assert_strict({ 1, 2, 3 }, b:lookup_element("k", 2))
      H.assert_strict({ "k", "k", "k" }, b:lookup_element("k", 1))
      local d = hl.table.new("d", { type = "duplicate_bag" })
      d:insert({ "k", 1 }, { "k", 1 }, { "k", 2 })
      H.assert_strict({ 1, 1, 2 }, d:lookup_element("k", 2))
    end)

    it("gives the default for a missing key", function()
      for _, ty in ipairs(TYPES) do
        local t = hl.table.new("le", { type = ty })
        assert.are.equal("dflt", t:lookup_element("missing", 2, "dflt"))
        H.assert_strict({ 1, 2 }, t:lookup_element("missing", 5, { 1, 2 }))
        assert.are.equal(false, t:lookup_element("missing", 2, false))
        assert.are.equal(0, t:info("size"))
      end
    end)

    it("ignores the default when the key is present", function()
      local t = hl.table.new("le")
      t:insert({ "k", "v" })
      assert.are.equal("v", t:lookup_element("k", 2, "dflt"))
    end)
  end)

  -- ------------------------------------------------------------ take & delete
  describe("take and delete", function()
    it("take returns the objects and removes them", function()
      for _, ty in ipairs(TYPES) do
        local t = hl.table.new("tk", { type = ty })
        t:insert({ "k", 1 }, { "other", 2 })
        H.assert_strict({ { "k", 1 } }, t:take("k"))
        assert.is_false(t:member("k"))
        assert.are.same({}, t:take("k"))
        assert.are.equal(1, t:info("size"))
        H.assert_strict({ { "other", 2 } }, t:lookup("other"))
      end
    end)

    it("take returns every object of a bag key in order", function()
      local t = hl.table.new("tk", { type = "duplicate_bag" })
      t:insert({ "k", 1 }, { "k", 2 }, { "k", 1 }, { "j", 0 })
      H.assert_strict({ { "k", 1 }, { "k", 2 }, { "k", 1 } }, t:take("k"))
      assert.are.equal(1, t:info("size"))
    end)

    it("delete removes every object of the key and is true for a missing key", function()
      for _, ty in ipairs(TYPES) do
        local t = hl.table.new("del", { type = ty })
        t:insert({ "k", 1 }, { "j", 2 })
        if ty == "bag" or ty == "duplicate_bag" then t:insert({ "k", 3 }) end
        assert.is_true(t:delete("k"))
        assert.are.same({}, t:lookup("k"))
        assert.is_true(t:delete("k"))
        assert.is_true(t:delete("never"))
        H.assert_strict({ { "j", 2 } }, t:tab2list())
      end
    end)

    it("delete_object in a set removes only an equal object", function()
      for _, ty in ipairs(SETS) do
        local t = hl.table.new("do", { type = ty })
        t:insert({ "k", 1 })
        assert.is_true(t:delete_object({ "k", 2 }))
        H.assert_strict({ { "k", 1 } }, t:lookup("k"))
        assert.is_true(t:delete_object({ "k", 1 }))
        assert.are.same({}, t:lookup("k"))
      end
    end)

    it("delete_object in a bag removes that object only", function()
      local t = hl.table.new("do", { type = "bag" })
      t:insert({ "k", 1 }, { "k", 2 }, { "k", 3 })
      assert.is_true(t:delete_object({ "k", 2 }))
      H.assert_strict({ { "k", 1 }, { "k", 3 } }, t:lookup("k"))
      assert.is_true(t:delete_object({ "k", 9 }))
      H.assert_strict({ { "k", 1 }, { "k", 3 } }, t:lookup("k"))
      -- re-inserted, it goes to the end
      t:insert({ "k", 2 })
      H.assert_strict({ { "k", 1 }, { "k", 3 }, { "k", 2 } }, t:lookup("k"))
    end)

    it("delete_object in a duplicate_bag removes every copy", function()
      local t = hl.table.new("do", { type = "duplicate_bag" })
      t:insert({ "k", 1 }, { "k", 2 }, { "k", 1 }, { "k", 3 }, { "k", 1 })
      assert.is_true(t:delete_object({ "k", 1 }))
      H.assert_strict({ { "k", 2 }, { "k", 3 } }, t:lookup("k"))
      assert.are.equal(2, t:info("size"))
    end)

    it("delete_object matches numbers by value (1.0 is 1)", function()
      local t = hl.table.new("do", { type = "bag" })
      t:insert({ "k", 1 }, { "k", 1.5 })
      assert.is_true(t:delete_object({ "k", 1.0 }))
      H.assert_strict({ { "k", 1.5 } }, t:lookup("k"))
    end)

    it("delete_all_objects empties the table, which stays usable", function()
      for _, ty in ipairs(TYPES) do
        local t = hl.table.new("da", { type = ty, named = true })
        for i = 1, 100 do t:insert({ i }) end
        assert.is_true(t:delete_all_objects())
        assert.are.equal(0, t:info("size"))
        assert.is_nil(t:first())
        assert.are.same({}, t:tab2list())
        assert.is_true(t:insert({ "again" }))
        assert.are.equal(1, t:info("size"))
        assert.are.equal(t, hl.table.whereis("da"))
        t:drop()
      end
    end)

    it("drop removes the table", function()
      local t = hl.table.new("dr", { named = true })
      t:insert({ 1 })
      assert.is_true(t:drop())
      assert.is_nil(hl.table.whereis("dr"))
      assert.are.equal(0, #hl.table.all())
      assert.error_matches(function() t:lookup(1) end, "^heirloom%.table%.lookup: .*dropped")
    end)
  end)

  -- ------------------------------------------------------------ update_counter
  describe("update_counter", function()
    for _, ty in ipairs(SETS) do
      it("adds an integer to the element after the key (" .. ty .. ")", function()
        local t = hl.table.new("c", { type = ty })
        t:insert({ "k", 10, 100 })
        H.assert_strict(11, t:update_counter("k", 1))
        H.assert_strict(6, t:update_counter("k", -5))
        H.assert_strict(6, t:update_counter("k", 0))
        H.assert_strict({ { "k", 6, 100 } }, t:lookup("k"))
      end)

      it("adds at a given position with {pos, incr} (" .. ty .. ")", function()
        local t = hl.table.new("c", { type = ty })
        t:insert({ "k", 10, 100 })
        H.assert_strict(150, t:update_counter("k", { 3, 50 }))
        H.assert_strict(9, t:update_counter("k", { 2, -1 }))
        H.assert_strict({ { "k", 9, 150 } }, t:lookup("k"))
      end)

      it("wraps at a threshold with {pos, incr, threshold, setvalue} (" .. ty .. ")", function()
        local t = hl.table.new("c", { type = ty })
        t:insert({ "k", 1 })
        H.assert_strict(2, t:update_counter("k", { 2, 1, 3, 0 }))
        H.assert_strict(3, t:update_counter("k", { 2, 1, 3, 0 }))   -- not above 3 yet
        H.assert_strict(0, t:update_counter("k", { 2, 1, 3, 0 }))   -- 4 > 3: set to 0
        H.assert_strict({ { "k", 0 } }, t:lookup("k"))
        -- going down: below the threshold sets the value
        t:insert({ "d", 1 })
        H.assert_strict(0, t:update_counter("d", { 2, -1, 0, 10 }))  -- 0 is not below 0
        H.assert_strict(10, t:update_counter("d", { 2, -1, 0, 10 })) -- -1 < 0: set to 10
        H.assert_strict(7, t:update_counter("d", { 2, -3, 0, 10 }))
        -- a big step over the threshold also sets
        t:insert({ "b", 0 })
        H.assert_strict(-5, t:update_counter("b", { 2, 1000, 100, -5 }))
      end)

      it("applies a list of operations in order and returns a list (" .. ty .. ")", function()
        local t = hl.table.new("c", { type = ty })
        t:insert({ "k", 1, 10, 100 })
        H.assert_strict({ 2, 20, 0 }, t:update_counter("k", { { 2, 1 }, { 3, 10 }, { 4, 1, 100, 0 } }))
        H.assert_strict({ { "k", 2, 20, 0 } }, t:lookup("k"))
        -- the same position twice: each result in turn
        H.assert_strict({ 3, 5 }, t:update_counter("k", { { 2, 1 }, { 2, 2 } }))
        H.assert_strict({ 6 }, t:update_counter("k", { { 2, 1 } }))
        H.assert_strict({ { "k", 6, 20, 0 } }, t:lookup("k"))
      end)

      it("inserts the default object first when the key is missing (" .. ty .. ")", function()
        local t = hl.table.new("c", { type = ty })
        H.assert_strict(1, t:update_counter("hits", 1, { "hits", 0 }))
        H.assert_strict(2, t:update_counter("hits", 1, { "hits", 0 }))
        H.assert_strict({ { "hits", 2 } }, t:lookup("hits"))
        -- the default's own key is replaced by the key
        H.assert_strict(15, t:update_counter("new", { 3, 5 }, { "ignored", "x", 10 }))
        H.assert_strict({ { "new", "x", 15 } }, t:lookup("new"))
        assert.is_false(t:member("ignored"))
        -- list form with a default
        H.assert_strict({ 1, 2 }, t:update_counter("l", { { 2, 1 }, { 3, 2 } }, { "l", 0, 0 }))
        H.assert_strict({ { "l", 1, 2 } }, t:lookup("l"))
        assert.are.equal(3, t:info("size"))
      end)

      it("takes an empty list of operations, as ETS (" .. ty .. ")", function()
        -- ETS's results (OTP 25): update_counter(T, K, []) is [], and with a
        -- default for a missing key the default is inserted
        local t = hl.table.new("c", { type = ty })
        t:insert({ "k", 10 })
        H.assert_strict({}, t:update_counter("k", {}))
        H.assert_strict({}, t:update_counter("k", {}, { "k", 7 }))
        H.assert_strict({ { "k", 10 } }, t:lookup("k"))
        H.assert_strict({}, t:update_counter("new", {}, { "ignored", 5 }))
        H.assert_strict({ { "new", 5 } }, t:lookup("new"))
        -- no operation reads the default's elements: any object will do
        H.assert_strict({}, t:update_counter("any", {}, { 0, "a" }))
        H.assert_strict({ { "any", "a" } }, t:lookup("any"))
        assert.are.equal(3, t:info("size"))
      end)
    end

    it("works with keypos other than 1: incr goes to keypos + 1", function()
      local t = hl.table.new("c", { keypos = 2 })
      t:insert({ "label", "k", 5, 7 })
      H.assert_strict(6, t:update_counter("k", 1))
      H.assert_strict(8, t:update_counter("k", { 4, 1 }))
      H.assert_strict({ { "label", "k", 6, 8 } }, t:lookup("k"))
      H.assert_strict(1, t:update_counter("n", 1, { "dflt", "x", 0 }))
      H.assert_strict({ { "dflt", "n", 1 } }, t:lookup("n"))
    end)

    it("works on map objects with a field name", function()
      local t = hl.table.new("c", { keypos = "id" })
      t:insert({ id = "a", n = 1, m = 10 })
      H.assert_strict(4, t:update_counter("a", { "n", 3 }))
      H.assert_strict({ 5, 0 }, t:update_counter("a", { { "n", 1 }, { "m", 5, 12, 0 } }))
      H.assert_strict({ { id = "a", n = 5, m = 0 } }, t:lookup("a"))
      H.assert_strict(1, t:update_counter("b", { "n", 1 }, { id = "zzz", n = 0 }))
      H.assert_strict({ { id = "b", n = 1 } }, t:lookup("b"))
    end)

    it("reaches the 64-bit extremes exactly", function()
      local t = hl.table.new("c")
      t:insert({ "k", math.maxinteger - 1 }, { "m", math.mininteger + 1 })
      H.assert_strict(math.maxinteger, t:update_counter("k", 1))
      H.assert_strict(math.mininteger, t:update_counter("m", -1))
      H.assert_strict(-1, t:update_counter("k", math.mininteger))
    end)

    it("sets the set value when a step over the threshold passes 64 bits, as ETS", function()
      -- ETS's results (OTP 25): the sum is past the threshold, so the
      -- counter takes the set value; only a bare overflow raises
      local t = hl.table.new("c")
      t:insert({ "k", 10 }, { "m", math.mininteger + 1 })
      H.assert_strict(0, t:update_counter("k", { 2, math.maxinteger, 100, 0 }))
      H.assert_strict(math.maxinteger, t:update_counter("k", { 2, math.maxinteger, math.maxinteger, 42 }))
      H.assert_strict(42, t:update_counter("k", { 2, math.maxinteger, math.maxinteger, 42 }))
      H.assert_strict(3, t:update_counter("m", { 2, -10, -5, 3 }))
      t:insert({ "m", math.mininteger })
      H.assert_strict({ 7, math.mininteger + 7 },
        t:update_counter("m", { { 2, -1, 0, 7 }, { 2, math.mininteger, math.mininteger, math.mininteger } }))
      H.assert_strict({ 5 }, t:update_counter("m", { { 2, math.mininteger, math.mininteger, 5 } }))
      H.assert_strict({ { "k", 42 }, { "m", 5 } }, { t:lookup("k")[1], t:lookup("m")[1] })
    end)

    it("counts correctly over many updates", function()
      local t = hl.table.new("c")
      for i = 1, 1000 do t:update_counter(i % 7, 1, { 0, 0 }) end
      local total = 0
      for k = 0, 6 do total = total + t:lookup_element(k, 2) end
      assert.are.equal(1000, total)
      assert.are.equal(143, t:lookup_element(1, 2))
    end)
  end)

  -- ------------------------------------------------------------ update_element
  describe("update_element", function()
    for _, ty in ipairs(SETS) do
      it("replaces elements and returns true (" .. ty .. ")", function()
        local t = hl.table.new("u", { type = ty })
        t:insert({ "k", 1, 2, 3 })
        assert.is_true(t:update_element("k", { 2, "two" }))
        H.assert_strict({ { "k", "two", 2, 3 } }, t:lookup("k"))
        assert.is_true(t:update_element("k", { { 3, { "x" } }, { 4, false } }))
        H.assert_strict({ { "k", "two", { "x" }, false } }, t:lookup("k"))
        -- a list with the same position twice: the last wins
        assert.is_true(t:update_element("k", { { 2, "a" }, { 2, "b" } }))
        assert.are.equal("b", t:lookup_element("k", 2))
      end)

      it("returns false for a missing key and changes nothing (" .. ty .. ")", function()
        local t = hl.table.new("u", { type = ty })
        t:insert({ "k", 1 })
        assert.is_false(t:update_element("nope", { 2, 5 }))
        assert.are.equal(1, t:info("size"))
        H.assert_strict({ { "k", 1 } }, t:tab2list())
      end)

      it("inserts the default first when the key is missing (" .. ty .. ")", function()
        local t = hl.table.new("u", { type = ty })
        assert.is_true(t:update_element("k", { 2, "set" }, { "whatever", "dflt", 0 }))
        H.assert_strict({ { "k", "set", 0 } }, t:lookup("k"))
        -- present key: the default is not used
        assert.is_true(t:update_element("k", { 3, 9 }, { "k", "other", "other" }))
        H.assert_strict({ { "k", "set", 9 } }, t:lookup("k"))
      end)

      it("takes an empty list of changes: whether the key is there (" .. ty .. ")", function()
        -- ETS's results (OTP 25): update_element(T, K, []) is true or false
        local t = hl.table.new("u", { type = ty })
        t:insert({ "k", 1 })
        assert.is_true(t:update_element("k", {}))
        assert.is_false(t:update_element("nope", {}))
        H.assert_strict({ { "k", 1 } }, t:tab2list())
        -- with a default, a missing key gets it, as with any other change
        assert.is_true(t:update_element("new", {}, { "ignored", 2 }))
        H.assert_strict({ { "new", 2 } }, t:lookup("new"))
        assert.is_true(t:update_element("k", {}, { "k", 9 }))
        H.assert_strict({ { "k", 1 } }, t:lookup("k"))
      end)
    end

    it("updates fields of map objects", function()
      local t = hl.table.new("u", { keypos = "id" })
      t:insert({ id = 1, name = "a", tags = { "x" } })
      assert.is_true(t:update_element(1, { "name", "b" }))
      assert.is_true(t:update_element(1, { { "tags", {} }, { "name", "c" } }))
      H.assert_strict({ { id = 1, name = "c", tags = {} } }, t:lookup(1))
    end)
  end)

  -- ------------------------------------------------------------ keypos
  describe("keypos", function()
    it("keys array objects at another position", function()
      for _, ty in ipairs(TYPES) do
        local t = hl.table.new("kp", { type = ty, keypos = 3 })
        t:insert({ "a", "b", "key1", "d" }, { 1, 2, "key2" })
        H.assert_strict({ { "a", "b", "key1", "d" } }, t:lookup("key1"))
        H.assert_strict({ { 1, 2, "key2" } }, t:lookup("key2"))
        assert.are.same({}, t:lookup("a"))
        assert.are.equal(3, t:info("keypos"))
        if ty == "set" or ty == "ordered_set" then
          t:insert({ "z", "z", "key1" })
          H.assert_strict({ { "z", "z", "key1" } }, t:lookup("key1"))
        end
      end
    end)

    it("keys map objects by a field name on every type", function()
      for _, ty in ipairs(TYPES) do
        local t = hl.table.new("kf", { type = ty, keypos = "id" })
        assert.are.equal("id", t:info("keypos"))
        t:insert({ id = "a", n = 1 }, { id = "b", n = 2, extra = { 1, 2 } })
        H.assert_strict({ { id = "a", n = 1 } }, t:lookup("a"))
        H.assert_strict({ { id = "b", n = 2, extra = { 1, 2 } } }, t:lookup("b"))
        if ty == "set" or ty == "ordered_set" then
          assert.are.equal(2, t:lookup_element("b", "n"))
        else
          H.assert_strict({ 2 }, t:lookup_element("b", "n"))
        end
        assert.is_true(t:member("a"))
        assert.are.same({}, t:lookup("n"))
      end
    end)

    it("orders map objects by the key field in an ordered_set", function()
      local t = hl.table.new("kf", { type = "ordered_set", keypos = "id" })
      t:insert({ id = 3, v = "c" }, { id = 1, v = "a" }, { id = 2, v = "b" })
      H.assert_strict({ 1, 2, 3 }, H.walk(t))
      H.assert_strict({ { id = 1, v = "a" }, { id = 2, v = "b" }, { id = 3, v = "c" } }, t:tab2list())
    end)
  end)

  -- ------------------------------------------------------------ traversal
  describe("traversal", function()
    for _, ty in ipairs(TYPES) do
      it("gives nil at both ends of an empty table (" .. ty .. ")", function()
        local t = hl.table.new("e", { type = ty })
        assert.is_nil(t:first())
        assert.is_nil(t:last())
        assert.is_nil(t:next("anything"))
        assert.is_nil(t:prev("anything"))
      end)

      it("visits every key exactly once, backwards in reverse (" .. ty .. ")", function()
        local t = hl.table.new("w", { type = ty })
        local keys = {}
        for i = 1, 2000 do
          keys[i] = (i % 3 == 0) and ("s" .. i) or i
          t:insert({ keys[i], i })
          if ty == "bag" or ty == "duplicate_bag" then t:insert({ keys[i], -i }) end
        end
        local walked = H.walk(t)
        H.assert_same_multiset(keys, walked, "forward keys")
        local back = H.walk_back(t)
        H.assert_strict(H.reverse(walked), back, "backward keys")
      end)

      it("keeps a stable order as the table grows and shrinks (" .. ty .. ")", function()
        local t = hl.table.new("w", { type = ty })
        for i = 1, 100 do t:insert({ i }) end
        local order = H.walk(t)
        H.assert_strict(order, H.walk(t), "a second walk")
        for i = 1, 20000 do t:insert({ "grow" .. i }) end
        local function originals(keys)
          local out = {}
          for _, k in ipairs(keys) do if math.type(k) == "integer" then out[#out + 1] = k end end
          return out
        end
        H.assert_strict(order, originals(H.walk(t)), "after growing")
        for i = 1, 20000 do t:delete("grow" .. i) end
        H.assert_strict(order, H.walk(t), "after shrinking")
      end)

      it("continues from a deleted key (" .. ty .. ")", function()
        local t = hl.table.new("w", { type = ty })
        for i = 1, 500 do t:insert({ i }) end
        local order = H.walk(t)
        for idx = 1, #order - 1, 37 do
          local k = order[idx]
          t:delete(k)
          H.assert_strict(order[idx + 1], t:next(k), "next of deleted " .. tostring(k))
          if idx > 1 then
            H.assert_strict(order[idx - 1], t:prev(k), "prev of deleted " .. tostring(k))
          end
          t:insert({ k })
        end
      end)

      it("visits each remaining object once while deleting during the walk (" .. ty .. ")", function()
        H.seed(11)
        local t = hl.table.new("w", { type = ty })
        local n = 3000
        for i = 1, n do t:insert({ i, "v" }) end
        local seen, deleted, victims = {}, {}, {}
        local k = t:first()
        local steps = 0
        while k ~= nil do
          steps = steps + 1
          assert.is_true(steps <= n, "the walk does not end")
          assert.is_nil(seen[k], "key visited twice: " .. tostring(k))
          assert.is_nil(deleted[k], "deleted key visited: " .. tostring(k))
          seen[k] = true
          -- delete the current key and, sometimes, a random other one
          t:delete(k)
          deleted[k] = true
          if math.random(3) == 1 then
            local victim = math.random(n)
            if not seen[victim] then
              t:delete(victim)
              deleted[victim] = true
              victims[victim] = true
            end
          end
          k = t:next(k)
        end
        for i = 1, n do
          if not victims[i] then
            assert.is_true(seen[i] == true, "key never visited: " .. i)
          end
        end
        assert.are.equal(0, t:info("size"))
      end)

      it("visits every original object once while the table grows (" .. ty .. ")", function()
        local t = hl.table.new("w", { type = ty })
        local n = 500
        for i = 1, n do t:insert({ i }) end
        local seen = {}
        local k = t:first()
        local extra = 0
        local steps = 0
        while k ~= nil do
          steps = steps + 1
          assert.is_true(steps <= 100000, "the walk does not end")
          seen[k] = (seen[k] or 0) + 1
          -- grow the table a lot early in the walk (forces rehashing)
          if steps <= 100 then
            for _ = 1, 30 do
              extra = extra + 1
              t:insert({ "new" .. extra })
            end
          end
          k = t:next(k)
        end
        for i = 1, n do assert.are.equal(1, seen[i], "original key " .. i) end
        for key, c in pairs(seen) do assert.are.equal(1, c, "visited twice: " .. tostring(key)) end
      end)
    end

    it("walks an ordered_set in key order, both ways", function()
      local t = hl.table.new("o", { type = "ordered_set" })
      t:insert({ "b" }, { 2 }, { 1.5 }, { true }, { { 1, 2 } }, { -7 }, { "a" }, { false })
      H.assert_strict({ -7, 1.5, 2, false, true, { 1, 2 }, "a", "b" }, H.walk(t))
      H.assert_strict({ "b", "a", { 1, 2 }, true, false, 2, 1.5, -7 }, H.walk_back(t))
      assert.are.equal(-7, t:first())
      assert.are.equal("b", t:last())
    end)

    it("gives the neighbour of any key in an ordered_set, present or not", function()
      local t = hl.table.new("o", { type = "ordered_set" })
      for i = 10, 100, 10 do t:insert({ i }) end
      assert.are.equal(20, t:next(10))
      assert.are.equal(20, t:next(15))
      assert.are.equal(20, t:next(10.5))
      assert.are.equal(10, t:next(-1000))
      assert.are.equal(10, t:next(-math.huge))
      assert.is_nil(t:next(100))
      assert.is_nil(t:next(1000))
      assert.is_nil(t:next("a string is after every number"))
      assert.are.equal(90, t:prev(100))
      assert.are.equal(90, t:prev(95))
      assert.are.equal(100, t:prev("zzz"))
      assert.is_nil(t:prev(10))
      assert.is_nil(t:prev(5))
      -- from a deleted key
      t:delete(50)
      assert.are.equal(60, t:next(50))
      assert.are.equal(40, t:prev(50))
    end)

    it("visits a bag key once, however many objects it has", function()
      local t = hl.table.new("b", { type = "duplicate_bag" })
      t:insert({ "k", 1 }, { "k", 1 }, { "k", 2 }, { "j", 1 })
      H.assert_same_multiset({ "j", "k" }, H.walk(t))
    end)
  end)

  -- ------------------------------------------------------------ fold, tab2list
  describe("foldl, foldr, tab2list", function()
    it("folds an ordered_set in key order (foldl) and in reverse (foldr)", function()
      local t = hl.table.new("f", { type = "ordered_set" })
      for _, k in ipairs({ 5, 3, 9, 1, 7 }) do t:insert({ k, k * 10 }) end
      local order = t:foldl(function(obj, acc)
        acc[#acc + 1] = obj[1]
        return acc
      end, {})
      H.assert_strict({ 1, 3, 5, 7, 9 }, order)
      local rorder = t:foldr(function(obj, acc)
        acc[#acc + 1] = obj[1]
        return acc
      end, {})
      H.assert_strict({ 9, 7, 5, 3, 1 }, rorder)
      local sum = t:foldl(function(obj, acc) return acc + obj[2] end, 0)
      assert.are.equal(250, sum)
      local s = t:foldr(function(obj, acc) return acc .. obj[1] end, "")
      assert.are.equal("97531", s)
    end)

    for _, ty in ipairs(TYPES) do
      it("folds over every object once (" .. ty .. ")", function()
        local t = hl.table.new("f", { type = ty })
        local objs = {}
        for i = 1, 300 do
          objs[#objs + 1] = { i % 100, i }
          t:insert({ i % 100, i })
        end
        local expected = t:tab2list()
        if ty == "set" or ty == "ordered_set" then
          assert.are.equal(100, #expected)
        else
          H.assert_same_multiset(objs, expected, "tab2list")
        end
        local l = t:foldl(function(obj, acc) acc[#acc + 1] = obj; return acc end, {})
        H.assert_same_multiset(expected, l, "foldl")
        local r = t:foldr(function(obj, acc) acc[#acc + 1] = obj; return acc end, {})
        H.assert_same_multiset(expected, r, "foldr")
      end)

      it("gives back the initial accumulator for an empty table (" .. ty .. ")", function()
        local t = hl.table.new("f", { type = ty })
        local called = false
        assert.are.equal(42, t:foldl(function(_, acc) called = true; return acc end, 42))
        assert.are.equal("x", t:foldr(function(_, acc) called = true; return acc end, "x"))
        assert.is_false(called)
        assert.are.same({}, t:tab2list())
      end)
    end

    it("propagates an error raised in the fold function", function()
      local t = hl.table.new("f")
      t:insert({ 1 }, { 2 })
      assert.error_matches(function()
        t:foldl(function() error("boom from fold") end, 0)
      end, "boom from fold")
      assert.are.equal(2, t:info("size"))
    end)

    it("lists an ordered_set in key order with tab2list", function()
      local t = hl.table.new("o", { type = "ordered_set" })
      t:insert({ "c", 3 }, { "a", 1 }, { "b", 2 })
      H.assert_strict({ { "a", 1 }, { "b", 2 }, { "c", 3 } }, t:tab2list())
    end)

    it("lists a bag's objects of one key in insertion order", function()
      local t = hl.table.new("b", { type = "bag" })
      t:insert({ "k", 3 }, { "k", 1 }, { "k", 2 })
      H.assert_strict({ { "k", 3 }, { "k", 1 }, { "k", 2 } }, t:tab2list())
    end)
  end)

  -- ------------------------------------------------------------ options
  describe("setopts and give_away", function()
    it("sets and removes the heir", function()
      local t = hl.table.new("h")
      assert.is_true(t:setopts{ heir = "manager", heir_data = { "state", 42 } })
      assert.are.equal("manager", t:info("heir"))
      H.assert_strict({ "state", 42 }, t:info("heir_data"))
      assert.is_true(t:setopts{ heir = "other", heir_data = "other data" })
      assert.are.equal("other", t:info("heir"))
      assert.are.equal("other data", t:info("heir_data"))
      assert.is_true(t:setopts{ heir = false })
      assert.is_nil(t:info("heir"))
      assert.is_nil(t:info().heir)
    end)

    it("sets the owner itself as heir (ETS keeps heir = self())", function()
      local t = hl.table.new("h")
      assert.is_true(t:setopts{ heir = hl.self(), heir_data = "pid data" })
      assert.are.equal(hl.self(), t:info("heir"))
      assert.are.equal("pid data", t:info("heir_data"))
    end)

    it("keeps data through setopts and info calls", function()
      local t = hl.table.new("h", { type = "bag" })
      t:insert({ 1, "a" }, { 1, "b" })
      t:setopts{ heir = "x" }
      H.assert_strict({ { 1, "a" }, { 1, "b" } }, t:lookup(1))
    end)
  end)
end)
