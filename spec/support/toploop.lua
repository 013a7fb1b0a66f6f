-- spec/support/toploop.lua — a module whose top level never ends
-- (kill_spec): hl.spawn("toploop", "main") must still return, and the
-- process must be killable and must not starve the others.
local M = {}

function M.main() end

while true do end

return M
