-- lua/heirloom/supervisor.lua — hl.supervisor: OTP-style supervisors.
--
-- A supervisor is a process that traps exits and runs the loop below. Its
-- state and its decisions live in C (src/procs/supervisor.c, reached through
-- hl._supervisor_core): the validated spec, the children in start order,
-- the restart-intensity window, and which children a strategy stops and
-- starts. This file carries the decisions out: it calls start functions,
-- sends shutdown and kill signals, waits for the children to go, answers
-- requests and writes reports. See docs/supervisor.md.
local hl = require("heirloom")
local proto = require("heirloom.server_proto")
local C = hl._supervisor_core

local M = {}

-- Requests are hl.server's calls ({proto.CALL, {caller, alias}, {op, arg}},
-- made by its request function) answered with {status, value}: one
-- request/reply exchange, with its monitor, alias and timeout, for both
-- behaviours. The supervisor trusts what the node says about who sent a
-- message, not what the message says: a call is taken only from the pid
-- it names, an EXIT only from the node itself. Private message tags:
local ACK, RETRY = "$sup_ack", "$sup_retry"

local function is_pid(v) return hl.kind(v) == "pid" end

local function tagged(tag, second)
  return function(m)
    return type(m) == "table" and m[1] == tag and m[2] == second
  end
end

-- Sends msg; a value in it that cannot travel (a function in a reason
-- returned by a start function, say) is sent as its tostring instead.
local function send_safely(to, msg)
  if not pcall(hl.send, to, msg) then
    for i = 3, #msg do
      if C.check_term(msg[i], "") ~= nil then msg[i] = tostring(msg[i]) end
    end
    pcall(hl.send, to, msg)
  end
end

-- ---------------------------------------------------------------- reports

local function child_label(c)
  local who = c.id ~= nil and ('"' .. c.id .. '"') or "(simple_one_for_one)"
  if c.pid ~= nil then who = who .. " " .. tostring(c.pid) end
  return who
end

-- Progress is news (info); the rest is trouble (error).
local function report(st, kind, text, reason)
  local head = ("=%s REPORT==== %s: %s"):format(kind, st.label, text)
  if reason ~= nil then head = head .. ", reason: " end
  C.report(kind == "PROGRESS" and "info" or "error", head, reason)
end

-- Whether the node wrote a crash report of an exit with this reason: all
-- but "normal" and "shutdown" (proc.c). Such a reason is said once, there.
local function crash_reported(reason)
  return reason ~= "normal" and reason ~= "shutdown"
end

-- ---------------------------------------------------------------- starting

local function traceback(e)
  return { error = e, traceback = debug.traceback(nil, 2) }
end

