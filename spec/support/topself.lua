-- spec/support/topself.lua — a module whose top level asks the engine who
-- it is (kill_spec): its process does not exist yet while spawn loads it.
local hl = require("heirloom")
local M = { me = hl.self() }

function M.main() end

return M
