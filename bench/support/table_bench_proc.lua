-- table_bench_proc.lua — the `proc` lines of `make bench`: runs one of
-- bench/table_bench.lua's timed loops inside a heirloom process, where a
-- handler's code runs (its own Lua state on the node's heap, under the
-- scheduler), between two messages from the host thread that times it.

local hl = require("heirloom")

local M = {}

-- host: the timing thread's pid; script: bench/table_bench.lua's path;
-- keys, passes: the worker's key sequence and passes, as the host's Lua
-- states get them.
function M.run(host, script, table_name, op, keys, passes)
  local prepare = assert(loadfile(script))()
  local loop, check = prepare(table_name, op, keys, passes)
  hl.send(host, "ready")
  assert(hl.receive() == "go")
  local result = loop()
  hl.send(host, "done")
  hl.send(host, check(result) or "")
end

return M
