-- spec/support/readyself.lua — a module whose top level asks heirloom who
-- it is inside pcall (ready_state_spec): it cannot run ahead of time, so
-- every spawn loads it itself, and it sees what it always saw.
local hl = require("heirloom")
local loaded_at = os.clock()

local ok, err = pcall(hl.self)

return {
  main = function(to) hl.send(to, { "readyself", loaded_at, ok, err }) end,
}
