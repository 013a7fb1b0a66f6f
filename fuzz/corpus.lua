-- fuzz/corpus.lua — the seeds of the fuzz corpora, as Lua values.
-- fuzz/corpus_gen.c (`make fuzz-corpus`) encodes each into a file of
-- fuzz/corpus/term/ or fuzz/corpus/mspec/. Runs in a state bound to a
-- started node, so that pids, table handles and references exist.
-- An entry { raw = "bytes" } is written as it is: inputs that once broke
-- something stay in the corpus as regression tests.
local hl = require("heirloom")
local t = hl.table.new("seed")

local deep = {}
for _ = 1, 63 do deep = { deep } end

local many = {}
for i = 1, 200 do many[i] = i * 7 end

local term = {
  0, 1, -1, 127, 128, 16383, 16384, 2 ^ 53, 9007199254740993, math.maxinteger,
  math.mininteger, 1.5, -2.25, 1e300, -1e-300, 1 / 0, -1 / 0, 0 / 0,
  "", "a", "a\0b", "\0", "\255\0\255", string.rep("x", 200), "$1", "_",
  true, false,
  {}, { 1, 2, 3 }, { {} }, { { { { "x" } } } }, deep, many,
  { a = 1 }, { [1] = 1, [3] = 3 }, { x = { y = { z = {} } } },
  { [1.5] = "f", [true] = "t", [false] = 0, a = { 1 }, [-1] = -1 },
  { [{ 1, 2 }] = "array key", [{ k = 1 }] = "map key", [hl.self()] = "pid key" },
  { hl.self(), t, hl.alias(), 1 / 0, 0 / 0 },
  { "users", { name = "Ada", tags = { "admin", "dev" } }, 31 },
  { raw = "\16" },                                  -- nil
  { raw = "\104\1\16\49" },                         -- a map with a nil key: not a term
  { raw = "\104\1\32\255\248\0\0\0\0\0\0\49" },     -- a map with a NaN key: not a term
  { raw = "\112\0\0" },                             -- the empty string
  { raw = "\96\5\32" },                             -- a truncated array
  hl.list(), hl.list{ 1, hl.list{}, "ab", { hl.list{ true } } },
  { [hl.list{ 1 }] = "list key", [{ 1 }] = "array key", l = hl.list{ { k = hl.list() } } },
  { raw = "\108\32\0" },                          -- a list cut short, no end mark
  { raw = "\108\0\0" },                           -- [] and a byte more
}

-- { kind, value }: kind 0 a match spec, 1 a pattern for match, 2 for
-- match_object, 3 for match_delete.
local mspec = {
  { 0, {} },
  { 0, { { "_", {}, { "$_" } } } },
  { 0, { { { "$1", "$2", "dev" }, { { ">", "$2", 30 } }, { "$1" } } } },
  { 0, {
    { { "$1", "$2" }, { { "is_integer", "$2" }, { ">", "$2", 100 } }, { { { "big", "$1" } } } },
    { { "$1", "$2" }, { { "is_integer", "$2" } }, { { { "small", "$1" } } } },
    { { "$1", "_" }, {}, { { { "other", "$1" } } } },
  } },
  { 0, { { { "$1", "_" }, { { "==", "$1", { "const", "$1" } } }, { "$_" } } } },
  { 0, { { { "$1", { kind = "point", x = "$2", y = "$2" } }, {}, { "$$" } } } },
  { 0, { { { "_", "$1" }, { { "is_number", "$1" }, { ">=", "$1", 10 }, { "=<", "$1", 20 } }, { "$_" } } } },
  { 0, { { { "$1", "$2" }, {}, { { "div", "$2", 0 } } } } },
  { 0, { { { "$1", "$2" }, { { "==", "$2", { "self" } } }, { "$1" } } } },
  { 0, { { { "$1", "$2", "_" }, {}, { { name = "$1", next_age = { "+", "$2", 1 } } } } } },
  { 0, { { { n = "$1" }, { { "is_integer", "$1" }, { "==", { "rem", "$1", 2 }, 0 } }, { "$_" } } } },
  { 0, { { { "_", "_", "$3" }, { { "is_map", "$3" }, { "is_map_key", "tags", "$3" } }, { "$_" } } } },
  { 0, { { { "$1", "$2", "$3" }, { { "andalso", { "is_integer", "$1" }, { "<", "$1", 5 } } },
    { { "element", 2, { { "$1", "$2" } } }, { "size", "$3" } } } } },
  { 0, { { "$1", { { "orelse", { "is_float", "$1" }, { "not", { "is_array", "$1" } } } }, { true } } } },
  { 0, { { { "$1", "$2" }, {}, { { "bsl", "$1", 3 }, { "band", { "bxor", "$1", "$2" }, 255 },
    { "min", { "abs", "$1" }, { "max", "$2", -1 } }, { "/", "$1", 2 }, { "-", "$1" } } } } },
  { 0, { { { "$1", "_" }, { { "map_get", "k", "$1" } }, { { "map_get", "k", "$1" } } } } },
  { 0, { { { "$0", "$99999999" }, {}, { "$$", "$0" } } } },
  { 0, { { "_", { { "xor", true, false }, { "and", true, true }, { "or", false, true } }, { { { } } } } } },
  { 0, { { { "$1", "$1" }, {}, { { "*", "$1", math.maxinteger } } } } },
  { 0, { { { "$1", "$2" },   -- guards of integers and booleans: compiled flat (mspec_int.c)
    { { "andalso", { ">=", "$1", 0 },
        { "orelse", { "<", { "-", "$2", "$1" }, 5 }, { "not", { "==", { "band", "$1", 1 }, 0 } } } },
      { "xor", { "<", "$1", "$2" }, { ">", { "bsr", "$2", 2 }, { "rem", "$1", 7 } } } },
    { "$_" } } } },
  { 1, { "$1", "_", "$2" } },
  { 1, { "_", { x = "$1" } } },
  { 2, { "alice", "_", "_" } },
  { 2, "_" },
  { 2, "$1" },
  { 3, { 1, "$1", { "$1" } } },
  { 0, { { "$1", {}, { "$2" } } } },                      -- unbound in the body: refused
  { 0, { { { "$1", "$2" }, {}, { { "nosuch", "$1" } } } } },  -- unknown function: refused
  { 0, { { { "$1" }, { { "+", "$1" } , { "not" } }, { "$1" } } } },  -- wrong arity: refused
  { 0, { { { "$1", "$2" }, { { "is_list", "$1" } }, { { { "$2", hl.list{ "$1" } } } } } } },
  { 1, { hl.list{ 1, "_" }, "$1" } },
}

return { term = term, mspec = mspec }
