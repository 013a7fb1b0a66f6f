-- proc_bench_idle.lua — the body of the idle-memory workloads, in a module
-- of its own: a process carries its own copy of the module it runs, so
-- the figure is that of a process whose module holds only what it needs
-- (bench/README.md). A bigger module adds its size to every process.
local receive = require("heirloom").receive

return {
  idle = function() receive() end,
}
