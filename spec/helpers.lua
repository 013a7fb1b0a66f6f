-- spec/helpers.lua — shared helpers for the table and term specs:
-- a reference implementation of the documented term order, a strict deep
-- comparison that tells integers from floats, random terms, and table
-- snapshots. Loaded with dofile so no LUA_PATH change is needed.
local H = {}

H.hl = require("heirloom")
local hl = H.hl

-- A table whose keys are exactly 1..n (including {}).
function H.is_array(t)
  local n = #t
  local count = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
    count = count + 1
  end
  return count == n
end

local function is_nan(x) return x ~= x end
H.is_nan = is_nan

-- ---------------------------------------------------------------- normalise

-- The value a term decodes to: integral floats in int64 range come back as
-- integers (-0.0 as 0); everything else as it was.
function H.norm(v)
  if math.type(v) == "float" then
    if v == v and v ~= math.huge and v ~= -math.huge then
      local i = math.tointeger(v)
      if i ~= nil then return i end
    end
    return v
  elseif type(v) == "table" then
    local out = {}
    for k, x in pairs(v) do out[H.norm(k)] = H.norm(x) end
    return out
  end
  return v
end

-- ---------------------------------------------------------------- strict equality

-- Deep equality that tells 1 from 1.0. Returns true, or false and a path
-- and reason.
function H.strict_equal(a, b, path)
  path = path or "value"
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    return false, path .. ": type " .. ta .. " ~= " .. tb
  end
  if ta == "number" then
    if math.type(a) ~= math.type(b) then
      return false, path .. ": " .. math.type(a) .. " " .. tostring(a) ..
        " ~= " .. math.type(b) .. " " .. tostring(b)
    end
    if is_nan(a) and is_nan(b) then return true end
    if a ~= b then return false, path .. ": " .. tostring(a) .. " ~= " .. tostring(b) end
    return true
  elseif ta == "table" then
    local na = 0
    for k, x in pairs(a) do
      na = na + 1
      local y = rawget(b, k)
      if y == nil then return false, path .. "[" .. tostring(k) .. "]: missing" end
      local ok, why = H.strict_equal(x, y, path .. "[" .. tostring(k) .. "]")
      if not ok then return false, why end
    end
    local nb = 0
    for k in pairs(b) do
      nb = nb + 1
      if rawget(a, k) == nil then return false, path .. "[" .. tostring(k) .. "]: unexpected" end
    end
    if na ~= nb then return false, path .. ": sizes differ" end
    return true
  else
    if a ~= b then
      return false, path .. ": " .. tostring(a) .. " ~= " .. tostring(b)
    end
    return true
  end
end

-- assert that actual is strictly (int/float-aware) deep-equal to expected.
function H.assert_strict(expected, actual, what)
  local ok, why = H.strict_equal(expected, actual, what or "value")
  if not ok then
    error(("expected %s, got %s (%s)"):format(H.show(expected), H.show(actual), why), 2)
  end
end

-- ---------------------------------------------------------------- printing

-- A readable, deterministic rendering (maps with sorted keys).
function H.show(v, depth)
  depth = depth or 0
  local tv = type(v)
  if tv == "string" then
    return (("%q"):format(v):gsub("\n", "n"))
  elseif tv == "number" then
    if math.type(v) == "float" then
      if v ~= v then return "nan" end
      return ("%.17g"):format(v) .. (math.tointeger(v) and ".0" or "")
    end
    return tostring(v)
  elseif tv ~= "table" then
    return tostring(v)
  end
  if depth > 70 then return "{...}" end
  local parts = {}
  if H.is_array(v) then
    for i = 1, #v do parts[i] = H.show(v[i], depth + 1) end
  else
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(x, y) return H.compare(x, y) < 0 end)
    for i, k in ipairs(keys) do
      parts[i] = "[" .. H.show(k, depth + 1) .. "]=" .. H.show(v[k], depth + 1)
    end
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- ---------------------------------------------------------------- term order

