-- table_errors_spec.lua — every wrong argument raises an error that names
-- the function and the argument, and leaves the table as it was.
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helpers.lua")
local hl = H.hl

local TYPES = { "set", "ordered_set", "bag", "duplicate_bag" }

-- the pattern for "heirloom.table.<fname>: ...<words>..." (words in order)
local function P(fname, ...)
  local parts = { "^heirloom%.table%." .. H.esc(fname) .. ": " }
  for i = 1, select("#", ...) do parts[#parts + 1] = ".*" .. H.esc(select(i, ...)) end
  return table.concat(parts)
end

-- asserts fn fails with the pattern and t keeps exactly its objects
local function fails_unchanged(t, fn, pattern)
  local before = H.snapshot(t)
  local size = t:info("size")
  assert.error_matches(fn, pattern)
  H.assert_strict(before, H.snapshot(t), "objects after the error")
  assert.are.equal(size, t:info("size"))
end

describe("table errors", function()
  before_each(H.start)
  after_each(H.stop)

  -- ------------------------------------------------------------ new
  describe("new", function()
    it("refuses a bad type", function()
      assert.error_matches(function() hl.table.new("x", { type = "sett" }) end, P("new", "type"))
      assert.error_matches(function() hl.table.new("x", { type = 1 }) end, P("new", "type"))
      assert.error_matches(function() hl.table.new("x", { type = "SET" }) end, P("new", "type"))
      assert.are.equal(0, #hl.table.all())
    end)

    it("refuses a bad access", function()
      assert.error_matches(function() hl.table.new("x", { access = "open" }) end, P("new", "access"))
      assert.error_matches(function() hl.table.new("x", { access = true }) end, P("new", "access"))
      assert.are.equal(0, #hl.table.all())
    end)

    it("refuses keypos 0, negative, non-integer and other kinds", function()
      for _, kp in ipairs({ 0, -1, -100, 1.5, 0.0, true, {} }) do
        assert.error_matches(function() hl.table.new("x", { keypos = kp }) end, P("new", "keypos"))
      end
      assert.error_matches(function() hl.table.new("x", { keypos = "" }) end, P("new", "keypos"))
      assert.are.equal(0, #hl.table.all())
    end)

    it("accepts an integral float keypos as the integer", function()
      local t = hl.table.new("x", { keypos = 2.0 })
      assert.are.equal(2, t:info("keypos"))
    end)

    it("refuses a non-boolean named", function()
      assert.error_matches(function() hl.table.new("x", { named = "yes" }) end, P("new", "named"))
      assert.error_matches(function() hl.table.new("x", { named = 1 }) end, P("new", "named"))
    end)

    it("refuses an unknown option, naming it", function()
      assert.error_matches(function() hl.table.new("x", { colour = "red" }) end,
        P("new", "unknown", "colour"))
      assert.error_matches(function() hl.table.new("x", { Type = "set" }) end,
        P("new", "Type"))
      assert.are.equal(0, #hl.table.all())
    end)

    it("refuses a name that is not a string and options that are not a table", function()
      assert.error_matches(function() hl.table.new(42) end, P("new", "name"))
      assert.error_matches(function() hl.table.new(nil) end, P("new", "name"))
      assert.error_matches(function() hl.table.new({}) end, P("new", "name"))
      assert.are.equal(0, #hl.table.all())
    end)

    it("refuses options that are not a table, in the heirloom message format", function()
      assert.error_matches(function() hl.table.new("x", "set") end, P("new", "opt"))
      assert.are.equal(0, #hl.table.all())
    end)

    it("refuses a bad heir and an unencodable heir_data", function()
      assert.error_matches(function() hl.table.new("x", { heir = 42 }) end, P("new", "heir"))
      assert.error_matches(function() hl.table.new("x", { heir = {} }) end, P("new", "heir"))
      assert.error_matches(function() hl.table.new("x", { heir = "m", heir_data = print }) end,
        P("new", "heir_data", "function"))
      assert.are.equal(0, #hl.table.all())
    end)

    it("refuses a taken name for a named table and keeps the first table", function()
      local t = hl.table.new("taken", { named = true })
      t:insert({ "k", 1 })
      assert.error_matches(function() hl.table.new("taken", { named = true }) end,
        P("new", "taken"))
      assert.are.equal(t, hl.table.whereis("taken"))
      H.assert_strict({ { "k", 1 } }, t:tab2list())
      assert.are.equal(1, #hl.table.all())
      -- an unnamed table may share the name
      local u = hl.table.new("taken")
      assert.are.equal(t, hl.table.whereis("taken"))
      assert.are_not.equal(t, u)
    end)

    it("refuses durable tables for now", function()
      assert.error_matches(function() hl.table.new("x", { durable = true }) end, P("new", "durable"))
      assert.are.equal(0, #hl.table.all())
    end)

    it("refuses to work before start and after stop", function()
      hl.stop()
      assert.error_matches(function() hl.table.new("x") end, "^heirloom%.table%.new: .*start")
      hl.start{}
    end)
  end)

  -- ------------------------------------------------------------ objects
  describe("objects", function()
    for _, ty in ipairs(TYPES) do
      it("refuses an object that is not a table (" .. ty .. ")", function()
        local t = hl.table.new("o", { type = ty })
        t:insert({ "keep", 1 })
        fails_unchanged(t, function() t:insert("str") end, P("insert", "object"))
        fails_unchanged(t, function() t:insert(42) end, P("insert", "object"))
        fails_unchanged(t, function() t:insert(nil) end, P("insert", "object"))
        fails_unchanged(t, function() t:insert({ "ok", 1 }, "str") end, P("insert", "object"))
        fails_unchanged(t, function() t:insert_many({ { "ok", 1 }, 7 }) end, P("insert_many", "object"))
        fails_unchanged(t, function() t:insert_new(true) end, P("insert_new", "object"))
        fails_unchanged(t, function() t:delete_object("str") end, P("delete_object", "object"))
      end)

      it("refuses an object shorter than keypos (" .. ty .. ")", function()
        local t = hl.table.new("o", { type = ty, keypos = 2 })
        t:insert({ 1, "keep" })
        fails_unchanged(t, function() t:insert({ "a" }) end,
          P("insert", "object has 1 element but keypos is 2"))
        fails_unchanged(t, function() t:insert({}) end, P("insert", "object", "keypos is 2"))
        fails_unchanged(t, function() t:insert_new({ "a" }) end, P("insert_new", "keypos"))
        fails_unchanged(t, function() t:delete_object({ "a" }) end, P("delete_object", "keypos"))
      end)
    end

    it("refuses a list that is not a table in insert_many, in the heirloom message format", function()
      local t = hl.table.new("o")
      t:insert({ "keep", 1 })
      fails_unchanged(t, function() t:insert_many("str") end, P("insert_many", "list"))
      fails_unchanged(t, function() t:insert_new_many(42) end, P("insert_new_many", "list"))
    end)

    it("refuses a map object when keypos is a position, and an array when it is a field", function()
      local t = hl.table.new("o")
      t:insert({ "keep" })
      fails_unchanged(t, function() t:insert({ a = 1 }) end, P("insert", "object", "array"))
      -- a table with a hole is a map, not an array
      fails_unchanged(t, function() t:insert({ 1, nil, 3 }) end, P("insert", "object"))
      local m = hl.table.new("m", { keypos = "id" })
      m:insert({ id = "keep" })
      fails_unchanged(m, function() m:insert({ "a", 1 }) end, P("insert", "object", "map"))
      fails_unchanged(m, function() m:insert({ name = "no id" }) end, P("insert", "id"))
    end)

    for _, ty in ipairs(TYPES) do
      it("inserts nothing when one object of many is bad (" .. ty .. ")", function()
        local t = hl.table.new("o", { type = ty })
        t:insert({ "keep", 1 })
        fails_unchanged(t, function() t:insert({ "a", 1 }, { "b", print }) end,
          P("insert", "function"))
        fails_unchanged(t, function() t:insert({ "a", 1 }, { "b", 2 }, {}) end, P("insert", "object"))
        fails_unchanged(t, function() t:insert({ "a", 1 }, { 0 / 0, 2 }) end, P("insert", "NaN"))
        fails_unchanged(t, function() t:insert_many({ { "a", 1 }, { "keep", 2 }, { "c", print } }) end,
          P("insert_many", "function"))
        fails_unchanged(t, function() t:insert_new({ "a", 1 }, { "b", print }) end,
          P("insert_new", "function"))
        fails_unchanged(t, function() t:insert_new_many({ { "a", 1 }, "x" }) end,
          P("insert_new_many", "object"))
        assert.is_false(t:member("a"))
        assert.is_false(t:member("b"))
      end)
    end

    -- Found by fuzz_term: two Lua tables with the same contents are two
    -- keys in Lua but one term, so the map's encoding had a key twice. It
    -- is no valid term: it was stored or sent all the same, and a durable
    -- table holding it would no longer load.
    it("refuses a map with two keys that are the same term", function()
      local t = hl.table.new("o")
      t:insert({ "keep", 1 })
      fails_unchanged(t, function() t:insert({ 1, { [{}] = "a", [{}] = "b" } }) end,
        "^heirloom%.table%.insert: object%[2%]: two keys of a map are the same term")
      fails_unchanged(t, function() t:insert({ 2, { x = { [{ 1, { y = 2 } }] = 1, [{ 1, { y = 2 } }] = 2 } } }) end,
        "^heirloom%.table%.insert: object%[2%]%.x: two keys of a map are the same term")
      fails_unchanged(t, function() t:lookup({ [{}] = 1, [{ n = nil }] = 2 }) end,
        "^heirloom%.table%.lookup: key: two keys of a map are the same term")
      assert.error_matches(function() hl.send(hl.self(), { [{ 7 }] = 1, [{ 7 }] = 1 }) end,
        "^heirloom%.send: message: two keys of a map are the same term")
      -- different contents are different keys
      assert.is_true(t:insert({ 3, { [{}] = "a", [{ 1 }] = "b", [{ {} }] = "c" } }))
      local n = 0
      for _ in pairs(t:lookup(3)[1][2]) do n = n + 1 end
      assert.are.equal(3, n)
    end)

    -- Found by fuzz_term: a long path filled the message and cut off why.
    it("says why it refuses a value even when the path to it is long", function()
      local v = print
      for i = 1, 60 do v = { [string.rep("k", 30) .. i] = v } end
      local t = hl.table.new("o")
      fails_unchanged(t, function() t:insert({ 1, v }) end,
        "^heirloom%.table%.insert: object%[2%]%.kkkk.*%.%.%.: cannot encode a function$")
      v = print
      for _ = 1, 60 do v = { v } end
      fails_unchanged(t, function() t:insert({ 1, v }) end,
        "^heirloom%.table%.insert: object%[2%]%[1%]%[1%].*: cannot encode a function$")
    end)

    it("names which object of several is bad", function()
      local t = hl.table.new("o", { keypos = 2 })
      local err = H.assert_error(function() t:insert({ 1, "a" }, { 1, "b" }, { 1 }) end,
        "heirloom.table.insert: ", "keypos is 2")
      assert.truthy(err:find("3", 1, true), "the message should name object 3: " .. err)
      assert.are.equal(0, t:info("size"))
    end)
  end)

  -- ------------------------------------------------------------ keys
  describe("keys", function()
    it("refuses a nil key on every key-taking function", function()
      local t = hl.table.new("k")
      t:insert({ "keep", 1 })
      fails_unchanged(t, function() t:lookup(nil) end, P("lookup", "key", "nil"))
      fails_unchanged(t, function() t:lookup() end, P("lookup", "key"))
      fails_unchanged(t, function() t:member(nil) end, P("member", "key", "nil"))
      fails_unchanged(t, function() t:take(nil) end, P("take", "key", "nil"))
      fails_unchanged(t, function() t:delete(nil) end, P("delete", "key", "nil"))
      fails_unchanged(t, function() t:lookup_element(nil, 2) end, P("lookup_element", "key", "nil"))
      fails_unchanged(t, function() t:update_counter(nil, 1, { 0, 0 }) end,
        P("update_counter", "key", "nil"))
      fails_unchanged(t, function() t:update_element(nil, { 2, 1 }, { 0, 0 }) end,
        P("update_element", "key", "nil"))
    end)

    it("refuses a map object whose key field is missing (a nil key)", function()
      local t = hl.table.new("k", { keypos = "id" })
      t:insert({ id = "keep" })
      fails_unchanged(t, function() t:insert({ id = nil, v = 1 }) end, P("insert", "id"))
    end)

    it("refuses a NaN key on every key-taking function", function()
      local nan = 0 / 0
      for _, ty in ipairs(TYPES) do
        local t = hl.table.new("k", { type = ty })
        t:insert({ "keep", 1 })
        fails_unchanged(t, function() t:insert({ nan, 1 }) end, P("insert", "key", "NaN"))
        fails_unchanged(t, function() t:insert_new({ nan, 1 }) end, P("insert_new", "NaN"))
        fails_unchanged(t, function() t:lookup(nan) end, P("lookup", "NaN"))
        fails_unchanged(t, function() t:member(nan) end, P("member", "NaN"))
        fails_unchanged(t, function() t:take(nan) end, P("take", "NaN"))
        fails_unchanged(t, function() t:delete(nan) end, P("delete", "NaN"))
      end
      local s = hl.table.new("s")
      fails_unchanged(s, function() s:update_counter(nan, 1, { 0, 0 }) end,
        P("update_counter", "NaN"))
      fails_unchanged(s, function() s:update_element(nan, { 2, 0 }, { 0, 0 }) end,
        P("update_element", "NaN"))
      local m = hl.table.new("m", { keypos = "id" })
      fails_unchanged(m, function() m:insert({ id = nan }) end, P("insert", "NaN"))
    end)

    it("refuses an unencodable key", function()
      local t = hl.table.new("k")
      t:insert({ "keep", 1 })
      fails_unchanged(t, function() t:lookup(print) end, P("lookup", "function"))
      fails_unchanged(t, function() t:delete({ 1, coroutine.create(print) }) end,
        P("delete", "coroutine"))
      fails_unchanged(t, function() t:member(io.stdout) end, P("member", "userdata"))
    end)
  end)

  -- ------------------------------------------------------------ lookup_element
  describe("lookup_element", function()
    for _, ty in ipairs(TYPES) do
      it("raises for a missing key without a default (" .. ty .. ")", function()
        local t = hl.table.new("le", { type = ty })
        t:insert({ "k", 1 })
        fails_unchanged(t, function() t:lookup_element("missing", 2) end,
          P("lookup_element", "not found"))
      end)

      it("raises for a position past the end, even with a default (" .. ty .. ")", function()
        local t = hl.table.new("le", { type = ty })
        t:insert({ "k", 1 })
        fails_unchanged(t, function() t:lookup_element("k", 3) end,
          P("lookup_element", "3", "past the end"))
        fails_unchanged(t, function() t:lookup_element("k", 3, "dflt") end,
          P("lookup_element", "past the end"))
      end)

      it("raises for position 0, a negative or a non-integer position (" .. ty .. ")", function()
        local t = hl.table.new("le", { type = ty })
        t:insert({ "k", 1 })
        fails_unchanged(t, function() t:lookup_element("k", 0) end, P("lookup_element", "pos"))
        fails_unchanged(t, function() t:lookup_element("k", -1) end, P("lookup_element", "pos"))
        fails_unchanged(t, function() t:lookup_element("k", 1.5) end, P("lookup_element", "pos"))
        fails_unchanged(t, function() t:lookup_element("k") end, P("lookup_element", "pos"))
      end)
    end

    it("raises in a bag when any object of the key is too short", function()
      local t = hl.table.new("le", { type = "bag" })
      t:insert({ "k", 1, 2 }, { "k", 3 })
      fails_unchanged(t, function() t:lookup_element("k", 3) end, P("lookup_element", "past the end"))
    end)

    it("raises for a field that map objects lack", function()
      local t = hl.table.new("le", { keypos = "id" })
      t:insert({ id = 1, a = 2 })
      fails_unchanged(t, function() t:lookup_element(1, "nope") end,
        P("lookup_element", "nope"))
    end)
  end)

  -- ------------------------------------------------------------ update_counter
  describe("update_counter", function()
    for _, ty in ipairs({ "bag", "duplicate_bag" }) do
      it("refuses a " .. ty, function()
        local t = hl.table.new("c", { type = ty })
        t:insert({ "k", 1 })
        fails_unchanged(t, function() t:update_counter("k", 1) end, P("update_counter", "bag"))
        fails_unchanged(t, function() t:update_counter("new", 1, { "new", 0 }) end,
          P("update_counter", "bag"))
        fails_unchanged(t, function() t:update_counter("k", {}) end, P("update_counter", "bag"))
        fails_unchanged(t, function() t:update_counter("new", {}, { "new", 0 }) end,
          P("update_counter", "bag"))
        assert.is_false(t:member("new"))
      end)
    end

    for _, ty in ipairs({ "set", "ordered_set" }) do
      it("refuses a non-integer element (" .. ty .. ")", function()
        local t = hl.table.new("c", { type = ty })
        t:insert({ "k", "text", 1.5, { 1 }, true })
        fails_unchanged(t, function() t:update_counter("k", 1) end,
          P("update_counter", "2", "not an integer"))
        fails_unchanged(t, function() t:update_counter("k", { 3, 1 }) end,
          P("update_counter", "3", "not an integer"))
        fails_unchanged(t, function() t:update_counter("k", { 4, 1 }) end,
          P("update_counter", "not an integer"))
        fails_unchanged(t, function() t:update_counter("k", { 5, 1 }) end,
          P("update_counter", "not an integer"))
      end)

      it("refuses to update the key position (" .. ty .. ")", function()
        local t = hl.table.new("c", { type = ty })
        t:insert({ 1, 2 })
        fails_unchanged(t, function() t:update_counter(1, { 1, 1 }) end, P("update_counter", "key"))
        local u = hl.table.new("c2", { type = ty, keypos = 2 })
        u:insert({ 5, 7, 9 })
        fails_unchanged(u, function() u:update_counter(7, { 2, 1 }) end, P("update_counter", "key"))
      end)

      it("refuses a missing key without a default (" .. ty .. ")", function()
        local t = hl.table.new("c", { type = ty })
        t:insert({ "k", 1 })
        fails_unchanged(t, function() t:update_counter("nope", 1) end,
          P("update_counter", "not found"))
      end)

      it("refuses a position past the end, 0 or negative (" .. ty .. ")", function()
        local t = hl.table.new("c", { type = ty })
        t:insert({ "k", 1 })
        fails_unchanged(t, function() t:update_counter("k", { 3, 1 }) end,
          P("update_counter", "3", "past the end"))
        fails_unchanged(t, function() t:update_counter("k", { 0, 1 }) end, P("update_counter", "pos"))
        fails_unchanged(t, function() t:update_counter("k", { -1, 1 }) end, P("update_counter", "pos"))
        local short = hl.table.new("short", { type = ty })
        short:insert({ "only" })
        fails_unchanged(short, function() short:update_counter("only", 1) end,
          P("update_counter", "past the end"))
      end)

      it("refuses a non-integer increment, threshold or set value (" .. ty .. ")", function()
        local t = hl.table.new("c", { type = ty })
        t:insert({ "k", 1 })
        fails_unchanged(t, function() t:update_counter("k", 1.5) end, P("update_counter", "incr"))
        fails_unchanged(t, function() t:update_counter("k", "1") end, P("update_counter"))
        fails_unchanged(t, function() t:update_counter("k", { 2, 1.5 }) end, P("update_counter"))
        fails_unchanged(t, function() t:update_counter("k", { 2, 1, "x", 0 }) end, P("update_counter"))
        fails_unchanged(t, function() t:update_counter("k", { 2, 1, 5, {} }) end, P("update_counter"))
        fails_unchanged(t, function() t:update_counter("k", { 2, 1, 5 }) end, P("update_counter"))
        fails_unchanged(t, function() t:update_counter("k") end, P("update_counter"))
      end)

      it("refuses an overflow past 64 bits (" .. ty .. ")", function()
        local t = hl.table.new("c", { type = ty })
        t:insert({ "k", math.maxinteger }, { "m", math.mininteger })
        fails_unchanged(t, function() t:update_counter("k", 1) end, P("update_counter", "overflow"))
        fails_unchanged(t, function() t:update_counter("m", -1) end, P("update_counter", "overflow"))
      end)

      it("refuses an empty list for a missing key without a default, or a bad default (" .. ty .. ")", function()
        local t = hl.table.new("c", { type = ty })
        t:insert({ "k", 1 })
        fails_unchanged(t, function() t:update_counter("nope", {}) end,
          P("update_counter", "not found"))
        fails_unchanged(t, function() t:update_counter("nope", {}, "not an object") end,
          P("update_counter", "default"))
        fails_unchanged(t, function() t:update_counter("nope", {}, {}) end,
          P("update_counter", "default"))
        fails_unchanged(t, function() t:update_counter("k", { x = 1 }) end, P("update_counter", "op"))
      end)

      it("applies nothing of a list when one operation fails (" .. ty .. ")", function()
        local t = hl.table.new("c", { type = ty })
        t:insert({ "k", 1, "s", 5 })
        fails_unchanged(t, function() t:update_counter("k", { { 2, 1 }, { 3, 1 } }) end,
          P("update_counter", "not an integer"))
        fails_unchanged(t, function() t:update_counter("k", { { 4, 1 }, { 9, 1 } }) end,
          P("update_counter", "past the end"))
        fails_unchanged(t, function() t:update_counter("k", { { 2, 1 }, { 1, 1 } }) end,
          P("update_counter", "key"))
      end)

      it("inserts no default when the update of it fails (" .. ty .. ")", function()
        local t = hl.table.new("c", { type = ty })
        t:insert({ "keep", 1 })
        fails_unchanged(t, function() t:update_counter("new", 1, { "new" }) end,
          P("update_counter", "past the end"))
        fails_unchanged(t, function() t:update_counter("new", 1, { "new", "str" }) end,
          P("update_counter", "not an integer"))
        fails_unchanged(t, function() t:update_counter("new", 1, "not an object") end,
          P("update_counter", "default"))
        fails_unchanged(t, function() t:update_counter("new", 1, { "new", print }) end,
          P("update_counter", "default", "function"))
        assert.is_false(t:member("new"))
      end)
    end

    it("refuses a bare increment on map objects", function()
      local t = hl.table.new("c", { keypos = "id" })
      t:insert({ id = "a", n = 1 })
      fails_unchanged(t, function() t:update_counter("a", 1) end, P("update_counter"))
      fails_unchanged(t, function() t:update_counter("a", { "missing", 1 }) end,
        P("update_counter", "missing"))
      fails_unchanged(t, function() t:update_counter("a", { "id", 1 }) end,
        P("update_counter", "key"))
    end)
  end)

  -- ------------------------------------------------------------ update_element
  describe("update_element", function()
    for _, ty in ipairs({ "bag", "duplicate_bag" }) do
      it("refuses a " .. ty, function()
        local t = hl.table.new("u", { type = ty })
        t:insert({ "k", 1 })
        fails_unchanged(t, function() t:update_element("k", { 2, 5 }) end,
          P("update_element", "bag"))
        fails_unchanged(t, function() t:update_element("k", {}) end, P("update_element", "bag"))
      end)
    end

    it("refuses the key position, a position past the end and bad changes", function()
      for _, ty in ipairs({ "set", "ordered_set" }) do
        local t = hl.table.new("u", { type = ty })
        t:insert({ "k", 1 })
        fails_unchanged(t, function() t:update_element("k", { 1, "other" }) end,
          P("update_element", "key"))
        fails_unchanged(t, function() t:update_element("k", { 3, 0 }) end,
          P("update_element", "past the end"))
        fails_unchanged(t, function() t:update_element("k", { 0, 0 }) end, P("update_element", "pos"))
        fails_unchanged(t, function() t:update_element("k", { 2, print }) end,
          P("update_element", "function"))
        fails_unchanged(t, function() t:update_element("k", 5) end, P("update_element"))
        -- a list: all or nothing
        fails_unchanged(t, function() t:update_element("k", { { 2, "new" }, { 5, 0 } }) end,
          P("update_element", "past the end"))
        fails_unchanged(t, function() t:update_element("k", { { 2, "new" }, { 1, 0 } }) end,
          P("update_element", "key"))
        t:drop()
      end
    end)

    it("inserts no default when its update fails", function()
      local t = hl.table.new("u")
      fails_unchanged(t, function() t:update_element("new", { 5, 0 }, { "new", 1 }) end,
        P("update_element", "past the end"))
      assert.is_false(t:member("new"))
    end)
  end)

  -- ------------------------------------------------------------ dropped tables
  describe("a dropped table", function()
    it("raises on every call, naming the function", function()
      local t = hl.table.new("d", { named = true })
      t:insert({ "k", 1 })
      assert.is_true(t:drop())
      local calls = {
        insert = function() t:insert({ "x" }) end,
        insert_many = function() t:insert_many({ { "x" } }) end,
        insert_new = function() t:insert_new({ "x" }) end,
        lookup = function() t:lookup("k") end,
        lookup_element = function() t:lookup_element("k", 2) end,
        member = function() t:member("k") end,
        take = function() t:take("k") end,
        delete = function() t:delete("k") end,
        delete_object = function() t:delete_object({ "k", 1 }) end,
        delete_all_objects = function() t:delete_all_objects() end,
        update_counter = function() t:update_counter("k", 1) end,
        update_element = function() t:update_element("k", { 2, 1 }) end,
        first = function() t:first() end,
        next = function() t:next("k") end,
        last = function() t:last() end,
        prev = function() t:prev("k") end,
        foldl = function() t:foldl(function(_, a) return a end, 0) end,
        foldr = function() t:foldr(function(_, a) return a end, 0) end,
        tab2list = function() t:tab2list() end,
        info = function() t:info() end,
        rename = function() t:rename("again") end,
        setopts = function() t:setopts{ heir = false } end,
        give_away = function() t:give_away(hl.self(), nil) end,
        match = function() t:match({ "$1", "_" }) end,
        match_object = function() t:match_object({ "_", "_" }) end,
        match_delete = function() t:match_delete({ "_", "_" }) end,
        select = function() t:select({ { "_", {}, { "$_" } } }) end,
        select_reverse = function() t:select_reverse({ { "_", {}, { "$_" } } }) end,
        select_count = function() t:select_count({ { "_", {}, { true } } }) end,
        select_delete = function() t:select_delete({ { "_", {}, { true } } }) end,
        select_replace = function() t:select_replace({ { "_", {}, { "$_" } } }) end,
        drop = function() t:drop() end,
      }
      for fname, fn in pairs(calls) do
        assert.error_matches(fn, P(fname, "dropped"))
      end
      assert.is_nil(hl.table.whereis("d"))
      assert.are.equal(0, #hl.table.all())
    end)

    it("does not disturb a new table with the same name", function()
      local t = hl.table.new("d", { named = true })
      t:drop()
      local u = hl.table.new("d", { named = true })
      u:insert({ "fresh" })
      assert.error_matches(function() t:lookup("fresh") end, P("lookup", "dropped"))
      assert.error_matches(function() t:insert({ "x" }) end, P("insert", "dropped"))
      H.assert_strict({ { "fresh" } }, u:tab2list())
    end)
  end)

  -- ------------------------------------------------------------ names, owner, options
  describe("names, ownership and options", function()
    it("returns nil from whereis for an unknown name, without an error", function()
      assert.is_nil(hl.table.whereis("unknown"))
      hl.table.new("unnamed")
      assert.is_nil(hl.table.whereis("unnamed"))
    end)

    it("refuses to rename a named table to a taken name", function()
      local a = hl.table.new("a", { named = true })
      local b = hl.table.new("b", { named = true })
      b:insert({ "in b" })
      assert.error_matches(function() b:rename("a") end, P("rename", "a"))
      assert.are.equal("b", b:info("name"))
      assert.are.equal(b, hl.table.whereis("b"))
      assert.are.equal(a, hl.table.whereis("a"))
      H.assert_strict({ { "in b" } }, b:tab2list())
    end)

    it("refuses a name that is not a string in rename", function()
      local t = hl.table.new("a", { named = true })
      assert.error_matches(function() t:rename(42) end, P("rename", "name"))
      assert.error_matches(function() t:rename() end, P("rename", "name"))
      assert.are.equal("a", t:info("name"))
      assert.are.equal(t, hl.table.whereis("a"))
    end)

    it("refuses to give a table away to its owner", function()
      local t = hl.table.new("g")
      t:insert({ "k" })
      fails_unchanged(t, function() t:give_away(hl.self(), "data") end,
        P("give_away", "already own"))
      assert.are.equal(hl.self(), t:info("owner"))
    end)

    it("refuses to give a table away to its owner when no data is given", function()
      local t = hl.table.new("g")
      t:insert({ "k" })
      -- the data argument is optional: its absence must not be the error
      fails_unchanged(t, function() t:give_away(hl.self()) end, P("give_away", "already own"))
      fails_unchanged(t, function() t:give_away(hl.self(), nil) end, P("give_away", "already own"))
    end)

    it("refuses to give a table away to something that is not a pid", function()
      local t = hl.table.new("g")
      fails_unchanged(t, function() t:give_away("name", nil) end, P("give_away", "pid"))
      fails_unchanged(t, function() t:give_away(nil) end, P("give_away", "pid"))
      fails_unchanged(t, function() t:give_away(t) end, P("give_away", "pid"))
      assert.are.equal(hl.self(), t:info("owner"))
    end)

    it("refuses a bad option in setopts and keeps the heir", function()
      local t = hl.table.new("s", { heir = "keeper", heir_data = 1 })
      assert.error_matches(function() t:setopts{ colour = "red" } end,
        P("setopts", "unknown", "colour"))
      assert.error_matches(function() t:setopts{ type = "bag" } end, P("setopts", "type"))
      assert.error_matches(function() t:setopts{ heir = 42 } end, P("setopts", "heir"))
      assert.error_matches(function() t:setopts{ heir = "x", heir_data = print } end,
        P("setopts", "heir_data", "function"))
      assert.error_matches(function() t:setopts("heir") end, P("setopts"))
      assert.are.equal("keeper", t:info("heir"))
      assert.are.equal(1, t:info("heir_data"))
      assert.are.equal("set", t:info("type"))
    end)

    it("refuses an unknown info item", function()
      local t = hl.table.new("i")
      assert.error_matches(function() t:info("colour") end, P("info", "colour"))
      assert.error_matches(function() t:info(42) end, P("info"))
    end)

    it("refuses a call whose first argument is not a table handle", function()
      assert.error_matches(function() hl.table.lookup("not a handle", 1) end,
        P("lookup", "table handle"))
      assert.error_matches(function() hl.table.insert({ "k" }) end, P("insert", "table handle"))
      assert.error_matches(function() hl.table.info(hl.self()) end, P("info", "table handle"))
    end)

    it("refuses a fold function that is not a function (foldl)", function()
      local t = hl.table.new("f")
      t:insert({ 1 })
      assert.error_matches(function() t:foldl("f", 0) end, P("foldl", "function"))
    end)

    it("refuses a fold function that is not a function (foldr)", function()
      local t = hl.table.new("f")
      t:insert({ 1 })
      assert.error_matches(function() t:foldr(nil, 0) end, P("foldr", "function"))
    end)
  end)
end)
