-- spec/support/sup_worker.lua — children for the supervisor specs. The
-- start functions run inside the supervisor process (OTP's start_link
-- contract: return a pid linked to the caller, or nil and a reason, or
-- raise); the bodies run in the children. Every child tells `to` (the
-- spec's host pid) what happens to it, so the specs can assert order.
local hl = require("heirloom")
local M = {}

-- The child's body. opts: trap (trap exits and report the shutdown
-- signal before exiting with its reason), stubborn (trap and ignore
-- shutdown signals: only a kill ends it).
function M.body(to, id, opts, starter)
  opts = opts or {}
  if opts.trap or opts.stubborn then hl.trap_exit(true) end
  if starter ~= nil then hl.send(starter, { "init_ack", hl.self() }) end
  hl.send(to, { "started", id, hl.self() })
  while true do
    local m = hl.receive()
    if type(m) == "table" then
      if m[1] == "EXIT" and not opts.stubborn then
        hl.send(to, { "stopping", id, m[3] })
        hl.exit(m[3])
      elseif m[1] == "EXIT" then
        hl.send(to, { "ignored", id, m[3] })
      elseif m[1] == "crash" then
        error(m[2], 0)
      elseif m[1] == "exit" then
        hl.exit(m[2])
      elseif m[1] == "ping" then
        hl.send(m[2], { "pong", id, hl.self() })
      end
    elseif m == "stop" then
      return          -- a normal exit
    end
  end
end

-- A start function: a linked child running body. Like OTP's start_link it
-- returns once the child has initialised (here: set its trap_exit flag), so
-- a shutdown signal can never overtake the child's set-up.
function M.start_link(to, id, opts)
  local pid, ref = hl.spawn_opt({ link = true, monitor = true }, "sup_worker", "body", to, id, opts,
                                hl.self())
  local m = hl.receive(function(m)
    return type(m) == "table" and ((m[1] == "init_ack" and m[2] == pid) or (m[1] == "DOWN" and m[2] == ref))
  end)
  hl.demonitor(ref)
  hl.receive(function(d) return type(d) == "table" and d[1] == "DOWN" and d[2] == ref end, 0)
  if m[1] == "DOWN" then return nil, m[4] end
  return pid
end

-- Start functions that fail in each way the contract allows, and one that
-- breaks it. Each tells `to` it was called.
function M.fail_start(to, id, reason)
  hl.send(to, { "start_called", id })
  return nil, reason
end

function M.raise_start(to, id, msg)
  hl.send(to, { "start_called", id })
  error(msg, 0)
end

function M.bad_return(to, id)
  hl.send(to, { "start_called", id })
  return 42
end

-- Fails once a counter table (shared through the node, by name) says so:
-- starts normally while the table holds {"fail", false}.
function M.start_unless_told(to, id, tabname)
  local t = hl.table.whereis(tabname)
  local row = t and t:lookup("fail")[1]
  if row and row[2] then
    hl.send(to, { "start_called", id })
    return nil, "told to fail"
  end
  return M.start_link(to, id)
end

-- A start function that holds its supervisor until it is sent "go": it
-- tells `to` its supervisor is busy, then starts the child as start_link.
function M.start_when_told(to, id)
  hl.send(to, { "start_called", id })
  hl.receive(function(m) return m == "go" end)
  return M.start_link(to, id)
end

-- A start function that returns a pid it did not link to (the supervisor
-- links it anyway).
function M.start_unlinked(to, id)
  return hl.spawn("sup_worker", "body", to, id)
end

-- A start function whose child exits normally at once.
function M.start_brief(to, id)
  return hl.spawn_link("sup_worker", "brief", to, id)
end

function M.brief(to, id)
  hl.send(to, { "started", id, hl.self() })
end

return M
