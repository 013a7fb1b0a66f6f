-- spec/support/durable_child.lua DIR TYPE SYNC [SUPPORT] — run as its own
-- OS process by spec/durable_spec.lua: starts a node on DIR, makes the
-- durable table "t" of TYPE with SYNC, then runs the model's steps for
-- ever, printing "ack <i>" after each, until it is killed.
local dir, ttype, sync = arg[1], arg[2], arg[3]
io.stdout:setvbuf("line")
local hl = require("heirloom")
local model = require("durable_model")
hl.start{ schedulers = 0, data_dir = dir, logger = "silent" }
local t = hl.table.new("t", { type = ttype, durable = true, named = true, custody = true,
                              sync = tonumber(sync) or sync })
print("ready")
local i = 0
while true do
  i = i + 1
  model.step(t, ttype, i)
  print("ack " .. i)
end
