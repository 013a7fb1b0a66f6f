-- spec/support/ets_diff_ops.lua — the random table operations of
-- spec/ets_diff_spec.lua: each as an Erlang term (the text ets_diff.erl
-- reads) and a function that runs it on a heirloom table and renders its
-- result as ets_diff.erl renders ETS's. Also the bodies of the processes
-- that run them concurrently (M.worker) and walk the table meanwhile
-- (M.walker).
local HERE = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local H = dofile(HERE .. "../helpers.lua")
local hl = H.hl
local M = {}

-- ---------------------------------------------------------------- values

local STRINGS = { "a", "b", "c", "ab", "ba", "abcdefghij", "abcdefghik" }

-- Integers past 2^53, which no double holds: heirloom's terms keep them
-- exact, Erlang's are bignums. Far enough from 2^63 that no counter here
-- overflows.
local function huge()
  local i = math.random(-3, 3)
  return math.random(2) == 1 and (1 << 62) + i or -(1 << 62) + i
end

-- Tables written as Erlang lists; every other table is a tuple.
local is_list = setmetatable({}, { __mode = "k" })
local function list(t)
  is_list[t] = true
  return t
end

local function pick(t)
  return t[math.random(#t)]
end

local function half()   -- a float that is no integer: -1.5 .. 5.5
  return math.random(-2, 5) + 0.5
end

-- Erlang's other kinds: atoms (no booleans beside them: heirloom sorts
-- true and false before every atom, Erlang among them by name), lists
-- and maps (string keys: a table keyed 1..n is an array).
local function other()
  local r = math.random(3)
  if r == 1 then return hl.atom(pick({ "a", "b", "ok" })) end
  if r == 2 then
    local l = hl.list({})
    for i = 1, math.random(0, 2) do l[i] = math.random(0, 2) end
    return l
  end
  local m = { [pick({ "x", "y" })] = math.random(0, 2) }
  if math.random(2) == 1 then m.z = pick(STRINGS) end
  return m
end

-- Keys: mostly a few dozen integers, so that they meet again; some from a
-- wider range, so that the tables grow.
local function key()
  local r = math.random(100)
  if r <= 55 then return math.random(1, 40) end
  if r <= 70 then return math.random(41, 3000) end
  if r <= 76 then return half() end
  if r <= 78 then return huge() end
  if r <= 88 then return pick(STRINGS) end
  if r <= 95 then return { math.random(1, 3), pick(STRINGS) } end
  if r <= 98 then return other() end
  return {}
end

local function value()
  local r = math.random(100)
  if r <= 65 then return math.random(-3, 10) end
  if r <= 73 then return half() end
  if r <= 75 then return huge() end
  if r <= 88 then return pick(STRINGS) end
  if r <= 93 then return { math.random(0, 2), math.random(0, 2) } end
  if r <= 98 then return other() end
  return { { math.random(0, 1) }, {} }
end

-- An object with key k at keypos: 2 or 3 elements, now and then 1, which
-- has no room for a keypos of 2 (an error on both sides).
local function object(k, keypos)
  local r = math.random(100)
  local arity = r <= 70 and 2 or r <= 96 and 3 or 1
  local o = {}
  for i = 1, arity do o[i] = value() end
  if keypos <= arity then o[keypos] = k end
  return o
end

-- ---------------------------------------------------------------- rendering

-- A table with a string key: a map (the generators make no others).
local function is_map(v)
  return type(v) == "table" and hl.kind(v) == nil and type(next(v)) == "string"
end

-- A map's entries, each rendered by `each` as key=>value, sorted.
local function map_entries(m, each)
  local parts = {}
  for k, x in pairs(m) do parts[#parts + 1] = each(k, x) end
  table.sort(parts)
  return table.concat(parts, ",")
end

-- A value as text, alike in Erlang's syntax for the file of operations
-- (erl) and as ets_diff.erl renders ETS's results (r); the two differ in
-- strings alone, binaries in the file and quoted in the results. A table
-- is a tuple unless it is a list or a map (an operation's result list is
-- rlist's).
local function render(v, quote)
  if v == nil then return "nil" end
  local mt = math.type(v)
  if mt == "integer" then return string.format("%d", v) end
  if mt == "float" then return string.format("%.16e", v) end
  if type(v) == "string" then return quote(v) end
  if type(v) == "boolean" then return tostring(v) end
  if hl.kind(v) == "atom" then return "'" .. tostring(v) .. "'" end
  if is_map(v) then
    local function entry(k, x) return render(k, quote) .. "=>" .. render(x, quote) end
    return "#{" .. map_entries(v, entry) .. "}"
  end
  local parts = {}
  for i = 1, #v do parts[i] = render(v[i], quote) end
  if is_list[v] or hl.kind(v) == "list" then return "[" .. table.concat(parts, ",") .. "]" end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function erl(v)
  return render(v, function(s) return '<<"' .. s .. '">>' end)
end

local function r(v)
  return render(v, function(s) return '"' .. s .. '"' end)
end

local function rlist(l, sorted)
  local parts = {}
  for i = 1, #l do parts[i] = r(l[i]) end
  if sorted then table.sort(parts) end
  return "[" .. table.concat(parts, ",") .. "]"
end

-- ---------------------------------------------------------------- match specs

-- As spec/4 and friends in ets_diff.erl: body "true" gives true for
-- select_count and select_delete, "found" the clause's own body.
local function clause(head, guards, found, body)
  return { head, guards, body == "true" and { true } or found }
end

local function spec(id, a, b, body)
  if id == 1 then
    return { clause({ "$1", "$2" }, { { ">=", "$1", { "const", a } }, { "=<", "$1", { "const", b } } },
      { "$_" }, body) }
  elseif id == 2 then
    return { clause({ "$1", "$2", "$3" }, { { "is_integer", "$3" } }, { { { "$3", "$1" } } }, body) }
  elseif id == 3 then
    return { clause({ "$1", "_" }, { { "is_integer", "$1" } }, { { "rem", "$1", 3 } }, body),
             clause({ "_", "$1" }, { { "==", "$1", { "const", a } } }, { { { "$1" } } }, body) }
  elseif id == 4 then
    return { clause("_", {}, { "$_" }, body) }
  end
  return { clause({ "_", "$1", "_" }, { { "<", "$1", { "const", a } } }, { { { "$1", "$1" } } }, body) }
end

local function replace_spec(keypos, a)
  if keypos == 1 then
    return { { { "$1", "$2" }, { { "is_integer", "$2" } }, { { { "$1", { "+", "$2", a } } } } } }
  end
  return { { { "$1", "$2" }, { { "is_integer", "$1" } }, { { { { "+", "$1", a }, "$2" } } } } }
end

-- A pattern's number and value. No map at the key position: ETS looks a
-- map there up as the key, an equal map only, where heirloom matches it
-- as a map pattern anywhere (match-specs.md, "Differences from ETS").
local function pattern_args(keypos)
  local id, a
  repeat
    id, a = math.random(3), value()
  until not (is_map(a) and (id == 1 and keypos == 2 or id == 3 and keypos == 1))
  return id, a
end

local function pattern(id, a)
  if id == 1 then return { "$1", a } end
  if id == 2 then return { "_", "_", a } end
  return { a, "_" }
end

-- ---------------------------------------------------------------- operations

-- Every chunk of a limited select, in order.
local function chunks(res, cont, t)
  local out = {}
  while res ~= nil do
    for _, v in ipairs(res) do out[#out + 1] = v end
    if cont == nil then break end
    res, cont = t:select(cont)
  end
  return out
end

local function counter_op(keypos)
  local r = math.random(100)
  local incr = math.random(-2, 3)
  if r <= 30 then return incr end
  if r <= 55 then return { math.random(2, 3), incr } end
  if r <= 62 then return { keypos, incr } end                  -- the key: an error
  if r <= 80 then return { 2, incr, math.random(-2, 8), math.random(0, 4) } end
  if r <= 95 then return list({ { 2, 1 }, { 3, -1 } }) end
  return list({})
end

local function change_op(keypos)
  local r = math.random(100)
  if r <= 70 then return { keypos == 1 and 2 or 1, value() } end
  if r <= 80 then return { keypos, value() } end               -- the key: an error
  if r <= 95 then return list({ { 1, value() }, { 3, value() } }) end
  return list({})
end

-- One random operation: its Erlang term (text) and a function that runs
-- it on t and renders the result. opts (may be nil): key, a function that
-- makes the keys; per_key, only operations on one key.
local function operation(t, type, keypos, recent, opts)
  local key = opts and opts.key or key
  local ordered = type == "ordered_set"
  local sorted = not ordered
  local is_bag = type == "bag" or type == "duplicate_bag"
  -- n objects for one insert. In a bag, ETS (OTP 25) stores the objects
  -- of one key given in one call in the reverse of their order, which its
  -- documentation leaves open, and heirloom in their order: a bag's lists
  -- have a key once.
  local function objects(n)
    local l, keys = list({}), {}
    while #l < n do
      local k = key()
      if not (type == "bag" and keys[erl(k)]) then
        keys[erl(k)] = true
        l[#l + 1] = object(k, keypos)
      end
    end
    return l
  end
  local function an_object()
    if #recent > 0 and math.random(2) == 1 then return pick(recent) end
    return object(key(), keypos)
  end
  -- The operations up to 73 take one key each; opts.per_key keeps to them.
  local r100 = math.random(opts and opts.per_key and 730 or 1000) / 10
  if r100 <= 20 then
    local o = object(key(), keypos)
    recent[#recent < 20 and #recent + 1 or math.random(20)] = o
    return "{insert," .. erl(o) .. "}", function() return r(t:insert(o)) end
  elseif r100 <= 24 then
    local l = objects(math.random(0, 3))
    return "{insert," .. erl(l) .. "}", function() return r(t:insert_many(l)) end
  elseif r100 <= 29 then
    local o = object(key(), keypos)
    return "{insert_new," .. erl(o) .. "}", function() return r(t:insert_new(o)) end
  elseif r100 <= 31 then
    local l = objects(2)
    return "{insert_new," .. erl(l) .. "}", function() return r(t:insert_new_many(l)) end
  elseif r100 <= 41 then
    local k = key()
    return "{lookup," .. erl(k) .. "}", function() return rlist(t:lookup(k)) end
  elseif r100 <= 44 then
    local k = key()
    return "{member," .. erl(k) .. "}", function() return r(t:member(k)) end
  elseif r100 <= 48 then
    local k, pos = key(), math.random(1, 3)
    return "{lookup_element," .. erl(k) .. "," .. pos .. "}", function()
      local e = t:lookup_element(k, pos)
      return is_bag and rlist(e) or r(e)
    end
  elseif r100 <= 51 then
    local k = key()
    return "{take," .. erl(k) .. "}", function() return rlist(t:take(k)) end
  elseif r100 <= 55 then
    local k = key()
    return "{delete," .. erl(k) .. "}", function() return r(t:delete(k)) end
  elseif r100 <= 59 then
    local o = an_object()
    return "{delete_object," .. erl(o) .. "}", function() return r(t:delete_object(o)) end
  elseif r100 <= 67 then
    local k, op = key(), counter_op(keypos)
    return "{update_counter," .. erl(k) .. "," .. erl(op) .. "}", function()
      local v = t:update_counter(k, op)
      return is_list[op] and rlist(v) or r(v)
    end
  elseif r100 <= 70 then
    local k, op, default = key(), counter_op(keypos), { 0, 0, 0 }
    return "{update_counter," .. erl(k) .. "," .. erl(op) .. "," .. erl(default) .. "}", function()
      local v = t:update_counter(k, op, default)
      return is_list[op] and rlist(v) or r(v)
    end
  elseif r100 <= 73 then
    local k, change = key(), change_op(keypos)
    return "{update_element," .. erl(k) .. "," .. erl(change) .. "}", function()
      return r(t:update_element(k, change))
    end
  elseif r100 <= 74 then
    return "walk", function() return rlist(H.walk(t), sorted) end
  elseif r100 <= 75 then
    return "walk_back", function() return rlist(H.walk_back(t), sorted) end
  elseif r100 <= 77 and ordered then
    local which, k = math.random(4), key()
    if which == 1 then return "first", function() return r(t:first()) end end
    if which == 2 then return "last", function() return r(t:last()) end end
    if which == 3 then return "{next," .. erl(k) .. "}", function() return r(t:next(k)) end end
    return "{prev," .. erl(k) .. "}", function() return r(t:prev(k)) end
  elseif r100 <= 87 then
    local id, a, b = math.random(5), key(), key()
    local args = id .. "," .. erl(a) .. "," .. erl(b)
    local ms = spec(id, a, b, "found")
    local which = math.random(6)
    if which <= 2 then
      return "{select," .. args .. "}", function() return rlist(t:select(ms), sorted) end
    elseif which == 3 then
      return "{select_reverse," .. args .. "}", function() return rlist(t:select_reverse(ms), sorted) end
    elseif which == 4 then
      local limit = math.random(1, 5)
      return "{select_limit," .. args .. "," .. limit .. "}", function()
        local res, cont = t:select(ms, limit)
        return rlist(chunks(res, cont, t), sorted)
      end
    elseif which == 5 then
      local limit = math.random(1, 5)
      return "{select_reverse_limit," .. args .. "," .. limit .. "}", function()
        local res, cont = t:select_reverse(ms, limit)
        return rlist(chunks(res, cont, t), sorted)
      end
    end
    return "{select_count," .. args .. "}", function() return r(t:select_count(spec(id, a, b, "true"))) end
  elseif r100 <= 89 then
    local id, a, b = math.random(5), key(), key()
    return "{select_delete," .. id .. "," .. erl(a) .. "," .. erl(b) .. "}", function()
      return r(t:select_delete(spec(id, a, b, "true")))
    end
  elseif r100 <= 90 then
    local a = math.random(-2, 2)
    return "{select_replace," .. a .. "}", function() return r(t:select_replace(replace_spec(keypos, a))) end
  elseif r100 <= 94 then
    local id, a = pattern_args(keypos)
    return "{match_object," .. id .. "," .. erl(a) .. "}", function()
      return rlist(t:match_object(pattern(id, a)), sorted)
    end
  elseif r100 <= 95 then
    local id, a = pattern_args(keypos)
    return "{match_delete," .. id .. "," .. erl(a) .. "}", function() return r(t:match_delete(pattern(id, a))) end
  elseif r100 <= 96.5 then
    return "tab2list", function() return rlist(t:tab2list(), sorted) end
  elseif r100 <= 99.8 then
    return "size", function() return r(t:info("size")) end
  end
  return "delete_all", function() return r(t:delete_all_objects()) end
end

-- Runs an operation's function: its line, or "error" when heirloom
-- raised. Any other error is the spec's own, and goes on.
local function result(run)
  local ok, line = pcall(run)
  if ok then return line end
  if not tostring(line):find("heirloom.", 1, true) then error(line, 0) end
  return "error"
end

M.operation = operation
M.result = result
M.rlist = rlist

-- Worker w's share of a concurrent run: n operations from seed on t, on
-- keys {k, w} that no other worker uses, each on one key, so that their
-- results do not depend on how the workers interleave. Returns the
-- results and the operations.
function M.run_share(t, type, keypos, seed, w, n)
  local opts = { per_key = true, key = function() return { key(), w } end }
  local lines, texts, recent = {}, {}, {}
  math.randomseed(seed)
  for i = 1, n do
    local text, op = operation(t, type, keypos, recent, opts)
    texts[i], lines[i] = text, result(op)
  end
  return lines, texts
end

-- Waits for the host's "go", which it sends once every process of a run
-- is spawned, so that they start together.
local function await_go()
  assert(hl.receive(function(m) return m == "go" end, 10000), "no go")
end

-- A process running its share on the public table `name` once host says
-- "go"; sends {"lines", w, results} to host.
function M.worker(host, name, type, keypos, seed, w, n)
  local t = assert(hl.table.whereis(name))
  await_go()
  hl.send(host, { "lines", w, (M.run_share(t, type, keypos, seed, w, n)) })
end

-- Objects no worker touches: the key {i, 0} (workers' keys are {k, w},
-- w >= 1), for i = 1 .. M.STABLE.
M.STABLE = 40

function M.stable_object(i, keypos)
  if keypos == 1 then return { { i, 0 }, "stable" } end
  return { "stable", { i, 0 } }
end

local function stable_index(k)
  if type(k) == "table" and k[2] == 0 and math.type(k[1]) == "integer" then return k[1] end
  return nil
end

-- A process walking the public table `name` while the workers write,
-- once host says "go". The stable objects are in the table all along, so
-- each walk (first/next) and each chain of select continuations returns
-- each of them exactly once (docs/tables.md, "The guarantee under
-- concurrent change"). Sends {"walked", problems} to host.
function M.walker(host, name, keypos, rounds)
  local t = assert(hl.table.whereis(name))
  local problems = {}
  local function expect_once(counts, round, how)
    for i = 1, M.STABLE do
      if counts[i] ~= 1 then
        problems[#problems + 1] = ("round %d: %s returned stable key {%d, 0} %d times")
          :format(round, how, i, counts[i] or 0)
      end
    end
  end
  await_go()
  for round = 1, rounds do
    local walked, selected = {}, {}
    for _, k in ipairs(H.walk(t)) do
      local i = stable_index(k)
      if i then walked[i] = (walked[i] or 0) + 1 end
    end
    local res, cont = t:select({ { "_", {}, { "$_" } } }, 7)
    for _, o in ipairs(chunks(res, cont, t)) do
      local i = stable_index(o[keypos])
      if i then selected[i] = (selected[i] or 0) + 1 end
    end
    expect_once(walked, round, "a walk")
    expect_once(selected, round, "a chain of select continuations")
  end
  hl.send(host, { "walked", problems })
end

return M
