-- app.lua — seed 002's etscounter with its table manager, for the heirloom
-- command:
--   build/heirloom run examples/etscounter/app.lua
--   build/heirloom shell examples/etscounter/app.lua
-- At the shell: etscounter = require("etscounter"); etscounter.count() ...
return {
  name = "etscounter",
  supervisor = require("etscounter").spec{ verbose = true },
}
