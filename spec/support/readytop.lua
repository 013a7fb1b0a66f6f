-- spec/support/readytop.lua — a module whose top level notes when it ran
-- (ready_state_spec): in a global, LOADED_AT, and in the module. Spawned
-- from a ready state, its top level ran before spawn was called.
local hl = require("heirloom")
LOADED_AT = os.clock()   -- the OS process's CPU time: it only grows, on every thread

local M = { loaded_at = LOADED_AT }

-- Sends {"readytop", loaded_at, LOADED_AT, self} to `to`.
function M.main(to)
  hl.send(to, { "readytop", M.loaded_at, LOADED_AT, hl.self() })
end

-- The same, then waits for any message.
function M.wait(to)
  M.main(to)
  hl.receive()
end

-- Allocates until its memory limit ends it.
function M.hog()
  local t = {}
  for i = 1, math.maxinteger do t[i] = string.rep("x", 64) .. i end
end

return M
