-- spec/support/toplate.lua — a module whose top level runs longer than
-- spawn runs it, then asks the engine who it is (kill_spec): still loading,
-- its process has not started.
local n = 0
for i = 1, 3000000 do n = n + i end
require("heirloom").self()

return { main = function() end, n = n }
