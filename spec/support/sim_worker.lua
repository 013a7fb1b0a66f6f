-- spec/support/sim_worker.lua — the processes of simulation_spec.lua's
-- timer-heavy scenario: six chatty workers that sleep a random 1 to 3 ms
-- between sends (math.random, drawn from the node's seed), one link, one
-- monitor, one ETS-TRANSFER and one supervisor restart. Everything they
-- do ends up in the node's trace.
local hl = require("heirloom")
local M = {}

-- Drains the mailbox; the ETS-TRANSFER and EXIT messages are reported.
local function drain(host, i)
  while true do
    local m = hl.receive(0)
    if m == nil then return end
    if type(m) == "table" and (m[1] == "ETS-TRANSFER" or m[1] == "EXIT") then
      hl.send(host, { m[1], i })
    end
  end
end

-- Worker i of 6, registered as "w<i>", sends rounds greetings to its
-- neighbours. w1 owns a table whose heir is w2, and ends first, so w2
-- inherits it. w4 is linked to w5 (which traps exits) and ends with an
-- error. The host monitors w3.
function M.worker(host, i, rounds)
  hl.register("w" .. i, hl.self())
  if i == 5 then hl.trap_exit(true) end
  hl.send(host, { "up", i })
  hl.receive(function(m) return m == "go" end)
  if i == 4 then hl.link(hl.whereis("w5")) end
  if i == 1 then hl.table.new("sim_heirloom", { heir = hl.whereis("w2") }):insert{ "k", 1 } end
  for r = 1, rounds do
    hl.sleep(math.random(1, 3))
    local peer = hl.whereis("w" .. (i % 6 + 1))
    if peer ~= nil then hl.send(peer, { "hello", i, r }) end
    drain(host, i)
  end
  if i == 4 then error("w4 ends badly") end
  if i ~= 1 then
    hl.sleep(20)            -- w1 has ended by then: w2 holds its table
    drain(host, i)
  end
  hl.send(host, { "done", i })
end

-- A supervised child that crashes once, after a random sleep, then tells
-- the host it was restarted.
function M.start_link(host)
  return hl.spawn_link("sim_worker", "flaky", host)
end

function M.flaky(host)
  local flags = hl.table.whereis("sim_flags")
  hl.sleep(math.random(1, 3))
  if flags:lookup("crashed") == nil then
    flags:insert{ "crashed", true }
    error("flaky crashes once")
  end
  hl.send(host, { "restarted" })
  hl.receive()
end

return M
