-- install_check.lua — run by scripts/check-install.sh with package.path and
-- package.cpath holding an installed heirloom only (make install's, or a
-- luarocks tree's): the module and its Lua library load from there, and a
-- node starts, spawns, keeps a table and runs a supervisor with the table
-- manager. Usage: lua5.4 install_check.lua CMOD_DIR LMOD_DIR
local cmod, lmod = assert(arg[1], "CMOD_DIR"), assert(arg[2], "LMOD_DIR")

local function from(dir, file)
  assert(file and file:sub(1, #dir + 1) == dir .. "/",
         string.format("loaded %s, not from %s", tostring(file), dir))
end
from(cmod, package.searchpath("heirloom", package.cpath))
from(lmod, package.searchpath("heirloom.supervisor", package.path))

local hl = require("heirloom")
hl.start{ schedulers = 2, logger = "capture" }

local t = hl.table.new("install_check", { type = "set", named = true })
t:insert({ "answer", 42 })
assert(hl.table.whereis("install_check"):lookup_element("answer", 2) == 42)

local echo = hl.spawn(function()
  local hl = require("heirloom")
  local msg = hl.receive()
  hl.send(msg[1], { "echo", msg[2] })
end)
hl.send(echo, { hl.self(), "hi" })
local reply = hl.receive(5000)
assert(reply and reply[2] == "hi", "no echo from a spawned process")

local sup = hl.supervisor.start_link{ name = "install_check_sup", children = {
  { id = "tables", start = { "heirloom.tablemgr", "start_link" } },
} }
assert(#hl.supervisor.which_children("install_check_sup") == 1)
hl.trap_exit(true)
hl.exit(sup, "shutdown")
hl.stop()
print("install_check: heirloom " .. hl.version .. " from " .. cmod .. " and " .. lmod)
