-- app.lua — seeds 000/001's multiserver for the heirloom command:
--   build/heirloom shell examples/etshandler/app.lua
-- then, at the prompt: ms = require("multiserver"); ms.newtable("ets_test1") ...
-- (story.lua runs the seed's test() from the prompt's point of view.)
return {
  name = "multiserver",
  supervisor = require("multiserver").spec{},
}
