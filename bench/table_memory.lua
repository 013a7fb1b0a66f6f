-- table_memory.lua — bytes per object of a heirloom table holding N
-- objects {k, 0} (k = 1..N): t:info("memory") / N, as make bench prints
-- it beside ETS's ets:info(T, memory) words x 8 for the same objects.
--   lua5.4 bench/table_memory.lua N TYPE
local hl = require("heirloom")
local n, ttype = tonumber(arg[1]) or 1000000, arg[2] or "set"
hl.start{ schedulers = 1 }
local t = hl.table.new("mem", { type = ttype })
for k = 1, n do t:insert({ k, 0 }) end
local bytes = t:info("memory")
print(string.format("heirloom %s memory %d %.1f", ttype, n, bytes / n))
hl.stop()
