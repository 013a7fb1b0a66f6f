-- cli_worker.lua — a worker of the cli_app test application: says when it
-- starts and when it is told to stop, so cli_spec can check the order of
-- an orderly shutdown.
local hl = require("heirloom")

local M = {}

-- One write per line: the shell prints on the same stdout from another
-- thread, and must not land inside the line.
local function say(...)
  io.stdout:write(table.concat({ ... }) .. "\n")
  io.stdout:flush()
end

-- The worker's loop: traps exits so a "shutdown" from its parent is a
-- message it can report before it exits with the same reason.
function M.loop(name, starter)
  hl.trap_exit(true)
  say(name, " started")   -- before the name: whoever waits for it sees the line first
  hl.register(name, hl.self())
  if starter ~= nil then hl.send(starter, { "cli_worker started", hl.self() }) end
  while true do
    local m = hl.receive()
    if type(m) == "table" and m[1] == "EXIT" then
      say(name, " stopping (", tostring(m[3]), ")")
      hl.exit(m[3])
    elseif type(m) == "table" and m[1] == "crash" then
      error(name .. " crashed on request")
    elseif type(m) == "table" and m[1] == "ping" then
      hl.send(m[2], { "pong", name })
    end
  end
end

-- A main process that crashes after ms milliseconds.
function M.crash_after(ms)
  io.stdout:write("crasher started\n")
  io.stdout:flush()
  hl.sleep(ms)
  error("crasher gave up")
end

-- A worker that ignores "shutdown": only "kill" stops it.
function M.stubborn(name)
  hl.trap_exit(true)
  io.stdout:write(name, " started\n")
  io.stdout:flush()
  while true do
    local m = hl.receive()
    if type(m) == "table" and m[1] == "EXIT" then
      io.stdout:write(name, " ignores ", tostring(m[3]), "\n")
      io.stdout:flush()
    end
  end
end

-- For a supervisor: a worker linked to the caller.
-- Returns once the worker has said it started, as a gen_server's
-- start_link returns after init: the supervisor starts the next child
-- only then, so the "started" lines come in the spec's order.
function M.start_link(name)
  local pid = hl.spawn_link("cli_worker", "loop", name, hl.self())
  hl.receive(function(m)
    return type(m) == "table" and m[1] == "cli_worker started" and m[2] == pid
  end, 5000)
  return pid
end

-- A start function that never returns: it waits for a message nobody
-- sends (a start blocked on something that never comes), leaving every
-- other message, its supervisor's shutdown included, in the mailbox.
function M.start_blocked(name)
  say(name, " start blocks")
  hl.receive(function() return false end)
end

-- start_link after ms milliseconds (a start that takes its time).
function M.start_slowly(name, ms)
  say(name, " start waits")
  hl.sleep(ms)
  return M.start_link(name)
end

-- A main process that sends the command's host (the process it is linked
-- to) a forged {"EXIT", itself, "forged"}, then waits to be stopped.
function M.forge_exit()
  local host = hl.process_info(hl.self()).links[1]
  hl.send(host, { "EXIT", hl.self(), "forged" })
  say("forged")
  hl.receive()
end

return M