-- Calls require(module)[fname](args...) here, in the supervisor. Returns
-- the child's pid, or nil and the reason it did not start.
local function call_start(start)
  local module, fname = start[1], start[2]
  local ok, mod = pcall(require, module)
  if not ok then
    return nil, { error = ("cannot load module '%s': %s"):format(module, tostring(mod)) }
  end
  local f = type(mod) == "table" and mod[fname] or nil
  if type(f) ~= "function" then
    return nil, { error = ("module '%s' has no function '%s'"):format(module, fname) }
  end
  local done, pid, reason = xpcall(f, traceback, table.unpack(start, 3, #start))
  if not done then return nil, pid end
  if is_pid(pid) then return pid end
  if pid == nil then
    return nil, reason == nil and { error = ("%s.%s returned nil"):format(module, fname) } or reason
  end
  return nil, { error = ("%s.%s returned a %s, expected a pid (or nil, reason)")
                          :format(module, fname, type(pid)) }
end

-- Starts the child `key`; its pid, or nil and the reason. The reason
-- "ignore" (OTP's ignore) is no failure: the child is simply not running.
local function start_one(st, key)
  local c = st.core:child(key)
  local pid, reason = call_start(c.start)
  if pid == nil and reason == "ignore" then return nil, reason end
  if pid == nil then
    report(st, "SUPERVISOR", ("child %s failed to start"):format(child_label(c)), reason)
    return nil, reason
  end
  hl.link(pid)               -- the contract asks for a link: make sure of it
  st.core:set_pid(key, pid)
  c.pid = pid
  report(st, "PROGRESS", ("child %s started"):format(child_label(c)))
  return pid
end

-- ---------------------------------------------------------------- stopping

local function down_of(ref)
  return function(m) return type(m) == "table" and m[1] == "DOWN" and m[2] == ref end
end

-- Unlinks pid and takes its EXIT if one came: the EXIT's reason is the
-- child's own (a DOWN says "noproc" when the child had gone before the
-- monitor was set). The EXIT, if any, came before the DOWN.
local function unlink_flush(pid, reason)
  hl.unlink(pid)
  local exit_of = tagged("EXIT", pid)
  local m = hl.receive_with_sender(function(x, sender) return sender == nil and exit_of(x) end, 0)
  return m ~= nil and m[3] or reason
end

local function is_shutdown(reason)
  return reason == "shutdown" or (type(reason) == "table" and reason[1] == "shutdown")
end

-- Stops the running child `key` as OTP does: brutal_kill kills at once;
-- otherwise a "shutdown" exit signal, and a kill once `shutdown` ms have
-- passed. A reason other than the expected one is reported.
local function shutdown_one(st, key)
  local c = st.core:child(key)
  if c == nil or c.pid == nil then return end
  local pid = c.pid
  local ref = hl.monitor(pid)
  local reason, ok
  if c.shutdown == "brutal_kill" then
    hl.exit(pid, "kill")
    reason = unlink_flush(pid, hl.receive(down_of(ref))[4])
    ok = reason == "killed"
  else
    hl.exit(pid, "shutdown")
    local m = hl.receive(down_of(ref), c.shutdown ~= "infinity" and c.shutdown or nil)
    if m ~= nil then
      reason = unlink_flush(pid, m[4])
      ok = reason == "shutdown" or (is_shutdown(reason) and c.restart ~= "permanent")
    else
      hl.exit(pid, "kill")
      reason = unlink_flush(pid, hl.receive(down_of(ref))[4])
      ok = false
    end
  end
  if not ok then
    report(st, "SUPERVISOR", ("child %s shutdown error"):format(child_label(c)), reason)
  end
end

-- Every running child, right to left.
local function terminate_all(st)
  for _, key in ipairs(st.core:shutdown_order()) do
    shutdown_one(st, key)
    st.core:stopped(key)
  end
end

local function give_up(st)
  local _, intensity, period_ms = st.core:info()
  report(st, "SUPERVISOR", ("restart intensity reached (more than %d restarts within %d ms), "
                            .. "shutting down"):format(intensity, period_ms))
  terminate_all(st)
  hl.exit("shutdown")
end

-- ---------------------------------------------------------------- restarting

-- Carries out a plan: stop (right to left), then start (left to right).
-- A start that fails counts as one more restart and is tried again later,
-- through a message to ourselves, so that requests are answered meanwhile.
local function carry_out(st, stops, starts)
  for _, key in ipairs(stops) do
    shutdown_one(st, key)
    st.core:stopped(key)
  end
  for _, key in ipairs(starts) do
    local c = st.core:child(key)
    local pid, reason
    if c ~= nil and c.pid == nil then pid, reason = start_one(st, key) end
    if c ~= nil and pid == nil and reason ~= "ignore" then
      if not st.core:record_restart(C.now()) then give_up(st) end
      st.restarting[key] = true
      hl.send(st.self, { RETRY, key })
      return
    end
  end
end

-- A retry is dropped if a request has dealt with the child meanwhile.
local function retry(st, key)
  if not st.restarting[key] then return end
  st.restarting[key] = nil
  local c = st.core:child(key)
  if c ~= nil and c.pid == nil then carry_out(st, st.core:plan(key)) end
end

local function child_exit(st, from, reason)
  local key = st.core:find(from)
  local c = key and st.core:child(key)
  local action, _, report_it, stops, starts = st.core:exit(from, reason, C.now())
  if action == "unknown" then return end
  if report_it then
    if crash_reported(reason) then
      report(st, "SUPERVISOR", ("child %s terminated (its crash report has the reason)")
        :format(child_label(c)))
    else
      report(st, "SUPERVISOR", ("child %s terminated"):format(child_label(c)), reason)
    end
  end
  if action == "restart" then carry_out(st, stops, starts)
  elseif action == "give_up" then give_up(st) end
end

-- ---------------------------------------------------------------- requests

local requests = {}

function requests.which_children(st)
  return "ok", st.core:which()
end

function requests.count_children(st)
  return "ok", st.core:count()
end

function requests.start_child(st, arg)
  local ok, key, why, holder
  if st.strategy == "simple_one_for_one" then
    ok, key = pcall(st.core.add_dynamic, st.core, arg, "start_child")
  else
    ok, key, why, holder = pcall(st.core.add, st.core, arg, "start_child")
  end
  if not ok then return "badarg", key end
  if key == nil then
    return "error", why == "already_started" and { why, holder } or why
  end
  local pid, reason = start_one(st, key)
  if pid == nil then
    -- an ignored static child keeps its spec, as in OTP
    if reason ~= "ignore" or st.strategy == "simple_one_for_one" then st.core:remove(key) end
    return "error", reason
  end
  return "ok", pid
end

-- The key of the child named by arg: an id, or for simple_one_for_one a pid.
local function lookup(st, arg)
  if st.strategy == "simple_one_for_one" then
    return is_pid(arg) and st.core:find(arg) or nil
  end
  return type(arg) == "string" and st.core:find(arg) or nil
end

function requests.terminate_child(st, arg)
  local key = lookup(st, arg)
  if key == nil then return "error", "not_found" end
  st.restarting[key] = nil
  shutdown_one(st, key)
  st.core:stopped(key)
  return "ok", true
end

function requests.restart_child(st, id)
  if st.strategy == "simple_one_for_one" then return "error", "simple_one_for_one" end
  local key = lookup(st, id)
  if key == nil then return "error", "not_found" end
  if st.core:child(key).pid ~= nil then return "error", "running" end
  st.restarting[key] = nil
  local pid, reason = start_one(st, key)
  if pid == nil then return "error", reason end
  return "ok", pid
end

function requests.delete_child(st, id)
  if st.strategy == "simple_one_for_one" then return "error", "simple_one_for_one" end
  local key = lookup(st, id)
  if key == nil then return "error", "not_found" end
  if st.core:child(key).pid ~= nil then return "error", "running" end
  st.restarting[key] = nil
  st.core:remove(key)
  return "ok", true
end

-- Replies to a call; a value that cannot travel (a function in a reason
-- returned by a start function, say) is sent as its tostring instead.
local function answer(from, status, value)
  if not pcall(proto.reply, from, { status, value }) then
    pcall(proto.reply, from, { status, tostring(value) })
  end
end

local function handle_call(st, m, sender)
  local from = type(m[2]) == "table" and proto.from_of(m, sender)
  if not from or type(m[3]) ~= "table" then return end   -- forged or malformed: no answer
  local op, arg = m[3][1], m[3][2]
  if op == "stop" then
    terminate_all(st)
    answer(from, "ok", true)
    hl.exit("normal")
  end
  local handler = requests[op]
  if handler == nil then return end
  answer(from, handler(st, arg))
end

-- ---------------------------------------------------------------- the process

local function loop(st)
  while true do
    local m, sender = hl.receive_with_sender()
    if type(m) == "table" then
      local tag = m[1]
      if tag == "EXIT" and sender == nil then
        if m[2] == st.parent then
          terminate_all(st)
          hl.exit(m[3])
        end
        child_exit(st, m[2], m[3])
      elseif tag == proto.CALL then
        handle_call(st, m, sender)
      elseif tag == RETRY and sender == st.self then
        retry(st, m[2])
      end
    end
  end
end

-- Start failed: nothing of ours is left running; tell the caller, without
-- an exit signal to it.
local function init_failed(st, reason)
  hl.unlink(st.parent)
  send_safely(st.parent, { ACK, st.self, false, reason })
end

-- The supervisor's body (spawned by start_link).
function M._run(spec, parent)
  -- restarting: the keys of children whose restart failed and will be tried again
  local st = { parent = parent, self = hl.self(), name = spec.name, restarting = {} }
  st.core = C.new(spec, "start_link")
  st.strategy = st.core:info()
  st.label = "supervisor " .. tostring(st.self) .. (spec.name and (' "' .. spec.name .. '"') or "")
  if spec.name ~= nil and not pcall(hl.register, spec.name, st.self) then
    return init_failed(st, { "already_started", hl.whereis(spec.name) })
  end
  for _, key in ipairs(st.core:keys()) do
    local pid, reason = start_one(st, key)
    if pid == nil and reason ~= "ignore" then
      local id = st.core:child(key).id
      terminate_all(st)
      return init_failed(st, { "failed_to_start_child", id, reason })
    end
  end
  send_safely(parent, { ACK, st.self, true })
  loop(st)
end

-- ---------------------------------------------------------------- the API

local function flush_down(ref)
  hl.demonitor(ref)
  hl.receive(down_of(ref), 0)
end

function M.start_link(spec)
  local valid, why = pcall(C.new, spec, "start_link")
  if not valid then error(why, 2) end       -- a bad spec is the caller's error, now
  local pid, ref = hl.spawn_opt({ link = true, monitor = true, trap_exit = true },
                                "heirloom.supervisor", "_run", spec, hl.self())
  local m = hl.receive_with_sender(function(m, sender)
    return type(m) == "table" and ((m[1] == ACK and m[2] == pid and sender == pid) or
      (m[1] == "DOWN" and m[2] == ref))
  end)
  flush_down(ref)
  if m[1] == "DOWN" then return nil, m[4] end
  if m[3] then return pid end
  return nil, m[4]
end

-- A start function for plain process bodies:
-- start = { "heirloom.supervisor", "spawn_link", module, fname, args... }
function M.spawn_link(module, fname, ...)
  return hl.spawn_link(module, fname, ...)
end

local function show(v)
  if type(v) == "string" then return v end
  if type(v) == "table" and v.error ~= nil then return tostring(v.error) end
  return tostring(v)
end

-- The statuses of a supervisor's answers: anything else came from a
-- process that is not a supervisor (a server, say).
local ANSWERS = { ok = true, error = true, badarg = true }

-- Sends a request to the supervisor `sup` (a pid or a registered name)
-- through hl.server's call, and waits for the answer, for the supervisor's
-- end, or until timeout (milliseconds or "infinity", the default) has
-- passed; a late answer is dropped. The API functions tail-call it, so
-- level 2 of its errors is the user's call.
local function call(fname, sup, op, arg, timeout)
  local pid = sup
  if type(sup) == "string" then
    pid = hl.whereis(sup)
    if pid == nil then
      error(("heirloom.supervisor.%s: no process is registered as '%s'"):format(fname, sup), 2)
    end
  elseif not is_pid(sup) then
    error(("heirloom.supervisor.%s: sup must be a pid or a registered name (got %s)")
          :format(fname, type(sup)), 2)
  end
  if pid == hl.self() then   -- it would wait for its own answer for ever (OTP: calling_self)
    error(("heirloom.supervisor.%s: calling_self: a process cannot call itself (%s)")
          :format(fname, tostring(sup)), 2)
  end
  if timeout == "infinity" then
    timeout = nil
  elseif timeout ~= nil and (math.type(timeout) ~= "integer" or timeout < 0) then
    error(("heirloom.supervisor.%s: timeout must be a non-negative integer of milliseconds or "
           .. "\"infinity\" (got %s)"):format(fname, proto.show(timeout)), 2)
  end
  local status, r = hl.server._request(pid, { op, arg }, timeout)
  if status == "noproc" then
    error(("heirloom.supervisor.%s: the supervisor %s is not alive"):format(fname, tostring(pid)), 2)
  elseif status == "timeout" then
    error(("heirloom.supervisor.%s: timeout: the supervisor %s did not answer within %d ms")
          :format(fname, tostring(pid), timeout), 2)
  elseif status == "exit" then
    error(("heirloom.supervisor.%s: the supervisor %s exited during the call (%s)")
          :format(fname, tostring(pid), show(r)), 2)
  elseif status ~= "ok" or type(r) ~= "table" or not ANSWERS[r[1]] then
    error(("heirloom.supervisor.%s: %s is not a supervisor (it answered %s)")
          :format(fname, tostring(pid), proto.show(r)), 2)
  end
  if r[1] == "badarg" then error(r[2], 2) end
  if r[1] == "ok" then return r[2] end
  return nil, r[2]
end

local function child_arg(fname, arg)
  if type(arg) ~= "string" and not is_pid(arg) then
    error(("heirloom.supervisor.%s: id must be a child's id (a string), or a pid for a "
           .. "simple_one_for_one supervisor (got %s)"):format(fname, type(arg)), 3)
  end
  return arg
end

-- Each call takes an optional last argument, timeout: milliseconds, or
-- "infinity" (the default, as in OTP).
function M.start_child(sup, spec_or_args, timeout)
  if type(spec_or_args) ~= "table" and spec_or_args ~= nil then
    error(("heirloom.supervisor.start_child: spec must be a child spec, or an array of extra "
           .. "arguments for a simple_one_for_one supervisor (got %s)"):format(type(spec_or_args)), 2)
  end
  local why = C.check_term(spec_or_args, "spec")
  if why ~= nil then error("heirloom.supervisor.start_child: " .. why, 2) end
  return call("start_child", sup, "start_child", spec_or_args, timeout)
end

function M.terminate_child(sup, id, timeout)
  return call("terminate_child", sup, "terminate_child", child_arg("terminate_child", id), timeout)
end

function M.restart_child(sup, id, timeout)
  return call("restart_child", sup, "restart_child", child_arg("restart_child", id), timeout)
end

function M.delete_child(sup, id, timeout)
  return call("delete_child", sup, "delete_child", child_arg("delete_child", id), timeout)
end

function M.which_children(sup, timeout)
  return call("which_children", sup, "which_children", nil, timeout)
end

function M.count_children(sup, timeout)
  return call("count_children", sup, "count_children", nil, timeout)
end

-- Stops a supervisor that has no supervisor above it: its children are
-- shut down right to left, then it exits with reason "normal".
function M.stop(sup, timeout)
  return call("stop", sup, "stop", nil, timeout)
end

return M
