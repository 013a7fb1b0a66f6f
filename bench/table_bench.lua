-- table_bench.lua — the Lua side of `make bench`: the timed loops of each
-- workload, written as a Lua user of heirloom would write them.
--
-- bench/table_bench.c runs this file in a Lua state of each worker thread,
-- bound to its node with hl_lua_attach, then calls the function it returns:
--   prepare(table_name, op, keys, passes) -> loop, check
-- `keys` are the worker's keys (for mix90, -K means "insert {K, 0}"; none
-- for select and walk, which make `passes` passes over the whole table);
-- the C side times loop() alone, then calls check(what loop returned),
-- which gives "<count>/<sum>" for the last pass, the figure the Erlang
-- side prints too.
local hl = require("heirloom")

local loops = {}

function loops.insert(t, keys, n)
  for i = 1, n do
    t:insert({ keys[i], 0 })
  end
end

function loops.lookup(t, keys, n)
  for i = 1, n do
    t:lookup(keys[i])
  end
end

function loops.update_counter(t, keys, n)
  for i = 1, n do
    t:update_counter(keys[i], 1)
  end
end

function loops.mix90(t, keys, n)
  for i = 1, n do
    local k = keys[i]
    if k > 0 then
      t:lookup(k)
    else
      t:insert({ -k, 0 })
    end
  end
end

-- ETS's [{{'$1','$2'},[{'==',{'rem','$1',10},0}],['$1']}]: the keys that
-- are multiples of 10, found by a scan of every object.
local SELECT_SPEC = { { { "$1", "$2" }, { { "==", { "rem", "$1", 10 }, 0 } }, { "$1" } } }

function loops.select(t, _, _, passes)
  local found
  for _ = 1, passes do
    found = t:select(SELECT_SPEC)
  end
  return found
end

-- Counts and sums the keys on the way, as the Erlang walk does.
local function walk(t)
  local steps, sum = 0, 0
  local k = t:first()
  while k ~= nil do
    steps = steps + 1
    sum = sum + k
    k = t:next(k)
  end
  return { steps, sum }
end

function loops.walk(t, _, _, passes)
  local found
  for _ = 1, passes do
    found = walk(t)
  end
  return found
end

local checks = {}

function checks.select(keys)
  local sum = 0
  for i = 1, #keys do
    sum = sum + keys[i]
  end
  return #keys .. "/" .. sum
end

function checks.walk(found)
  return found[1] .. "/" .. found[2]
end

return function(table_name, op, keys, passes)
  local t = assert(hl.table.whereis(table_name), "no table named " .. table_name)
  local loop = assert(loops[op], "unknown op " .. op)
  local n = #keys
  collectgarbage()   -- start the timed loop with no garbage pending
  return function()
    return loop(t, keys, n, passes)
  end, function(result)
    return checks[op] and checks[op](result)
  end
end
