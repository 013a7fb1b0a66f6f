-- recovery_manager.lua — the manager of `make bench WHAT=recovery`
-- (bench/recovery_bench.lua): a registered process that is the heir of a
-- server's table (one manager per server, each under its own name). When the server dies the table comes here with
-- ETS-TRANSFER; the manager keeps it until the restarted server asks for
-- it, then gives it away. bench/recovery_bench.erl's manager/0 is the same
-- loop in Erlang.
--
-- Messages:
--   {"want", pid}                    a server's init asks for the table
--   {"ETS-TRANSFER", tab, from, _}   the table, when its owner has died
-- Answers to "want": the table by give_away (the server receives
-- ETS-TRANSFER), or "create" the first time, when there is no table yet.
local hl = require("heirloom")

local M = {}

-- The manager's start function, for the supervisor:
-- start = { "recovery_manager", "start_link", name }. Registered from its
-- first instruction, so a server's init can always send to the name.
function M.start_link(name)
  return hl.spawn_opt({ link = true, name = name }, "recovery_manager", "loop")
end

function M.loop()
  local tab          -- the table, while the manager holds it
  local created      -- a server has been told to create it
  local waiting      -- a server that asked while the table was still out
  while true do
    local m = hl.receive()
    if type(m) == "table" and m[1] == "want" then
      if tab ~= nil then
        tab:give_away(m[2])
        tab = nil
      elseif not created then
        created = true
        hl.send(m[2], "create")
      else
        -- the old owner's death has not handed the table over yet
        waiting = m[2]
      end
    elseif type(m) == "table" and m[1] == "ETS-TRANSFER" then
      tab = m[2]
      if waiting ~= nil then
        tab:give_away(waiting)
        tab, waiting = nil, nil
      end
    end
  end
end

return M
