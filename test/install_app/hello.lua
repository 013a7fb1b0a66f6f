-- hello.lua — the main process of app.lua: it keeps a table, calls a
-- server of heirloom's Lua library (loaded from where the command found
-- it, which it prints) and returns.
local hl = require("heirloom")
local M = {}

function M.run()
  local t = hl.table.new("hello", { type = "set" })
  t:insert({ "greeting", "hello" })
  local server = package.searchpath("heirloom.server", package.path)
  local sup = hl.supervisor.start_link{ children = {
    { id = "tables", start = { "heirloom.tablemgr", "start_link" } },
  } }
  assert(#hl.supervisor.which_children(sup) == 1)
  print(string.format("hello: %s, with %s", t:lookup_element("greeting", 2), server))
end

return M
