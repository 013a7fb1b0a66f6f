-- spec/support/toplong.lua — a module whose top level runs longer than
-- spawn runs it (kill_spec): the load goes on in the new process.
local M = {}

local n = 0
for i = 1, 3000000 do n = n + i end
M.n = n

function M.main(to)
  require("heirloom").send(to, { "toplong", M.n })
end

return M
