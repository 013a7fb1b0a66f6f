-- match_spec.lua — match specifications: select and friends, match,
-- match_object, match_delete; guards, bodies, limits and continuations.
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helpers.lua")
local hl = H.hl

local TYPES = { "set", "ordered_set", "bag", "duplicate_bag" }

local ALL = { { "_", {}, { "$_" } } }   -- every object

-- every chunk of a limited select, concatenated; checks chunk sizes.
-- slack: how far a chunk may go past limit. A traversal resumes from a key,
-- so a bag's chunk may end with all the objects of its last key (at most
-- (objects per key - 1) past the limit).
local function select_chunks(t, ms, limit, slack)
  slack = slack or 0
  local out, chunks = {}, 0
  local res, cont = t:select(ms, limit)
  while res ~= nil do
    chunks = chunks + 1
    assert.are.equal("table", type(res))
    assert.is_true(#res >= 1, "a chunk is empty (nil is expected instead)")
    assert.is_true(#res <= limit + slack, "chunk of " .. #res .. " objects with limit " .. limit)
    for _, v in ipairs(res) do out[#out + 1] = v end
    if cont == nil then break end
    assert.is_true(chunks <= 100000, "the continuations do not end")
    res, cont = t:select(cont)
  end
  return out, chunks
end

local function fill(t, n)
  for i = 1, n do t:insert({ i, i % 17, "s" .. (i % 5) }) end
end

describe("match specifications", function()
  before_each(H.start)
  after_each(H.stop)

  -- ------------------------------------------------------------ heads
  describe("heads", function()
    local t
    before_each(function()
      t = hl.table.new("m", { type = "ordered_set" })
      t:insert({ 1, 5, "a" }, { 2, 15, "b" }, { 3, 25, "a" }, { 4, "x" }, { 5, { 1, 2 }, "c" },
               { 6, 6, 6 })
    end)

    it("matches everything with _", function()
      H.assert_strict(t:tab2list(), t:select(ALL))
      assert.are.equal(6, #t:select({ { "_", {}, { "$_" } } }))
    end)

    it("matches arrays of exactly the pattern's length", function()
      H.assert_strict({ 1, 2, 3, 5, 6 }, t:select({ { { "$1", "_", "_" }, {}, { "$1" } } }))
      H.assert_strict({ 4 }, t:select({ { { "$1", "_" }, {}, { "$1" } } }))
      H.assert_strict({}, t:select({ { { "$1" }, {}, { "$1" } } }))
    end)

    it("matches literals in the head", function()
      H.assert_strict({ 1, 3 }, t:select({ { { "$1", "_", "a" }, {}, { "$1" } } }))
      H.assert_strict({ { 2, 15, "b" } }, t:select({ { { "_", 15, "_" }, {}, { "$_" } } }))
      H.assert_strict({ 5 }, t:select({ { { "$1", { 1, 2 }, "_" }, {}, { "$1" } } }))
    end)

    it("matches a literal number by value (1.0 is 1)", function()
      H.assert_strict({ 2 }, t:select({ { { "$1", 15.0, "_" }, {}, { "$1" } } }))
    end)

    it("binds nested variables", function()
      H.assert_strict({ { 1, 2 } }, t:select({ { { "_", { "$1", "$2" }, "_" }, {}, { { { "$1", "$2" } } } } }))
    end)

    it("requires repeated variables to be equal", function()
      H.assert_strict({ 6 }, t:select({ { { "$1", "$1", "$1" }, {}, { "$1" } } }))
      H.assert_strict({ 6 }, t:select({ { { "$1", "$2", "$2" }, {}, { "$1" } } }))
    end)

    it("matches map objects with map patterns", function()
      local m = hl.table.new("maps", { keypos = "id", type = "ordered_set" })
      m:insert({ id = 1, role = "dev", age = 30 }, { id = 2, role = "ops", age = 40 },
               { id = 3, role = "dev", age = 50, extra = true })
      -- a map pattern needs its keys present (further keys are allowed)
      H.assert_strict({ 1, 3 }, m:select({ { { id = "$1", role = "dev" }, {}, { "$1" } } }))
      H.assert_strict({ { 1, 30 }, { 2, 40 }, { 3, 50 } },
        m:select({ { { id = "$1", age = "$2" }, {}, { { { "$1", "$2" } } } } }))
      H.assert_strict({ 3 }, m:select({ { { id = "$1", extra = "_" }, {}, { "$1" } } }))
      H.assert_strict({}, m:select({ { { id = "$1", missing = "_" }, {}, { "$1" } } }))
    end)

    it("takes the first clause that matches", function()
      local ms = {
        { { "$1", "_", "a" }, {}, { { { "$1", "first" } } } },
        { { "$1", "_", "_" }, {}, { { { "$1", "second" } } } },
      }
      H.assert_strict({ { 1, "first" }, { 2, "second" }, { 3, "first" }, { 5, "second" }, { 6, "second" } },
        t:select(ms))
    end)
  end)

  -- ------------------------------------------------------------ guards
  describe("guards", function()
    local t
    before_each(function()
      t = hl.table.new("g", { type = "ordered_set" })
      for i = 1, 20 do t:insert({ i, i * 10, i % 2 == 0 and "even" or "odd" }) end
      t:insert({ "str", "not a number", "x" }, { 1.5, 2.5, "float" })
    end)

    local function keys(guards)
      return t:select({ { { "$1", "$2", "$3" }, guards, { "$1" } } })
    end

    it("compares", function()
      -- a string is above every number in term order
      H.assert_strict({ 19, 20, "str" }, keys({ { ">", "$2", 180 } }))
      H.assert_strict({ 1, 1.5, 2 }, keys({ { "<", "$2", 30 } }))
      H.assert_strict({ 3 }, keys({ { "==", "$2", 30 } }))
      H.assert_strict({ 3 }, keys({ { "==", "$2", 30.0 } }))
      H.assert_strict({ 19, 20, "str" }, keys({ { ">=", "$2", 190 } }))
      H.assert_strict({ 1, 1.5 }, keys({ { "=<", "$2", 10 } }))
      assert.are.equal(21, #keys({ { "/=", "$2", 30 } }))
    end)

    it("compares across types in term order", function()
      -- a string is above every number
      H.assert_strict({ "str" }, keys({ { ">", "$2", 1e300 } }))
    end)

    it("combines with and, or, not, andalso, orelse", function()
      H.assert_strict({ 2, 4 }, keys({ { "and", { "<", "$2", 50 }, { "==", "$3", "even" } } }))
      H.assert_strict({ 1, 1.5, 20, "str" }, keys({ { "or", { "<", "$2", 11 }, { ">", "$2", 190 } } }))
      H.assert_strict({ 18, 19, 20 }, keys({ { "not", { "<", "$2", 180 } }, { "is_integer", "$2" } }))
      H.assert_strict({ 2, 4 }, keys({ { "andalso", { "<", "$2", 50 }, { "==", "$3", "even" } } }))
      H.assert_strict({ 1, 1.5, 20, "str" }, keys({ { "orelse", { "<", "$2", 11 }, { ">", "$2", 190 } } }))
    end)

    it("treats several guards as all required", function()
      H.assert_strict({ 2, 4 }, keys({ { "<", "$2", 50 }, { "==", "$3", "even" } }))
    end)

    it("tests types", function()
      H.assert_strict({ "str" }, keys({ { "is_string", "$2" } }))
      H.assert_strict({ 1.5 }, keys({ { "is_float", "$2" } }))
      assert.are.equal(20, #keys({ { "is_integer", "$2" } }))
      assert.are.equal(21, #keys({ { "is_number", "$2" } }))
      H.assert_strict({}, keys({ { "is_array", "$2" } }))
    end)

    it("computes with arithmetic", function()
      H.assert_strict({ 5 }, keys({ { "==", { "+", "$2", 1 }, 51 } }))
      H.assert_strict({ 2 }, keys({ { "==", { "*", "$1", 3 }, 6 }, { "is_integer", "$1" } }))
      H.assert_strict({ 3, 6, 9, 12, 15, 18 },
        keys({ { "is_integer", "$1" }, { "==", { "rem", "$1", 3 }, 0 } }))
      H.assert_strict({ 10, 11, 12 }, keys({ { "is_integer", "$1" }, { "==", { "div", "$2", 25 }, 4 } }))
    end)

    it("fails the clause, not the call, when a guard raises", function()
      -- "not a number" + 1 fails for "str": that object just does not match
      local got = keys({ { ">", { "+", "$2", 1 }, 195 } })
      H.assert_strict({ 20 }, got)
    end)

    it("uses constants", function()
      H.assert_strict({ 1 }, keys({ { "==", "$2", { "const", 10 } } }))
    end)

    it("reads array elements and sizes", function()
      local a = hl.table.new("a", { type = "ordered_set" })
      a:insert({ 1, { "x", "y" } }, { 2, { "x" } }, { 3, { "z", "y", "w" } })
      H.assert_strict({ 1, 3 }, a:select({ { { "$1", "$2" }, { { ">=", { "size", "$2" }, 2 } }, { "$1" } } }))
      H.assert_strict({ 1, 2 }, a:select({ { { "$1", "$2" }, { { "==", { "element", 1, "$2" }, "x" } }, { "$1" } } }))
    end)
  end)

  -- ------------------------------------------------------------ bodies
  describe("bodies", function()
    local t
    before_each(function()
      t = hl.table.new("b", { type = "ordered_set" })
      t:insert({ "a", 1, true }, { "b", 2, false }, { "c", 3, true })
    end)

    it("returns the object for $_", function()
      H.assert_strict(t:tab2list(), t:select({ { { "_", "_", "_" }, {}, { "$_" } } }))
    end)

    it("returns all bindings, in variable order, for $$", function()
      H.assert_strict({ { 1, "a" }, { 2, "b" }, { 3, "c" } },
        t:select({ { { "$2", "$1", "_" }, {}, { "$$" } } }))
    end)

    it("returns one variable", function()
      H.assert_strict({ 1, 2, 3 }, t:select({ { { "_", "$1", "_" }, {}, { "$1" } } }))
    end)

    it("builds arrays, nested, with the object inside", function()
      H.assert_strict({ { 1, "a" }, { 2, "b" }, { 3, "c" } },
        t:select({ { { "$1", "$2", "_" }, {}, { { { "$2", "$1" } } } } }))
      H.assert_strict({ { "a", { 1, { "a", 1, true } } } },
        t:select({ { { "$1", "$2", "_" }, { { "==", "$2", 1 } }, { { { "$1", { { "$2", "$_" } } } } } } }))
    end)

    it("returns constants and literals", function()
      H.assert_strict({ { "lit", 1 }, { "lit", 1 }, { "lit", 1 } },
        t:select({ { "_", {}, { { "const", { "lit", 1 } } } } }))
      H.assert_strict({ 42, 42, 42 }, t:select({ { "_", {}, { 42 } } }))
      H.assert_strict({ "text", "text", "text" }, t:select({ { "_", {}, { "text" } } }))
    end)

    it("returns the last expression of a body", function()
      H.assert_strict({ "a", "b", "c" }, t:select({ { { "$1", "$2", "_" }, {}, { "$2", "$1" } } }))
    end)

    it("computes in the body", function()
      H.assert_strict({ 10, 20, 30 }, t:select({ { { "_", "$1", "_" }, {}, { { "*", "$1", 10 } } } }))
    end)
  end)

  -- ------------------------------------------------------------ documented details
  describe("documented details (docs/match-specs.md)", function()
    local t
    before_each(function()
      t = hl.table.new("d", { type = "ordered_set" })
      t:insert({ 1, 10 }, { 2, 20 }, { 3, "x" })
    end)

    it("matches nothing with an empty spec", function()
      H.assert_strict({}, t:select({}))
      assert.are.equal(0, t:select_count({}))
      assert.are.equal(0, t:select_delete({}))
      assert.are.equal(3, t:info("size"))
    end)

    it("gives EXIT in place of a body call that raises, and tries no later clause", function()
      -- the expected results are ETS's (OTP 25), its atom 'EXIT' as a string
      H.assert_strict({ 10, 20, "EXIT" }, t:select({
        { { "$1", "$2" }, {}, { { "div", "$2", 1 } } },
        { "_", {}, { "later" } } }))
      H.assert_strict({ "EXIT", "EXIT", "EXIT" }, t:select({ { { "$1", "_" }, {}, { { "div", "$1", 0 } } } }))
      H.assert_strict({ { 1, "EXIT" }, { 2, "EXIT" }, { 3, "EXIT" } },
        t:select({ { { "$1", "$2" }, {}, { { { "$1", { "div", "$2", 0 } } } } } }))
      H.assert_strict({ false, false, false },
        t:select({ { { "$1", "$2" }, {}, { { "is_integer", { "div", "$2", 0 } } } } }))
      -- only the last body expression counts, an earlier one's error too
      H.assert_strict({ 1, 2, 3 }, t:select({
        { { "$1", "$2" }, {}, { { "+", "$1", 0 }, { "div", "$2", 1 }, "$1" } },
        { "_", {}, { "later" } } }))
    end)

    it("builds maps in bodies", function()
      H.assert_strict({ { key = 1, next = 11 }, { key = 2, next = 21 } },
        t:select({ { { "$1", "$2" }, { { "is_integer", "$2" } }, { { key = "$1", next = { "+", "$2", 1 } } } } }))
    end)

    it("binds $0 and lists it first in $$", function()
      H.assert_strict({ { 10, 1 }, { 20, 2 }, { "x", 3 } }, t:select({ { { "$1", "$0" }, {}, { "$$" } } }))
    end)

    it("quotes special strings with const", function()
      H.assert_strict({ "$1", "$1", "$1" }, t:select({ { "_", {}, { { "const", "$1" } } } }))
      H.assert_strict({ "_", "_", "_" }, t:select({ { "_", {}, { "_" } } }))
    end)

    it("never passes a constant guard other than true", function()
      H.assert_strict({}, t:select({ { "_", { 1 }, { "$_" } } }))
      H.assert_strict({}, t:select({ { "_", { false }, { "$_" } } }))
      assert.are.equal(3, #t:select({ { "_", { true }, { "$_" } } }))
    end)

    it("divides and takes remainders as Erlang does", function()
      local function eval(expr)
        return t:select({ { { 1, "_" }, {}, { expr } } })[1]
      end
      H.assert_strict(-3, eval({ "div", -7, 2 }))
      H.assert_strict(-1, eval({ "rem", -7, 2 }))
      H.assert_strict(3.5, eval({ "/", 7, 2 }))
      H.assert_strict(2, eval({ "/", 4, 2 }))
      H.assert_strict("EXIT", eval({ "/", 1, 0 }))
      H.assert_strict("EXIT", eval({ "+", math.maxinteger, 1 }))
      H.assert_strict(-4, eval({ "bsr", -8, 1 }))
      H.assert_strict(false, eval({ "is_float", 2.0 }))
      H.assert_strict(true, eval({ "is_integer", 2.0 }))
      H.assert_strict(true, eval({ "is_float", { "/", 1, 2 } }))
      H.assert_strict("EXIT", eval({ "div", 1, 0 }))
      H.assert_strict(7, eval({ "abs", -7 }))
      H.assert_strict(3, eval({ "max", 3, 2 }))
      H.assert_strict(6, eval({ "band", 7, 14 }))
    end)

    it("takes true and false for atoms, as Erlang does", function()
      local function eval(expr)
        return t:select({ { { 1, "_" }, {}, { expr } } })[1]
      end
      H.assert_strict(true, eval({ "is_atom", true }))
      H.assert_strict(true, eval({ "is_atom", { "<", 1, 2 } }))
      H.assert_strict(true, eval({ "is_atom", hl.atom("ok") }))
      H.assert_strict(false, eval({ "is_atom", "ok" }))
      H.assert_strict(false, eval({ "is_atom", 1 }))
      H.assert_strict(true, eval({ "is_boolean", false }))
      H.assert_strict(false, eval({ "is_boolean", hl.atom("ok") }))
    end)

    it("gives the caller's pid for self", function()
      H.assert_strict({ hl.self() }, t:select({ { { 1, "_" }, {}, { { "self" } } } }))
      assert.are.equal(3, t:select_count({ { "_", { { "==", { "self" }, hl.self() } }, { true } } }))
    end)

    it("reads maps with map_get and is_map_key", function()
      local m = hl.table.new("m", { type = "ordered_set" })
      m:insert({ 1, { tags = { "a" } } }, { 2, { name = "n" } }, { 3, "not a map" })
      H.assert_strict({ 1 }, m:select({ { { "$1", "$2" },
        { { "is_map", "$2" }, { "is_map_key", "tags", "$2" } }, { "$1" } } }))
      H.assert_strict({ { "a" }, "EXIT", "EXIT" }, m:select({ { { "$1", "$2" }, {}, { { "map_get", "tags", "$2" } } } }))
    end)

    it("refuses an array written as an expression (not a call or construction)", function()
      assert.error_matches(function() t:select({ { { "$1", "$2" }, {}, { { "$1", "$2" } } } }) end,
        "^heirloom%.table%.select: match spec: clause 1: body 1: .*%$1")
    end)
  end)

  -- ------------------------------------------------------------ edges, as ETS
  -- The expected results in this section are ETS's (OTP 25's ets module),
  -- with ETS's atoms written as strings.
  describe("errors in bodies, andalso, orelse and numbers at the edges, as ETS", function()
    for _, ty in ipairs(TYPES) do
      it("gives EXIT in place of a body call that raises and goes on (" .. ty .. ")", function()
        local t = hl.table.new("e", { type = ty })
        t:insert({ 1, 10 }, { 2, "x" })
        H.assert_same_multiset({ { 1, "EXIT" }, { 2, "EXIT" } },
          t:select({ { { "$1", "$2" }, {}, { { { "$1", { "div", "$2", 0 } } } } } }))
        H.assert_strict({ false, false },
          t:select({ { { "$1", "$2" }, {}, { { "is_integer", { "div", "$2", 0 } } } } }))
        H.assert_same_multiset({ 11, "EXIT" }, t:select({ { { "$1", "$2" }, {}, { { "+", "$2", 1 } } } }))
        -- select_count and select_delete take the objects whose result is true
        local not_int = { { { "$1", "$2" }, {}, { { "not", { "is_integer", { "div", "$2", 0 } } } } } }
        local exit_first = { { { "$1", "$2" }, {}, { { "div", "$2", 0 } } }, { "_", {}, { true } } }
        local is_exit = { { { "$1", "$2" }, {}, { { "==", { "+", "$2", 1 }, "EXIT" } } } }
        assert.are.equal(2, t:select_count(not_int))
        assert.are.equal(0, t:select_count(exit_first))
        assert.are.equal(2, t:select_count({ { { "$1", "$2" }, {}, { { "div", "$2", 0 }, true } } }))
        assert.are.equal(1, t:select_count(is_exit))
        assert.are.equal(0, t:select_delete(exit_first))
        assert.are.equal(2, t:info("size"))
        assert.are.equal(1, t:select_delete(is_exit))
        H.assert_strict({ { 1, 10 } }, t:tab2list())
        assert.are.equal(1, t:select_delete(not_int))
        assert.are.equal(0, t:info("size"))
      end)
    end

    it("gives andalso's and orelse's last argument as it is, in bodies and guards", function()
      local t = hl.table.new("a", { type = "ordered_set" })
      t:insert({ 1, 10 }, { 2, "x" })
      H.assert_strict({ 10, "x" }, t:select({ { { "$1", "$2" }, {}, { { "andalso", true, "$2" } } } }))
      H.assert_strict({ 10, "x" }, t:select({ { { "$1", "$2" }, {}, { { "orelse", false, "$2" } } } }))
      H.assert_strict({ { 1, false }, { 2, false } },
        t:select({ { { "$1", "$2" }, {}, { { { "$1", { "andalso", false, "$2" } } } } } }))
      H.assert_strict({ true, { "x" } },
        t:select({ { { "$1", "$2" }, {}, { { "orelse", { "is_integer", "$2" }, { { "$2" } } } } } }))
      -- the arguments before the last must be booleans
      H.assert_strict({ { 1, "EXIT" }, { 2, "EXIT" } },
        t:select({ { { "$1", "$2" }, {}, { { { "$1", { "andalso", "$2", true } } } } } }))
      H.assert_strict({ 1 }, t:select({ { { "$1", "$2" }, { { "==", { "andalso", true, "$2" }, 10 } }, { "$1" } } }))
      H.assert_strict({}, t:select({ { { "$1", "$2" }, { { "andalso", true, "$2" } }, { "$1" } } }))
      assert.are.equal(1, t:select_count({ { { "$1", "$2" }, {},
        { { "andalso", { "is_integer", "$2" }, { "==", "$2", 10 } } } } }))
    end)

    it("raises on an integer overflow or a division by zero, never gives a wrong number", function()
      local t = hl.table.new("n", { type = "ordered_set" })
      t:insert({ 1, 10 })
      local function eval(expr)
        return t:select({ { { 1, "_" }, {}, { expr } } })[1]
      end
      local raising = {
        { "+", math.maxinteger, 1 }, { "-", math.mininteger, 1 }, { "*", math.maxinteger, 2 },
        { "*", math.mininteger, -1 }, { "-", math.mininteger }, { "abs", math.mininteger },
        { "div", math.mininteger, -1 }, { "bsl", 1, 63 }, { "bsl", 1, 64 }, { "bsl", 3, 62 },
        { "bsr", 1, -64 }, { "/", 1, 0 }, { "/", 1, 0.5 - 0.5 }, { "/", 0, 0 }, { "*", 1e308, 10 },
        { "+", 1e308, 1e308 }, { "+", math.huge, 1 }, { "round", 1e300 }, { "trunc", 1e19 },
        { "+", { "+", math.maxinteger, 1 }, -1 },
      }
      for _, e in ipairs(raising) do
        assert.are.equal("EXIT", eval(e))
        -- in a guard the clause fails (the next clause is tried)
        H.assert_strict({ "next" }, t:select({ { { 1, "_" }, { { "is_number", e } }, { "guard" } },
                                              { "_", {}, { "next" } } }))
      end
      H.assert_strict(math.mininteger, eval({ "bsl", -1, 63 }))
      H.assert_strict(math.mininteger, eval({ "*", -(1 << 62), 2 }))
      H.assert_strict(0, eval({ "rem", math.mininteger, -1 }))
      H.assert_strict(0, eval({ "bsl", 0, 100 }))
      H.assert_strict(-1, eval({ "bsr", -1, 100 }))
      H.assert_strict(2.0 ^ 63, eval({ "+", math.maxinteger, 0.5 }))
      H.assert_strict(3, eval({ "round", 2.5 }))
      H.assert_strict(-3, eval({ "round", -2.5 }))
      H.assert_strict(-2, eval({ "trunc", -2.7 }))
      H.assert_strict(2.5, eval({ "float", 2.5 }))
      -- the same through the object's values
      H.assert_strict({ { 1, "EXIT" } },
        t:select({ { { "$1", "$2" }, {}, { { { "$1", { "*", "$2", math.maxinteger } } } } } }))
      -- a guard that overflows fails its clause (ETS, with bignums, would pass it)
      assert.are.equal(0, t:select_count({ { { "$1", "$2" }, { { ">", { "bsl", "$2", 62 }, 0 } }, { true } } }))
    end)
  end)

  -- ------------------------------------------------------------ select_reverse
  -- The expected results are ETS's (OTP 25's ets:select_reverse).
  describe("select_reverse", function()
    local MS = { { { "$1", "$2" }, { { ">", "$1", 1 } }, { "$1" } } }
    local NONE = { { { "$1", "$2" }, { { ">", "$1", 50 } }, { "$1" } } }
    local function seven()
      local t = hl.table.new("o", { type = "ordered_set" })
      for i = 1, 7 do t:insert({ i, i * 10 }) end
      return t
    end

    it("walks an ordered_set backward", function()
      local t = seven()
      H.assert_strict({ 7, 6, 5, 4, 3, 2 }, t:select_reverse(MS))
      H.assert_strict({ 30 }, t:select_reverse({ { { 3, "$2" }, {}, { "$2" } } }))
      H.assert_strict({}, t:select_reverse(NONE))
      local rev = t:tab2list()
      for i = 1, #rev // 2 do rev[i], rev[#rev + 1 - i] = rev[#rev + 1 - i], rev[i] end
      H.assert_strict(rev, t:select_reverse(ALL))
    end)

    it("gives an ordered_set's chunks backward; a continuation keeps its direction", function()
      local t = seven()
      local res, cont = t:select_reverse(MS, 3)
      H.assert_strict({ 7, 6, 5 }, res)
      H.assert_strict({ 4, 3, 2 }, (t:select_reverse(cont)))
      _, cont = t:select_reverse(MS, 3)
      H.assert_strict({ 4, 3, 2 }, (t:select(cont)))
      _, cont = t:select_reverse(MS, 3)
      H.assert_strict({ 4, 3, 2 }, (hl.table.select_reverse(cont)))
      res, cont = t:select(MS, 3)
      H.assert_strict({ 2, 3, 4 }, res)
      H.assert_strict({ 5, 6, 7 }, (t:select_reverse(cont)))
      local chunks = {}
      res, cont = t:select_reverse(MS, 2)
      while res ~= nil do
        chunks[#chunks + 1] = res
        if cont == nil then break end
        res, cont = t:select_reverse(cont)
      end
      H.assert_strict({ { 7, 6 }, { 5, 4 }, { 3, 2 } }, chunks)
      assert.is_nil(t:select_reverse(NONE, 2))
      assert.is_nil(hl.table.new("empty", { type = "ordered_set" }):select_reverse(MS, 2))
    end)

    for _, ty in ipairs({ "set", "bag", "duplicate_bag" }) do
      it("is select in a " .. ty .. ", chunks and continuations too", function()
        local t = hl.table.new("h", { type = ty })
        for i = 1, 60 do t:insert({ i % 23, i }) end
        H.assert_strict(t:select(ALL), t:select_reverse(ALL))
        H.assert_strict(t:select(MS), t:select_reverse(MS))
        local forward, backward = {}, {}
        local res, cont = t:select(ALL, 7)
        while res ~= nil do
          for _, o in ipairs(res) do forward[#forward + 1] = o end
          if cont == nil then break end
          res, cont = t:select(cont)
        end
        res, cont = t:select_reverse(ALL, 7)
        while res ~= nil do
          for _, o in ipairs(res) do backward[#backward + 1] = o end
          if cont == nil then break end
          res, cont = t:select_reverse(cont)
        end
        H.assert_strict(forward, backward)
      end)
    end

    it("refuses a bad limit, spec or continuation", function()
      local t = seven()
      assert.error_matches(function() t:select_reverse(MS, 0) end,
        "^heirloom%.table%.select_reverse: .*limit")
      assert.error_matches(function() t:select_reverse({ { "_", {}, { { "nope" } } } }) end,
        "^heirloom%.table%.select_reverse: match spec: clause 1: body 1: unknown function 'nope'")
      local _, cont = seven():select_reverse(MS, 2)
      assert.error_matches(function() t:select_reverse(cont) end,
        "^heirloom%.table%.select_reverse: .*another table")
    end)
  end)

  -- ------------------------------------------------------------ select_* counts
  describe("select_count, select_delete, select_replace", function()
    for _, ty in ipairs(TYPES) do
      it("counts only objects for which the spec returns true (" .. ty .. ")", function()
        local t = hl.table.new("c", { type = ty })
        t:insert({ "a", true }, { "b", false }, { "c", true }, { "d", "true" })
        assert.are.equal(4, t:select_count({ { "_", {}, { true } } }))
        assert.are.equal(2, t:select_count({ { { "_", "$1" }, {}, { "$1" } } }))
        assert.are.equal(0, t:select_count({ { "_", {}, { "$_" } } }))
        assert.are.equal(1, t:select_count({ { { "b", "_" }, {}, { true } } }))
        assert.are.equal(4, t:info("size"))
      end)

      it("deletes only objects for which the spec returns true (" .. ty .. ")", function()
        local t = hl.table.new("d", { type = ty })
        fill(t, 200)
        local before = t:tab2list()
        local ms = { { { "$1", "$2", "_" }, { { "<", "$2", 5 } }, { true } } }
        local expected_gone = t:select_count(ms)
        assert.is_true(expected_gone > 0)
        assert.are.equal(expected_gone, t:select_delete(ms))
        assert.are.equal(200 - expected_gone, t:info("size"))
        assert.are.equal(0, t:select_count(ms))
        local kept = {}
        for _, o in ipairs(before) do if o[2] >= 5 then kept[#kept + 1] = o end end
        H.assert_same_multiset(kept, t:tab2list())
        -- a body that is not true deletes nothing
        assert.are.equal(0, t:select_delete({ { "_", {}, { "$_" } } }))
        assert.are.equal(200 - expected_gone, t:info("size"))
      end)
    end

    it("deletes single objects of a bag key", function()
      local t = hl.table.new("d", { type = "bag" })
      t:insert({ "k", 1 }, { "k", 2 }, { "k", 3 })
      assert.are.equal(1, t:select_delete({ { { "_", 2 }, {}, { true } } }))
      H.assert_strict({ { "k", 1 }, { "k", 3 } }, t:lookup("k"))
    end)

    for _, ty in ipairs({ "set", "ordered_set" }) do
      it("replaces objects and counts them (" .. ty .. ")", function()
        local t = hl.table.new("r", { type = ty })
        for i = 1, 50 do t:insert({ i, i }) end
        local n = t:select_replace({
          { { "$1", "$2" }, { { ">", "$2", 40 } }, { { { "$1", { "*", "$2", 2 }, "new" } } } } })
        assert.are.equal(10, n)
        assert.are.equal(50, t:info("size"))
        for i = 1, 40 do H.assert_strict({ { i, i } }, t:lookup(i)) end
        for i = 41, 50 do H.assert_strict({ { i, i * 2, "new" } }, t:lookup(i)) end
        -- $_ replaces with the same object: counted, unchanged
        assert.are.equal(50, t:select_replace({ { "_", {}, { "$_" } } }))
        assert.are.equal(50, t:info("size"))
      end)

      it("leaves objects whose replacement changes the key or is no object (" .. ty .. ")", function()
        -- docs/match-specs.md: such a result leaves the object as it was
        -- (ETS would fail with badarg instead)
        local t = hl.table.new("r", { type = ty })
        for i = 1, 10 do t:insert({ i, i }) end
        local before = t:tab2list()
        assert.are.equal(0, t:select_replace({ { { "$1", "$2" }, {}, { { { { "+", "$1", 100 }, "$2" } } } } }))
        assert.are.equal(0, t:select_replace({ { { "$1", "$2" }, {}, { "not an object" } } }))
        assert.are.equal(0, t:select_replace({ { { "$1", "$2" }, {}, { {} } } }))
        H.assert_strict(before, t:tab2list())
        assert.is_false(t:member(101))
        -- mixed: only the key-keeping results replace
        assert.are.equal(5, t:select_replace({
          { { "$1", "$2" }, { { "=<", "$1", 5 } }, { { { "$1", "changed" } } } },
          { { "$1", "$2" }, {}, { { { { "+", "$1", 1000 }, "moved" } } } } }))
        for i = 1, 5 do H.assert_strict({ { i, "changed" } }, t:lookup(i)) end
        for i = 6, 10 do H.assert_strict({ { i, i } }, t:lookup(i)) end
        assert.are.equal(10, t:info("size"))
      end)
    end

    it("replaces in a duplicate_bag, keeping each key's order, as ETS does", function()
      -- ETS's results (OTP 25): only a bag is refused
      local t = hl.table.new("r", { type = "duplicate_bag" })
      t:insert({ 1, "a" }, { 1, "b" }, { 2, "c" }, { 1, "a" })
      assert.are.equal(4, t:select_replace({ { { "$1", "$2" }, {}, { { { "$1", "x" } } } } }))
      H.assert_same_multiset({ { 1, "x" }, { 1, "x" }, { 1, "x" }, { 2, "x" } }, t:tab2list())
      local u = hl.table.new("r2", { type = "duplicate_bag" })
      u:insert({ 1, "a" }, { 1, "b" }, { 1, "c" }, { 1, "b" })
      assert.are.equal(2, u:select_replace({ { { "$1", "b" }, {}, { { { "$1", "z" } } } } }))
      H.assert_strict({ { 1, "a" }, { 1, "z" }, { 1, "c" }, { 1, "z" } }, u:lookup(1))
      -- replacing one object by a copy of another keeps both
      local v = hl.table.new("r3", { type = "duplicate_bag" })
      v:insert({ 1, "a" }, { 1, "b" })
      assert.are.equal(1, v:select_replace({ { { "$1", "a" }, {}, { { { "$1", "b" } } } } }))
      H.assert_strict({ { 1, "b" }, { 1, "b" } }, v:lookup(1))
      assert.are.equal(2, v:info("size"))
    end)

    it("refuses select_replace on a bag", function()
      local t = hl.table.new("r", { type = "bag" })
      t:insert({ 1, 1 })
      assert.error_matches(function() t:select_replace({ { "_", {}, { "$_" } } }) end,
        "^heirloom%.table%.select_replace: .*bag")
      H.assert_strict({ { 1, 1 } }, t:tab2list())
    end)
  end)

  -- ------------------------------------------------------------ match, match_object, match_delete
  describe("match, match_object, match_delete", function()
    it("gives the bindings of each match, ordered by variable number", function()
      local t = hl.table.new("m", { type = "ordered_set" })
      t:insert({ "a", 1, "x" }, { "b", 2, "y" }, { "c", 3, "x" })
      H.assert_strict({ { "a" }, { "b" }, { "c" } }, t:match({ "$1", "_", "_" }))
      H.assert_strict({ { 1, "a" }, { 3, "c" } }, t:match({ "$2", "$1", "x" }))
      H.assert_strict({ { "a", "x" }, { "b", "y" }, { "c", "x" } }, t:match({ "$1", "_", "$5" }))
      H.assert_strict({ {}, {}, {} }, t:match({ "_", "_", "_" }))
      H.assert_strict({}, t:match({ "_", "_" }))
    end)

    for _, ty in ipairs(TYPES) do
      it("gives the matching objects with match_object (" .. ty .. ")", function()
        local t = hl.table.new("m", { type = ty })
        t:insert({ "a", 1 }, { "b", 2 }, { "c", 1 }, { "d", 1, "long" })
        H.assert_same_multiset({ { "a", 1 }, { "c", 1 } }, t:match_object({ "_", 1 }))
        H.assert_strict({ { "b", 2 } }, t:match_object({ "b", "_" }))
        H.assert_strict({}, t:match_object({ "zz", "_" }))
      end)

      it("deletes the matching objects with match_delete (" .. ty .. ")", function()
        local t = hl.table.new("m", { type = ty })
        t:insert({ "a", 1 }, { "b", 2 }, { "c", 1 }, { "d", 1, "long" })
        assert.is_true(t:match_delete({ "_", 1 }))
        H.assert_same_multiset({ { "b", 2 }, { "d", 1, "long" } }, t:tab2list())
        assert.is_true(t:match_delete({ "nothing", "_" }))
        assert.are.equal(2, t:info("size"))
        assert.is_true(t:match_delete({ "_", "_" }))
        assert.are.equal(1, t:info("size"))
      end)
    end

    it("accepts _ as a whole pattern, as ETS does ('_' matches every object)", function()
      local t = hl.table.new("m", { type = "ordered_set" })
      t:insert({ "a", 1 }, { "b" }, { "c", 1, 2 })
      H.assert_strict(t:tab2list(), t:match_object("_"))
      H.assert_strict({ {}, {}, {} }, t:match("_"))
      assert.is_true(t:match_delete("_"))
      assert.are.equal(0, t:info("size"))
    end)

    it("binds the whole object to a lone variable pattern", function()
      local t = hl.table.new("m", { type = "ordered_set" })
      t:insert({ "a", 1 }, { "b" })
      H.assert_strict({ { { "a", 1 } }, { { "b" } } }, t:match("$1"))
      H.assert_strict(t:tab2list(), t:match_object("$1"))
    end)

    it("keeps a bag's per-key order in match_object", function()
      local t = hl.table.new("m", { type = "duplicate_bag" })
      t:insert({ "k", 3 }, { "k", 1 }, { "k", 3 }, { "k", 2 })
      H.assert_strict({ { "k", 3 }, { "k", 1 }, { "k", 3 }, { "k", 2 } }, t:match_object({ "k", "_" }))
      H.assert_strict({ { 3 }, { 1 }, { 3 }, { 2 } }, t:match({ "k", "$1" }))
    end)
  end)

  -- ------------------------------------------------------------ limits and continuations
  describe("limits and continuations", function()
    for _, ty in ipairs(TYPES) do
      it("gives every result once, in chunks of at most limit (" .. ty .. ")", function()
        local t = hl.table.new("l", { type = ty })
        fill(t, 1000)
        if ty == "bag" or ty == "duplicate_bag" then
          for i = 1, 300 do t:insert({ i, 100 + i, "extra" }) end
        end
        for _, ms in ipairs({
          ALL,
          { { { "$1", "$2", "_" }, { { "<", "$2", 3 } }, { "$1" } } },
          { { { "$1", "_", "s1" }, {}, { { { "$1", "$_" } } } } },
        }) do
          local full = t:select(ms)
          for _, limit in ipairs({ 1, 3, 64, 999, 1000, 5000 }) do
            local slack = (ty == "bag" or ty == "duplicate_bag") and 1 or 0
            local got, chunks = select_chunks(t, ms, limit, slack)
            if ty == "ordered_set" then
              H.assert_strict(full, got, "limit " .. limit)
            else
              H.assert_same_multiset(full, got, "limit " .. limit)
            end
            assert.is_true(chunks >= math.ceil(#full / (limit + slack)))
          end
        end
      end)

      it("returns nil when nothing matches (" .. ty .. ")", function()
        local t = hl.table.new("l", { type = ty })
        assert.is_nil(t:select(ALL, 10))
        fill(t, 50)
        assert.is_nil(t:select({ { { "$1", "_", "none" }, {}, { "$1" } } }, 10))
        H.assert_strict({}, t:select({ { { "$1", "_", "none" }, {}, { "$1" } } }))
      end)

      it("returns each object present all along once while the table changes (" .. ty .. ")", function()
        local t = hl.table.new("l", { type = ty })
        local n = 600
        for i = 1, n do t:insert({ i, "orig" }) end
        local deleted, seen = {}, {}
        local res, cont = t:select(ALL, 25)
        local round = 0
        while res ~= nil do
          round = round + 1
          assert.is_true(round < 10000)
          for _, o in ipairs(res) do
            if o[2] == "orig" then
              assert.is_nil(seen[o[1]], "returned twice: " .. tostring(o[1]))
              assert.is_nil(deleted[o[1]], "returned after its delete: " .. tostring(o[1]))
              seen[o[1]] = true
            end
          end
          -- between chunks: delete some objects, add others (grows the table)
          for j = 1, 5 do
            local victim = (round * 7 + j * 131) % n + 1
            if not seen[victim] then
              t:delete(victim)
              deleted[victim] = true
            end
          end
          for j = 1, 30 do t:insert({ "new" .. round .. "_" .. j, "new" }) end
          if cont == nil then break end
          res, cont = t:select(cont)
        end
        for i = 1, n do
          if not deleted[i] then assert.is_true(seen[i] == true, "never returned: " .. i) end
        end
      end)
    end

    it("gives ordered_set chunks in key order, full except the last", function()
      local t = hl.table.new("l", { type = "ordered_set" })
      for i = 100, 1, -1 do t:insert({ i }) end
      local res, cont = t:select(ALL, 30)
      H.assert_strict(30, #res)
      H.assert_strict({ 1 }, res[1])
      H.assert_strict({ 30 }, res[30])
      res, cont = t:select(cont)
      H.assert_strict({ 31 }, res[1])
      assert.are.equal(30, #res)
      res, cont = t:select(cont)
      assert.are.equal(30, #res)
      res, cont = t:select(cont)
      assert.are.equal(10, #res)
      H.assert_strict({ 100 }, res[10])
      if cont ~= nil then assert.is_nil((t:select(cont))) end
    end)

    it("works as a module function with the continuation alone", function()
      local t = hl.table.new("l", { type = "ordered_set" })
      for i = 1, 10 do t:insert({ i }) end
      local res, cont = t:select(ALL, 4)
      assert.are.equal(4, #res)
      local res2 = hl.table.select(cont)
      H.assert_strict({ { 5 }, { 6 }, { 7 }, { 8 } }, res2)
    end)

    -- A continuation is a value, as in ETS: resuming it never changes it.
    for _, ty in ipairs({ "set", "ordered_set" }) do
      for _, fn in ipairs({ "select", "select_reverse" }) do
        it("gives the same chunk each time one continuation is resumed (" .. ty .. ", " .. fn .. ")", function()
          local t = hl.table.new("v", { type = ty })
          for i = 1, 10 do t:insert({ i, i * 10 }) end
          local KEYS = { { { "$1", "_" }, {}, { "$1" } } }
          local r1, c1 = t[fn](t, KEYS, 3)
          local r2, c2 = t[fn](t, c1)
          local r2again, c2again = t[fn](t, c1)
          H.assert_strict(r2, r2again)
          local r3, c3 = t[fn](t, c2)
          H.assert_strict(r3, (t[fn](t, c2again)))
          -- an older continuation, after a newer one was used
          H.assert_strict(r2, (t[fn](t, c1)))
          H.assert_strict(r2, (hl.table[fn](c1)))
          H.assert_strict(r3, (t[fn](t, c2)))
          -- the chain still gives every key once, and ends the same each time
          local r4, c4 = t[fn](t, c3)
          assert.are.equal(1, #r4)
          assert.is_nil(c4)
          H.assert_strict(r4, (t[fn](t, c3)))
          local all = {}
          for _, r in ipairs({ r1, r2, r3, r4 }) do
            for _, k in ipairs(r) do all[#all + 1] = k end
          end
          H.assert_same_multiset({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, all)
          if ty == "ordered_set" then
            local order = fn == "select" and { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }
                                          or { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 }
            H.assert_strict(order, all)
          end
        end)
      end
    end

    it("resumes an old continuation from its place in the table as it is now", function()
      local t = hl.table.new("v", { type = "ordered_set" })
      for i = 1, 10 do t:insert({ i }) end
      local KEYS = { { { "$1" }, {}, { "$1" } } }
      local _, c1 = t:select(KEYS, 3)
      H.assert_strict({ 4, 5, 6 }, (t:select(c1)))
      local _, r1 = t:select_reverse(KEYS, 3)
      H.assert_strict({ 7, 6, 5 }, (t:select_reverse(r1)))
      t:delete(5)
      t:insert({ 4.5 })
      H.assert_strict({ 4, 4.5, 6 }, (t:select(c1)))
      H.assert_strict({ 7, 6, 4.5 }, (t:select_reverse(r1)))
      H.assert_strict({ 4, 4.5, 6 }, (t:select(c1)))
    end)

    it("keeps a set's continuation usable while the table changes", function()
      local t = hl.table.new("v", { type = "set" })
      for i = 1, 40 do t:insert({ i }) end
      local KEYS = { { { "$1" }, {}, { "$1" } } }
      local _, c1 = t:select(KEYS, 5)
      local r2 = t:select(c1)
      H.assert_strict(r2, (t:select(c1)))
      for i = 41, 200 do t:insert({ i }) end    -- the table grows
      -- each key of r2 still in the table comes again, the same chain of
      -- continuations from c1 gives every key present all along once
      local seen, res, cont = {}, t:select(c1)
      while res ~= nil do
        for _, k in ipairs(res) do
          assert.is_nil(seen[k], "returned twice: " .. k)
          seen[k] = true
        end
        if cont == nil then break end
        res, cont = t:select(cont)
      end
      for _, k in ipairs(r2) do assert.is_true(seen[k], "not given again: " .. k) end
    end)

    it("refuses a continuation a finalizer brought back after its own finalizer", function()
      local t = hl.table.new("v", { type = "ordered_set" })
      for i = 1, 10 do t:insert({ i }) end
      local kept
      do
        local _, c = t:select(ALL, 3)
        setmetatable({}, { __gc = function() kept = c end })
      end
      collectgarbage()
      collectgarbage()
      assert.is_not_nil(kept)
      assert.error_matches(function() t:select(kept) end,
        "^heirloom%.table%.select: the continuation is spent")
      assert.error_matches(function() hl.table.select_reverse(kept) end,
        "^heirloom%.table%.select_reverse: the continuation is spent")
    end)
  end)

  -- ------------------------------------------------------------ bound keys
  describe("a bound key", function()
    for _, ty in ipairs(TYPES) do
      it("gives the same result as a scan (" .. ty .. ")", function()
        local t = hl.table.new("k", { type = ty })
        for i = 1, 500 do
          t:insert({ i % 100, i, { "nested", i % 3 } })
          t:insert({ "s" .. (i % 50), i })
          t:insert({ { i % 10, "c" }, i })
        end
        local keys = { 0, 7, 99, 100, "s3", "s49", "none", { 3, "c" }, { 3, "d" }, 7.0 }
        for _, k in ipairs(keys) do
          local bound = t:select({ { { k, "$1", "_" }, {}, { "$_" } } })
          local scan = t:select({ { { "$9", "$1", "_" }, { { "==", "$9", { "const", k } } }, { "$_" } } })
          H.assert_strict(scan, bound, "key " .. H.show(k))
          -- the same objects lookup gives
          local looked = {}
          for _, o in ipairs(t:lookup(k)) do if #o == 3 then looked[#looked + 1] = o end end
          H.assert_strict(looked, bound, "lookup of " .. H.show(k))
          -- with a guard on the other elements, and in match_object / select_count
          local g = t:select({ { { k, "$1", "_" }, { { ">", "$1", 250 } }, { "$1" } } })
          local gs = t:select({ { { "$9", "$1", "_" }, { { "==", "$9", { "const", k } }, { ">", "$1", 250 } }, { "$1" } } })
          H.assert_strict(gs, g)
          H.assert_strict(bound, t:match_object({ k, "_", "_" }))
          assert.are.equal(#bound, t:select_count({ { { k, "_", "_" }, {}, { true } } }))
        end
      end)
    end

    it("works with keypos other than 1 and with a key field", function()
      local t = hl.table.new("k", { type = "bag", keypos = 2 })
      for i = 1, 100 do t:insert({ i, i % 10 }) end
      H.assert_same_multiset(t:select({ { { "$1", "$2" }, { { "==", "$2", 4 } }, { "$1" } } }),
        t:select({ { { "$1", 4 }, {}, { "$1" } } }))
      assert.are.equal(10, #t:select({ { { "$1", 4 }, {}, { "$1" } } }))
      local m = hl.table.new("m", { keypos = "id" })
      for i = 1, 50 do m:insert({ id = i, v = i * i }) end
      H.assert_strict({ 49 }, m:select({ { { id = 7, v = "$1" }, {}, { "$1" } } }))
    end)

    it("deletes only under the bound key", function()
      local t = hl.table.new("k", { type = "duplicate_bag" })
      for i = 1, 100 do t:insert({ i % 10, i }) end
      assert.are.equal(10, t:select_delete({ { { 3, "_" }, {}, { true } } }))
      assert.are.same({}, t:lookup(3))
      assert.are.equal(90, t:info("size"))
      assert.is_true(t:match_delete({ 4, "_" }))
      assert.are.equal(80, t:info("size"))
    end)
  end)

  -- ------------------------------------------------------------ properties
  describe("properties", function()
    for _, ty in ipairs(TYPES) do
      it("selects like a Lua filter over random data (" .. ty .. ")", function()
        H.seed(4242)
        local t = hl.table.new("p", { type = ty })
        local objs = {}
        for i = 1, 1500 do
          local o = { math.random(1, 400), math.random(-1000, 1000), H.rand_string() }
          t:insert(o)
          objs[#objs + 1] = o
        end
        local expected_all = t:tab2list()
        local per_key, slack = {}, 0
        for _, o in ipairs(expected_all) do
          per_key[o[1]] = (per_key[o[1]] or 0) + 1
          slack = math.max(slack, per_key[o[1]] - 1)
        end
        if ty == "set" or ty == "ordered_set" then assert.are.equal(0, slack) end
        for _ = 1, 40 do
          local lo = math.random(-1000, 1000)
          local hi = lo + math.random(0, 800)
          local ms = { { { "$1", "$2", "$3" },
                         { { "andalso", { ">=", "$2", lo }, { "<", "$2", hi } } },
                         { { { "$2", "$1" } } } } }
          local want = {}
          for _, o in ipairs(expected_all) do
            if o[2] >= lo and o[2] < hi then want[#want + 1] = { o[2], o[1] } end
          end
          H.assert_same_multiset(want, t:select(ms))
          assert.are.equal(#want, t:select_count({ { ms[1][1], ms[1][2], { true } } }))
          local chunks = select_chunks(t, ms, math.random(1, 50), slack)
          H.assert_same_multiset(want, chunks)
        end
      end)
    end
  end)

  -- ------------------------------------------------------------ errors
  describe("bad match specifications", function()
    local t
    before_each(function()
      t = hl.table.new("e")
      t:insert({ 1, 2 })
    end)

    it("refuses a spec that is not a list of clauses", function()
      assert.error_matches(function() t:select("nope") end, "^heirloom%.table%.select: .*match spec")
      assert.error_matches(function() t:select({ { "_", {} } }) end, "^heirloom%.table%.select: ")
      assert.error_matches(function() t:select({ "_" }) end, "^heirloom%.table%.select: ")
      assert.error_matches(function() t:select_count(42) end, "^heirloom%.table%.select_count: ")
      assert.error_matches(function() t:select_delete({ { "_", "x", {} } }) end,
        "^heirloom%.table%.select_delete: ")
      assert.are.equal(1, t:info("size"))
    end)

    it("refuses an unknown guard function, naming it", function()
      assert.error_matches(function()
        t:select({ { { "$1", "_" }, { { "frobnicate", "$1" } }, { "$1" } } })
      end, "^heirloom%.table%.select: .*frobnicate")
    end)

    it("refuses a guard function with the wrong number of arguments", function()
      assert.error_matches(function()
        t:select({ { { "$1", "_" }, { { ">", "$1" } }, { "$1" } } })
      end, "^heirloom%.table%.select: .*>")
    end)

    it("refuses a variable the head does not bind", function()
      assert.error_matches(function()
        t:select({ { { "$1", "_" }, {}, { "$2" } } })
      end, "^heirloom%.table%.select: .*%$2")
      assert.error_matches(function()
        t:select_delete({ { { "$1", "_" }, { { ">", "$3", 1 } }, { true } } })
      end, "^heirloom%.table%.select_delete: .*%$3")
      assert.are.equal(1, t:info("size"))
    end)

    it("refuses an unencodable value in a spec", function()
      assert.error_matches(function() t:select({ { { "$1", print }, {}, { "$1" } } }) end,
        "^heirloom%.table%.select: .*function")
    end)

    it("refuses a bad limit", function()
      for _, limit in ipairs({ 0, -1, 1.5, "ten" }) do
        assert.error_matches(function() t:select(ALL, limit) end,
          "^heirloom%.table%.select: .*limit")
      end
    end)

    it("refuses bad patterns in match, match_object and match_delete", function()
      assert.error_matches(function() t:match(print) end, "^heirloom%.table%.match: .*function")
      assert.error_matches(function() t:match_object({ print }) end,
        "^heirloom%.table%.match_object: .*function")
      assert.error_matches(function() t:match_delete({ coroutine.create(print) }) end,
        "^heirloom%.table%.match_delete: .*coroutine")
      assert.are.equal(1, t:info("size"))
    end)

    it("refuses a continuation of another table", function()
      local u = hl.table.new("u")
      for i = 1, 10 do u:insert({ i }) end
      local _, cont = u:select(ALL, 2)
      assert.is_not_nil(cont)
      assert.error_matches(function() t:select(cont) end, "^heirloom%.table%.select: .*continuation")
    end)
  end)
end)
