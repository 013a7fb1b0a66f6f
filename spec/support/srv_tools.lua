-- spec/support/srv_tools.lua — process bodies for server_spec.lua: callers
-- that report to the host, a restarter that plays supervisor, a parent that
-- starts a linked server and shuts it down.
local hl = require("heirloom")
local drain = require("hlspec").drain
local M = {}

-- Calls and reports {"result", tag, ok, value_or_error}.
function M.caller(host, tag, dest, req, timeout)
  local ok, v = pcall(hl.server.call, dest, req, timeout)
  hl.send(host, { "result", tag, ok, v })
end

-- call_retry, reporting {"result", tag, ok, value_or_error, elapsed_ms}.
function M.retrier(host, tag, dest, req, opts)
  local t0 = hl.now()
  local ok, v = pcall(hl.server.call_retry, dest, req, opts)
  hl.send(host, { "result", tag, ok, v, hl.now() - t0 })
end

-- Calls with a timeout and reports {"timed_out", tag, ok, kind}; then, told
-- "drain", makes one more call (so that the server has answered the first
-- by then) and reports what sits in its own mailbox:
-- {"mailbox", tag, messages}.
function M.late_reply_caller(host, tag, dest, req, timeout)
  local ok, v = pcall(hl.server.call, dest, req, timeout)
  hl.send(host, { "timed_out", tag, ok, ok and v or v.kind })
  hl.receive(function(m) return m == "drain" end)
  hl.server.call(dest, { "get" })
  hl.send(host, { "mailbox", tag, drain() })
end

-- Keeps a server registered as `name` running: starts it linked (trapping
-- exits) and starts it again `delay` ms after each exit, telling the host
-- {"started", pid, count} each time. Stops on "stop".
function M.restarter(host, module, name, args, delay)
  hl.trap_exit(true)
  local count = 0
  while true do
    local pid, why = hl.server.start_link(module, args, { name = name })
    count = count + 1
    hl.send(host, { "started", pid, count, why })
    while true do
      local m = hl.receive()
      if m == "stop" then return end
      if type(m) == "table" and m[1] == "EXIT" and m[2] == pid then break end
    end
    if delay and delay > 0 then hl.sleep(delay) end
  end
end

-- Starts a linked server, reports {"child", pid}, then on {"shutdown", r}
-- sends the server an exit signal r as a supervisor does, or on
-- {"die", r} exits itself with reason r.
function M.parent(host, module, args, trap)
  if trap then hl.trap_exit(true) end
  local pid, why = hl.server.start_link(module, args)
  hl.send(host, { "child", pid, why })
  while true do
    local m = hl.receive()
    if type(m) == "table" and m[1] == "shutdown" then hl.exit(pid, m[2])
    elseif type(m) == "table" and m[1] == "die" then hl.exit(m[2])
    elseif type(m) == "table" and m[1] == "EXIT" then hl.send(host, { "parent_got", m }) end
  end
end

-- Sleeps `delay` ms, then starts an unlinked server registered as name and
-- reports {"started", pid}.
function M.delayed_start(host, module, name, args, delay)
  hl.sleep(delay)
  local pid, why = hl.server.start(module, args, { name = name })
  hl.send(host, { "started", pid, why })
end

-- n calls {"sleep", ms, i} with the given timeout, racing replies against
-- timeouts. Reports {"race", tag, oks, timeouts, wrong, leftovers}: wrong
-- counts replies that answered another call than the one made; leftovers
-- is what sits in the mailbox afterwards.
function M.race_caller(host, tag, dest, n, ms, timeout)
  local oks, timeouts, wrong = 0, 0, 0
  for i = 1, n do
    local ok, v = pcall(hl.server.call, dest, { "sleep", ms, tag * 100000 + i }, timeout)
    if ok then
      oks = oks + 1
      if v ~= tag * 100000 + i then wrong = wrong + 1 end
    elseif v.kind == "timeout" then
      timeouts = timeouts + 1
    else
      error(v)
    end
  end
  hl.sleep(ms * 4 + 50)
  hl.send(host, { "race", tag, oks, timeouts, wrong, drain() })
end

-- start_link from a process that does not trap exits, reporting the result.
function M.starter(host, module, args, opts)
  local pid, why = hl.server.start_link(module, args, opts)
  hl.send(host, { "started", pid, why })
  hl.receive()
end

return M
