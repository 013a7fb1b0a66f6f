-- bad_node.lua — an application file with a wrong node option.
local app = {
  name = "bad_node",
  node = { schedulers = "many" },
  main = { "cli_worker", "loop", "w" },
}
return app
