-- story.lua — seed 002's story, told without a prompt (what `make run` runs):
-- count, kill the counter server, kill the table manager, kill the server
-- again, and show that the count survived each crash.
--   LUA_CPATH="build/?.so;;" LUA_PATH="lua/?.lua;;" lua5.4 examples/etscounter/story.lua
-- Exits with status 1 if the count is ever wrong.
local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "."
package.path = here .. "/?.lua;" .. package.path      -- the processes inherit it

local hl = require("heirloom")
local etscounter = require("etscounter")

hl.start{ schedulers = 2, logger = "capture" }        -- crash reports kept, not printed
hl.trap_exit(true)
local sup = assert(etscounter.start())

local acknowledged = 0
local function count(n)
  local last
  for _ = 1, n do last = etscounter.count(); acknowledged = acknowledged + 1 end
  return last
end

-- Kills the process registered as name and waits until its supervisor has
-- started the next one (hl.await_name: told, not polling).
local function kill(name)
  local old = hl.whereis(name)
  local ref = hl.monitor(old)
  hl.exit(old, "kill")
  hl.receive(function(m) return type(m) == "table" and m[1] == "DOWN" and m[2] == ref end, 5000)
  -- the DOWN came after the name was freed: the next holder is the new one
  local new = assert(hl.await_name(name, 5000), "no restart of " .. name)
  return old, new
end

local function check(what)
  local n = etscounter.read()
  if n ~= acknowledged then
    print(("FAILED: %s: the table says %s, %d increments were acknowledged"):format(what, tostring(n), acknowledged))
    os.exit(1)
  end
  return n
end

local function line(what, n, why)
  print(("  %-48s count = %d%s"):format(what, n, why and ("  (" .. why .. ")") or ""))
end

local t = etscounter.table()
print(("etscounter (seed 002): the server %s owns %s; its heir is the manager %q %s")
  :format(tostring(hl.whereis("etscounter_srv")), tostring(t), t:info("heir"),
          tostring(hl.whereis("etsmgr_srv"))))

line("count, count, count", count(3))
local old, new = kill("etscounter_srv")
line(("kill the server %s: restarted as %s"):format(tostring(old), tostring(new)),
  check("after the server's death"), "the manager handed the table back")
line("count, count", count(2))
old, new = kill("etsmgr_srv")
line(("kill the manager %s: restarted as %s"):format(tostring(old), tostring(new)),
  check("after the manager's death"), "the server kept its table")
old, new = kill("etscounter_srv")
line(("kill the server %s: restarted as %s"):format(tostring(old), tostring(new)),
  check("after the second death of the server"), "the new manager was heir, by name")
line("count", count(1))

if etscounter.table() ~= t then print("FAILED: not the same table"); os.exit(1) end
print(("the count survived: %d increments acknowledged, %d in the table, which was never copied")
  :format(acknowledged, check("at the end")))

etscounter.stop(sup)
hl.stop()
