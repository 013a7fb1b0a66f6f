-- spec/support/readyseed.lua — a module whose top level takes math's
-- generator (ready_state_spec): on a seeded deterministic node every run
-- draws the same.
local hl = require("heirloom")
local random = math.random

return {
  main = function(to, i) hl.send(to, { "drawn", i, random(1000000) }) end,
}
