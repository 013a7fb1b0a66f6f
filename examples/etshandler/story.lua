-- story.lua — seed 000's test(): two tables, a crash of the Table Manager,
-- a crash of a Table Handler, then showtables(); with data in the tables,
-- checked after each crash.
--   LUA_CPATH="build/?.so;;" LUA_PATH="lua/?.lua;;" lua5.4 examples/etshandler/story.lua
-- Exits with status 1 if any object is lost.
local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "."
package.path = here .. "/?.lua;" .. package.path

local hl = require("heirloom")
local ms = require("multiserver")

hl.start{ schedulers = 2, logger = "capture" }
hl.trap_exit(true)
assert(ms.start{ verbose = true })

local function expect(what, got, want)
  local g, w = table.concat(got, ","), table.concat(want, ",")
  print(("  %-40s %s"):format(what, g))
  if g ~= w then print("FAILED: expected " .. w); os.exit(1) end
end

local function wait_down(pid)
  local ref = hl.monitor(pid)
  hl.receive(function(m) return type(m) == "table" and m[1] == "DOWN" and m[2] == ref end, 5000)
end

print("newtable(ets_test1), newtable(ets_test2)")
assert(ms.newtable("ets_test1"))
assert(ms.newtable("ets_test2"))
ms.store("ets_test1", "fruit", "apple"); ms.store("ets_test1", "fruit", "pear")
ms.store("ets_test2", "colour", "red")
expect("load(ets_test1, fruit)", ms.load("ets_test1", "fruit"), { "apple", "pear" })

local mgr = hl.whereis("etsserver")
print(("die(): the Table Manager %s is killed"):format(tostring(mgr)))
ms.die(); wait_down(mgr)
print(("  restarted as %s; it is heir of both tables again, by its name"):format(tostring(hl.await_name("etsserver", 5000))))

local h1 = hl.whereis("ets_test1")
print(("etshandler:die(ets_test1): the handler %s crashes"):format(tostring(h1)))
ms.handler_die("ets_test1"); wait_down(h1)
ms.store("ets_test1", "fruit", "plum")      -- call_retry waits for the restarted handler
expect("load(ets_test1, fruit) after both crashes", ms.load("ets_test1", "fruit"), { "apple", "pear", "plum" })
expect("load(ets_test2, colour)", ms.load("ets_test2", "colour"), { "red" })

print("showtables():")
for _, e in ipairs(ms.showtables()) do
  print(("  Table:%s, Id:%s, owner %s (%s), %d objects"):format(e.name, tostring(e.table),
    tostring(e.owner), tostring(e.state), e.table:info("size")))
end
ms.stop()
hl.stop()
