-- spec/support/fault_ops.lua — random writes to a durable table for
-- spec/store_faults_spec.lua, from the host or from a process: every kind
-- of operation that writes, on keys 1..12, and a canonical dump of what a
-- table holds (every key's objects in their order) to compare memory with
-- what a restart loads.
local hl = require("heirloom")
local M = {}

local function show(v)
  if type(v) == "table" then
    local parts = {}
    for i = 1, #v do parts[i] = show(v[i]) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return tostring(v)
end

-- Every key in key order, each with its objects in the table's order.
function M.dump(t)
  local keys, seen = {}, {}
  for _, o in ipairs(t:tab2list()) do
    if not seen[o[1]] then
      seen[o[1]] = true
      keys[#keys + 1] = o[1]
    end
  end
  table.sort(keys)
  local lines = {}
  for i, k in ipairs(keys) do lines[i] = show(t:lookup(k)) end
  return table.concat(lines, "\n")
end

local function key(r) return r(1, 12) end
local function obj(r) return { key(r), r(0, 5) } end

-- The operations that write, by name; r is a random(lo, hi) function.
M.ops = {
  insert = function(t, r) return t:insert(obj(r)) end,
  insert_many = function(t, r) return t:insert(obj(r), obj(r), obj(r)) end,
  insert_new = function(t, r) return t:insert_new(obj(r)) end,
  delete = function(t, r) return t:delete(key(r)) end,
  delete_object = function(t, r) return t:delete_object(obj(r)) end,
  take = function(t, r) return t:take(key(r)) end,
  update_counter = function(t, r, ttype)
    if ttype == "bag" or ttype == "duplicate_bag" then return t:insert(obj(r)) end
    return t:update_counter(key(r), { 2, 1 }, { 0, 0 })
  end,
  update_element = function(t, r, ttype)
    if ttype == "bag" or ttype == "duplicate_bag" then return t:delete(key(r)) end
    return t:update_element(key(r), { 2, r(0, 5) }, { 0, 0 })
  end,
  select_delete = function(t, r)
    return t:select_delete({ { { "_", r(0, 5) }, {}, { true } } })
  end,
  select_replace = function(t, r, ttype)
    if ttype == "bag" then return t:match_delete({ "_", r(0, 5) }) end
    return t:select_replace({ { { "$1", r(0, 5) }, {}, { { { "$1", r(0, 5) } } } } })
  end,
  match_delete = function(t, r) return t:match_delete({ key(r), "_" }) end,
  delete_all_objects = function(t, r)
    if r(1, 10) == 1 then return t:delete_all_objects() end
    return t:insert(obj(r))
  end,
}

M.names = {}
for name in pairs(M.ops) do M.names[#M.names + 1] = name end
table.sort(M.names)

-- n random operations on t (random: a function(lo, hi)); each that fails
-- must fail because the store did, leaving the table as it was when check
-- is set (only one writer). Returns the number of failures and the list
-- of the failed steps' names.
function M.run(t, ttype, n, random, check)
  local failed, log = 0, {}
  for i = 1, n do
    local name = M.names[random(1, #M.names)]
    local before = check and M.dump(t)
    local ok, err = pcall(M.ops[name], t, random, ttype)
    if not ok then
      if not tostring(err):find("the durable store failed to write", 1, true) then
        error(name .. ": " .. tostring(err), 0)
      end
      failed = failed + 1
      log[#log + 1] = i .. ":" .. name
      if check then
        local after = M.dump(t)
        if after ~= before then
          error(string.format("step %d (%s) failed (%s), but memory changed:\nbefore\n%s\nafter\n%s",
            i, name, tostring(err), before, after), 0)
        end
      end
    end
  end
  return failed, log
end

-- A process body: n operations on the public table `name`, then
-- {"done", failures} to parent.
function M.worker(parent, name, ttype, n, seed)
  local t = hl.table.whereis(name)
  local state = seed
  local function random(lo, hi)   -- a generator of its own: no shared state
    state = (state * 1103515245 + 12345) % 2147483648
    return lo + state % (hi - lo + 1)
  end
  local failed = M.run(t, ttype, n, random, false)
  hl.send(parent, { "done", failed })
end

-- A process body for the crash specs: inserts {id * 100000 + i, i} into
-- the public table `name` for i = 1, 2, ... and tells parent {"ack", key}
-- after each insert has returned, `limit` times (nil: until the node
-- goes); with pause, it lets others run after each one (hl.sleep(0)).
function M.inserter(parent, name, id, limit, pause)
  local t = hl.table.whereis(name)
  for i = 1, limit or math.huge do
    local k = id * 100000 + i
    t:insert({ k, i })
    hl.send(parent, { "ack", k })
    if pause then hl.sleep(0) end
  end
  hl.receive()
end

return M
