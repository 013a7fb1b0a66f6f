-- table_bench.lua — the Lua side of `make bench`: the timed loops of each
-- workload, written as a Lua user of heirloom would write them.
--
-- bench/table_bench.c runs this file in a Lua state of each worker thread,
-- bound to its node with hl_lua_attach, then calls the function it returns:
--   prepare(table_name, op, keys) -> loop
-- `keys` are the worker's keys (for mix90, -K means "insert {K, 0}"); the
-- C side times loop() alone.
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

return function(table_name, op, keys)
  local t = assert(hl.table.whereis(table_name), "no table named " .. table_name)
  local loop = assert(loops[op], "unknown op " .. op)
  local n = #keys
  collectgarbage()   -- start the timed loop with no garbage pending
  return function()
    loop(t, keys, n)
  end
end
