-- proc_lua_speed.lua — plain Lua in a process against the same Lua in the
-- host's own state: what running as a process costs a computation. Not
-- part of `make bench` (there is no Erlang side to compare with); run it as
--   LUA_CPATH="build/?.so;;" LUA_PATH="lua/?.lua;lua/?/init.lua;;" \
--     lua5.4 bench/proc_lua_speed.lua [ITERATIONS]
-- Both sides time the loop with os.clock (CPU time of the whole program:
-- the host waits in receive meanwhile and costs nothing).
local hl = require("heirloom")
local n = tonumber(arg[1]) or 30000000

local function work(count)
  local x = 0
  for i = 1, count do x = x + (i % 7) * 2 end
  return x
end

local started = os.clock()
local expected = work(n)
local host = os.clock() - started

hl.start{ schedulers = 1 }
hl.spawn(function(parent, count)
  local hl = require("heirloom")
  local began = os.clock()
  local x = 0
  for i = 1, count do x = x + (i % 7) * 2 end
  hl.send(parent, { x, os.clock() - began })
end, hl.self(), n)
local result = assert(hl.receive(60000), "no answer from the process")
hl.stop()
assert(result[1] == expected, "the process computed something else")
print(string.format("host %.3f s  process %.3f s  process/host %.2f",
                    host, result[2], result[2] / host))
