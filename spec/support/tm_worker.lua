-- spec/support/tm_worker.lua — plain processes for spec/tablemgr_spec.lua:
-- callers that keep calling a client while it is being killed, and callers
-- that die while the manager hands them a table.
local hl = require("heirloom")
local tm = require("heirloom.tablemgr")
local M = {}

local WAIT = { timeout = 2000, retry_for = 3000 }

-- Increments the counter of client `name` with sequence numbers 1, 2, ...
-- until it receives "stop", each until it is acknowledged (the client
-- applies a sequence number at most once). Reports
-- {"incr_done", acked, last_value, errors, failed}.
function M.incr_loop(report, name)
  local acked, last, errors, failed = 0, 0, 0, 0
  local seq = 0
  while hl.receive(function(m) return m == "stop" end, 0) == nil do
    seq = seq + 1
    local done = false
    for _ = 1, 20 do
      local ok, v = pcall(hl.server.call_retry, name, { "incr", seq }, WAIT)
      if ok then
        acked, last, done = acked + 1, v, true
        break
      end
      errors = errors + 1
    end
    if not done then failed = failed + 1; break end
  end
  hl.send(report, { "incr_done", acked, last, errors, failed })
end

-- Sends n store / load / delete requests to client `name` with call_retry,
-- one at a time, and reports each outcome and how long it took:
-- {"ops_done", { {op, key, value, ok, result_or_message, kind, ms}, ... }}.
function M.ops_stream(report, name, n, wait)
  local out = {}
  local kinds = { "store", "load", "delete" }
  for i = 1, n do
    local op, key = kinds[i % 3 + 1], "k" .. (i % 7)
    local req = { op, key }
    if op == "store" then req[3] = i end
    local t0 = hl.now()
    local ok, r = pcall(hl.server.call_retry, name, req, wait or WAIT)
    local ms = hl.now() - t0
    if ok then
      out[i] = { op, key, req[3] or false, true, r, false, ms }
    else
      out[i] = { op, key, req[3] or false, false, tostring(r), type(r) == "table" and r.kind or "?", ms }
    end
  end
  hl.send(report, { "ops_done", out })
end

-- Asks the manager for a table with a raw call and exits at once, before
-- the manager can answer: the manager finds its caller dead when it hands
-- the table over.
function M.call_and_vanish(mgr, name, topts)
  local pid = hl.whereis(mgr)
  hl.send(pid, { "$call", { hl.self(), hl.alias() }, { "manage", name, topts or {} } })
end

-- Gets the table, writes to it, then dies: how = "error" (an ordinary
-- error), "exit" (hl.exit with a reason) or "return" (a normal exit).
function M.manage_and_die(report, mgr, name, value, how)
  local t = tm.manage(name, {}, mgr)
  t:insert({ "k", value })
  hl.send(report, { "got", hl.self(), t })
  if how == "error" then error("client failed", 0) end
  if how == "exit" then hl.exit("bad_state") end
end

-- Gets the table, tells the host, and waits to be killed.
function M.manage_and_wait(report, mgr, name, topts)
  local ok, t = pcall(tm.manage, name, topts or {}, mgr)
  hl.send(report, { "managed", hl.self(), ok, t })
  hl.receive()
end

return M
