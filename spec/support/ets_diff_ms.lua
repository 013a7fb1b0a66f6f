-- spec/support/ets_diff_ms.lua — random match specs for
-- spec/ets_diff_spec.lua: heads with constants, repeated variables and map
-- patterns, guards made of every function the two engines share, bodies
-- of values, arrays and maps (see safe below), built at once as
-- heirloom's Lua table and as Erlang's term (text), so that nothing
-- translates one into the other.
--
-- Values are integers, strings (binaries), booleans, arrays (tuples) and
-- maps with string keys:
-- no floats, since heirloom's integral floats are integers, and integers
-- small enough that no result leaves 64 bits. The functions left out are
-- those whose results differ by design (match-specs.md, "Differences from
-- ETS"): =:= and =/= (1 and 1.0), float and "/", '$$' (an array, not a
-- list), is_boolean, heirloom's own (ETS refuses the spec), and size,
-- which counts a map's keys in heirloom and raises in ETS.
local M = {}

local STRINGS = { "a", "b", "ab", "abcdefghij" }

local function pick(t)
  return t[math.random(#t)]
end

-- A node: the Lua value and the Erlang text of one piece of a spec.
local function node(lua, erl)
  return { lua = lua, erl = erl }
end

local function join(nodes)
  local parts = {}
  for i, n in ipairs(nodes) do parts[i] = n.erl end
  return table.concat(parts, ",")
end

local function luas(nodes)
  local out = {}
  for i, n in ipairs(nodes) do out[i] = n.lua end
  return out
end

local function int(lo, hi)
  local i = math.random(lo, hi)
  return node(i, tostring(i))
end

local function str()
  local s = pick(STRINGS)
  return node(s, '<<"' .. s .. '">>')
end

local function bool()
  local b = math.random(2) == 1
  return node(b, tostring(b))
end

-- {name, args...}: a call, the name quoted as an atom.
local function call(name, args)
  local lua = { name }
  for i, a in ipairs(args) do lua[i + 1] = a.lua end
  return node(lua, "{'" .. name .. "'" .. (#args > 0 and "," .. join(args) or "") .. "}")
end

-- {{...}}: an array made of the values.
local function tuple(args)
  return node({ luas(args) }, "{{" .. join(args) .. "}}")
end

local function const_tuple()
  local a, s = math.random(0, 3), pick(STRINGS)
  return node({ "const", { a, s } }, ("{const,{%d,<<\"%s\">>}}"):format(a, s))
end

-- A map of one or two entries, its values made by `each`: a value in an
-- object, a pattern in a head, an expression in a body.
local function map(each)
  local entries = { x = each() }
  if math.random(2) == 1 then entries.y = each() end
  local lua, parts = {}, {}
  for _, k in ipairs({ "x", "y" }) do
    if entries[k] then
      lua[k] = entries[k].lua
      parts[#parts + 1] = '<<"' .. k .. '">>=>' .. entries[k].erl
    end
  end
  return node(lua, "#{" .. table.concat(parts, ",") .. "}")
end

local function map_key()
  local k = pick({ "x", "y" })
  return node(k, '<<"' .. k .. '">>')
end

local ARITH = { "+", "-", "*", "div", "rem", "band", "bor", "bxor" }
local COMPARE = { "==", "/=", "<", ">", "=<", ">=" }
local LOGIC = { "and", "or", "xor" }
local TESTS = { "is_integer", "is_binary", "is_tuple", "is_number", "is_atom", "is_float", "is_map" }

local expr

local function leaf(vars)
  local r = math.random(100)
  if r <= 40 and #vars > 0 then
    local v = "$" .. pick(vars)
    return node(v, "'" .. v .. "'")
  end
  if r <= 65 then return int(-4, 12) end
  if r <= 78 then return str() end
  if r <= 86 then return bool() end
  if r <= 94 then return node("$_", "'$_'") end
  return const_tuple()
end

-- A call whose value is a boolean when its arguments are of the right
-- kinds: the roots of guards.
local function test(depth, vars)
  local r = math.random(100)
  local d = depth - 1
  if depth <= 0 then return call(pick(COMPARE), { leaf(vars), leaf(vars) }) end
  if r <= 40 then return call(pick(COMPARE), { expr(d, vars), expr(d, vars) }) end
  if r <= 60 then return call(pick(TESTS), { expr(d, vars) }) end
  if r <= 65 then return call("is_map_key", { map_key(), expr(d, vars) }) end
  if r <= 72 then return call(pick(LOGIC), { test(d, vars), test(d, vars) }) end
  if r <= 90 then
    local args = { test(d, vars), test(d, vars) }
    if math.random(3) == 1 then args[3] = expr(d, vars) end   -- the last may be anything
    return call(math.random(2) == 1 and "andalso" or "orelse", args)
  end
  return call("not", { test(d, vars) })
end

function expr(depth, vars)
  if depth <= 0 or math.random(100) <= 30 then return leaf(vars) end
  local r = math.random(100)
  local d = depth - 1
  if r <= 30 then return call(pick(ARITH), { expr(d, vars), expr(d, vars) }) end
  if r <= 35 then return call(math.random(2) == 1 and "bsl" or "bsr", { expr(d, vars), int(0, 5) }) end
  if r <= 42 then return call(pick({ "-", "abs", "bnot" }), { expr(d, vars) }) end
  if r <= 65 then return test(depth, vars) end
  if r <= 75 then return call("element", { int(1, 3), expr(d, vars) }) end
  if r <= 80 then return call("map_get", { map_key(), expr(d, vars) }) end
  return tuple({ expr(d, vars), expr(d, vars) })
end

-- A body expression that cannot raise: leaves, and arrays and maps of
-- them. A
-- body's expression that raises is "EXIT" in both engines, but where it
-- goes on into another call they part by design (heirloom's "EXIT" is a
-- string, ETS's an atom: is_atom, is_binary, size, the term order), and
-- ETS itself (OTP 25.2, Debian's erlang-base) now and then brings its
-- whole VM down on such specs ("eheap_alloc: Cannot allocate 17... bytes
-- of memory (of type "heap_frag")"), the same spec passing or not with
-- the VM's memory layout. spec/match_spec.lua holds the "EXIT" cases.
local function safe(depth, vars)
  if depth <= 0 or math.random(3) > 1 then return leaf(vars) end
  if math.random(4) == 1 then return map(function() return safe(depth - 1, vars) end) end
  return tuple({ safe(depth - 1, vars), safe(depth - 1, vars) })
end

-- A head and the variables it binds.
local function head()
  local r = math.random(7)
  if r == 1 then return node({ "$1", "$2", "$3" }, "{'$1','$2','$3'}"), { 1, 2, 3 } end
  if r == 2 then return node({ "$1", "_", "$2" }, "{'$1','_','$2'}"), { 1, 2 } end
  if r == 3 then return node({ "$1", "$1", "$2" }, "{'$1','$1','$2'}"), { 1, 2 } end
  if r == 4 then
    local c = int(-3, 10)
    return node({ "$1", c.lua, "$2" }, "{'$1'," .. c.erl .. ",'$2'}"), { 1, 2 }
  end
  if r == 5 then return node({ "$1", "$2" }, "{'$1','$2'}"), { 1, 2 } end
  if r == 6 then   -- a map pattern: a map holding at least its keys
    local m = map(function()
      if math.random(2) == 1 then return node("$2", "'$2'") end
      return int(0, 3)
    end)
    return node({ "$1", m.lua, "_" }, "{'$1'," .. m.erl .. ",'_'}"), { 1, 2 }
  end
  return node("_", "'_'"), {}
end

local function clause()
  local h, vars = head()
  local guards, body = {}, {}
  for i = 1, math.random(0, 2) do guards[i] = test(3, vars) end
  for i = 1, math.random(1, 2) do body[i] = safe(2, vars) end
  return node({ h.lua, luas(guards), luas(body) },
              "{" .. h.erl .. ",[" .. join(guards) .. "],[" .. join(body) .. "]}")
end

-- A match spec of one to three clauses.
function M.spec()
  local clauses = {}
  for i = 1, math.random(1, 3) do clauses[i] = clause() end
  return node(luas(clauses), "[" .. join(clauses) .. "]")
end

-- An object for the table: mostly three elements, the key an integer.
function M.object(k)
  local function value()
    local r = math.random(100)
    if r <= 55 then return int(-3, 10) end
    if r <= 75 then return str() end
    if r <= 85 then return bool() end
    if r <= 93 then return map(function() return math.random(2) == 1 and int(0, 3) or str() end) end
    local a, b = int(0, 3), str()
    return node({ a.lua, b.lua }, "{" .. a.erl .. "," .. b.erl .. "}")
  end
  local elems = { node(k, tostring(k)), value() }
  if math.random(5) > 1 then elems[3] = value() end
  return node(luas(elems), "{" .. join(elems) .. "}")
end

return M