-- The documented order of term classes:
-- nil < numbers < booleans < refs < table handles < pids < arrays < maps < strings
local RANK = { ["nil"] = 0, number = 1, boolean = 2, ref = 3, table_handle = 4,
               pid = 5, array = 6, map = 7, string = 8 }

local function class(v)
  local t = type(v)
  if t == "table" then return H.is_array(v) and "array" or "map" end
  if t == "userdata" then
    local k = hl.kind(v)
    if k == "table" then return "table_handle" end
    return k or t
  end
  return t
end
H.class = class

local function cmp_bytes(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then return x < y and -1 or 1 end
  end
  if #a == #b then return 0 end
  return #a < #b and -1 or 1
end
H.cmp_bytes = cmp_bytes

local function cmp_num(a, b)
  -- Lua 5.4 compares integers and floats exactly.
  if a == b then return 0 end
  if is_nan(a) then return is_nan(b) and 0 or 1 end
  if is_nan(b) then return -1 end
  return a < b and -1 or 1
end

local function sorted_keys(m)
  local keys = {}
  for k in pairs(m) do keys[#keys + 1] = k end
  table.sort(keys, function(x, y) return H.compare(x, y) < 0 end)
  return keys
end

-- Reference comparison of two (normalised) terms: -1, 0 or 1.
function H.compare(a, b)
  local ca, cb = class(a), class(b)
  if ca ~= cb then
    local ra, rb = RANK[ca], RANK[cb]
    assert(ra and rb, "cannot order " .. ca .. " / " .. cb)
    return ra < rb and -1 or 1
  end
  if ca == "nil" then return 0
  elseif ca == "number" then return cmp_num(a, b)
  elseif ca == "boolean" then
    if a == b then return 0 end
    return (not a) and -1 or 1
  elseif ca == "string" then return cmp_bytes(a, b)
  elseif ca == "array" then
    if #a ~= #b then return #a < #b and -1 or 1 end
    for i = 1, #a do
      local c = H.compare(a[i], b[i])
      if c ~= 0 then return c end
    end
    return 0
  elseif ca == "map" then
    local ka, kb = sorted_keys(a), sorted_keys(b)
    if #ka ~= #kb then return #ka < #kb and -1 or 1 end
    for i = 1, #ka do
      local c = H.compare(ka[i], kb[i])
      if c ~= 0 then return c end
    end
    for i = 1, #ka do
      local c = H.compare(a[ka[i]], b[kb[i]])
      if c ~= 0 then return c end
    end
    return 0
  else
    -- handles: only equal or not is known here
    if a == b then return 0 end
    error("no reference order between two different " .. ca .. " values")
  end
end

function H.less(a, b) return H.compare(a, b) < 0 end

-- Sorted copy, duplicates (compare == 0) removed.
function H.sorted_unique(list)
  local copy = {}
  for i = 1, #list do copy[i] = list[i] end
  table.sort(copy, H.less)
  local out = {}
  for i = 1, #copy do
    if #out == 0 or H.compare(out[#out], copy[i]) ~= 0 then out[#out + 1] = copy[i] end
  end
  return out
end

-- Sorted copy keeping duplicates (for multiset comparison).
function H.sorted(list)
  local copy = {}
  for i = 1, #list do copy[i] = list[i] end
  table.sort(copy, H.less)
  return copy
end

-- assert two lists hold the same elements, order ignored (strictly equal).
function H.assert_same_multiset(expected, actual, what)
  assert(type(actual) == "table", (what or "list") .. ": expected a table, got " .. type(actual))
  H.assert_strict(H.sorted(expected), H.sorted(actual), what)
end

-- ---------------------------------------------------------------- random terms

-- Deterministic random helpers; call H.seed(n) first.
function H.seed(n) math.randomseed(n) end

local function rand_int()
  local r = math.random(1, 10)
  if r <= 4 then return math.random(-100, 100) end
  if r <= 6 then return math.random(math.mininteger, math.maxinteger) end
  if r == 7 then
    local edges = { math.maxinteger, math.mininteger, math.maxinteger - 1,
                    math.mininteger + 1, (1 << 53) + 1, (1 << 53), -(1 << 53) - 1,
                    (1 << 62), -(1 << 62), 0, -1, 1, 255, 256, 65535, 1 << 31 }
    return edges[math.random(#edges)]
  end
  return math.random(-1000000, 1000000) * math.random(1, 1 << 20)
end

local function rand_float()
  local r = math.random(1, 10)
  if r <= 4 then return (math.random() - 0.5) * 10 ^ math.random(-20, 20) end
  if r <= 6 then return math.random(-1000, 1000) + 0.5 end
  if r == 7 then
    local edges = { math.huge, -math.huge, 0.5, -0.5, 1e300, -1e300, 5e-324, -5e-324,
                    2.0 ^ 53, 2.0 ^ 63, -(2.0 ^ 63), 2.0 ^ 64, 1e20, -1e20,
                    0.1, 2.0 ^ 53 + 2.0, 3.0, -7.0, -0.0, 0.0, 1.5e-300 }
    return edges[math.random(#edges)]
  end
  if r == 8 then return math.random(-100, 100) + 0.0 end   -- integral float
  return (math.random() - 0.5) * 2.0 ^ math.random(-1000, 1000)
end

local function rand_string()
  local n = math.random(0, 12)
  local r = math.random(1, 4)
  local bytes = {}
  for i = 1, n do
    if r == 1 then bytes[i] = math.random(0, 255)
    elseif r == 2 then bytes[i] = ({ 0, 1, 255, 254, 97, 98 })[math.random(6)]
    else bytes[i] = math.random(97, 100) end
  end
  return string.char(table.unpack(bytes))
end
H.rand_string = rand_string

-- A random scalar key (no tables).
local function rand_scalar(opts)
  local r = math.random(1, 10)
  if r <= 3 then return rand_int()
  elseif r <= 5 then return rand_float()
  elseif r <= 8 then return rand_string()
  elseif r == 9 then return math.random(2) == 1
  else
    if opts and opts.handles and #opts.handles > 0 then
      return opts.handles[math.random(#opts.handles)]
    end
    return rand_int()
  end
end

-- A random term. opts: depth (max nesting), handles (userdata allowed),
-- nan (allow NaN), maps (allow maps; default true).
function H.rand_term(opts, depth)
  opts = opts or {}
  depth = depth or 0
  local maxd = opts.depth or 3
  local r = math.random(1, 10)
  if depth >= maxd or r <= 6 then
    local v = rand_scalar(opts)
    if opts.nan and math.random(1, 40) == 1 then v = 0 / 0 end
    if opts.nan == false and v ~= v then v = 0 end
    return v
  end
  if r <= 8 or opts.maps == false then
    local n = math.random(0, 4)
    local a = {}
    for i = 1, n do a[i] = H.rand_term(opts, depth + 1) end
    return a
  end
  local m = {}
  local n = math.random(0, 4)
  for _ = 1, n do
    local k
    local kr = math.random(1, 4)
    if kr == 1 then k = rand_string()
    elseif kr == 2 then k = math.random(-5, 20)
    elseif kr == 3 then k = rand_float(); if k ~= k then k = 0.25 end
    else k = math.random(2) == 1 end
    m[k] = H.rand_term(opts, depth + 1)
  end
  -- keep it a map: a table that is an array would be an array
  if H.is_array(m) then m["map"] = true end
  return m
end

-- A random value close to v (same class, a small change), to exercise the
-- fine order within a class.
function H.mutate(v)
  local c = class(v)
  if c == "number" then
    local r = math.random(1, 5)
    if r == 1 then return v end
    if math.type(v) == "integer" then
      if r == 2 then return v + 0.0 end
      if r == 3 and v < math.maxinteger then return v + 1 end
      if r == 4 and v > math.mininteger then return v - 1 end
      return v + 0.5
    else
      if v ~= v or v == math.huge or v == -math.huge then return v end
      if r == 2 then return v * (1 + 2 ^ -52) end
      if r == 3 then return v + 1 end
      return -v
    end
  elseif c == "string" then
    local r = math.random(1, 4)
    if r == 1 then return v end
    if r == 2 then return v .. string.char(math.random(0, 255)) end
    if r == 3 and #v > 0 then return v:sub(1, #v - 1) end
    if #v > 0 then
      local i = math.random(#v)
      return v:sub(1, i - 1) .. string.char(math.random(0, 255)) .. v:sub(i + 1)
    end
    return "\0"
  elseif c == "array" then
    local a = {}
    for i = 1, #v do a[i] = v[i] end
    local r = math.random(1, 4)
    if r == 1 then return a end
    if r == 2 then a[#a + 1] = 0; return a end
    if #a > 0 then
      local i = math.random(#a)
      a[i] = H.mutate(a[i])
    end
    return a
  elseif c == "map" then
    local m = {}
    for k, x in pairs(v) do m[k] = x end
    local r = math.random(1, 3)
    if r == 1 then return m end
    if r == 2 then m["extra" .. math.random(3)] = 1; return m end
    local k = next(m)
    if k ~= nil then m[k] = H.mutate(m[k]) end
    return m
  elseif c == "boolean" then
    return math.random(2) == 1
  end
  return v
end

-- ---------------------------------------------------------------- tables

-- Every object of t, sorted by the reference order (a canonical snapshot).
function H.snapshot(t)
  return H.sorted(t:tab2list())
end

-- Keys visited by first/next.
function H.walk(t, limit)
  local keys, k = {}, t:first()
  limit = limit or 1000000
  while k ~= nil do
    keys[#keys + 1] = k
    if #keys > limit then error("walk does not end") end
    k = t:next(k)
  end
  return keys
end

-- Keys visited by last/prev.
function H.walk_back(t, limit)
  local keys, k = {}, t:last()
  limit = limit or 1000000
  while k ~= nil do
    keys[#keys + 1] = k
    if #keys > limit then error("walk does not end") end
    k = t:prev(k)
  end
  return keys
end

function H.reverse(list)
  local out = {}
  for i = #list, 1, -1 do out[#out + 1] = list[i] end
  return out
end

-- Escape a string for use as a plain Lua pattern.
function H.esc(s)
  return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
end

-- assert fn raises an error whose message contains every one of the given
-- plain fragments (in order). Returns the message.
function H.assert_error(fn, ...)
  local ok, err = pcall(fn)
  if ok then error("expected an error, but the call succeeded", 2) end
  err = tostring(err)
  local at = 1
  for i = 1, select("#", ...) do
    local frag = select(i, ...)
    local s, e = err:find(frag, at, true)
    if not s then
      error(("error message %q does not contain %q (after position %d)"):format(err, frag, at), 2)
    end
    at = e + 1
  end
  return err
end

-- Runs cmd in sh; returns its output (stderr too) and exit status. The
-- sanitizer runtime a sanitizer run preloads is left out: the command is
-- not ours (erl, escript).
function H.sh(cmd)
  local p = io.popen("env -u LD_PRELOAD sh -c '" .. cmd:gsub("'", "'\\''") .. "' 2>&1; echo \"rc=$?\"")
  local out = p:read("a")
  p:close()
  return out:gsub("rc=%d+%s*$", ""), tonumber(out:match("rc=(%d+)%s*$"))
end

-- node lifecycle for before_each / after_each
function H.start() hl.start{} end
function H.stop() pcall(hl.stop) end

return H
