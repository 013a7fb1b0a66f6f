-- spec/support/readycoro.lua — a module whose top level makes a coroutine
-- that the process runs later (ready_state_spec): made ahead of time, it
-- must still be preempted and killed with its process.
local hl = require("heirloom")
local loaded_at = os.clock()

local spin = coroutine.wrap(function(to)
  hl.send(to, { "readycoro", loaded_at, hl.self() })
  while true do end
end)

return { main = function(to) spin(to) end }
