-- heirloom.server_loop — the body of a server process (the server
-- behaviour's other half is heirloom.server, the callers' side; see
-- docs/server.md): init and the acknowledgement to the starter, then the
-- loop that runs the module's callbacks, and terminate as in OTP. A
-- process spawned for every server and every restart loads this module,
-- so it holds nothing else.
local hl = require("heirloom")
local proto = require("heirloom.server_proto")

local M = {}

local CALL, CAST, STOP, ACK = proto.CALL, proto.CAST, proto.STOP, proto.ACK
local show = proto.show

local function traceback(e)
  return { error = e, traceback = debug.traceback(nil, 2) }
end

local function bad_return(modname, cb, expected, ...)
  local got = {}
  for i = 1, select("#", ...) do got[i] = show((select(i, ...))) end
  return { error = ("heirloom.server: %s.%s returned (%s); expected %s"):format(modname, cb,
    table.concat(got, ", "), expected) }
end

local function valid_timeout(t)
  return t == nil or (math.type(t) == "integer" and t >= 0)
end

-- Exits with reason: a return for "normal", hl.exit otherwise.
local function exit_with(reason)
  if reason == "normal" then return end
  local ok, why = pcall(hl.exit, reason)
  if not ok and not tostring(why):find("process is exiting", 1, true) then
    hl.exit({ error = "heirloom.server: the exit reason cannot be sent: " .. tostring(why),
      reason = show(reason) })
  end
end

-- Runs terminate, if the module has one; its failure replaces the reason.
local function terminate(mod, reason, state)
  if type(mod.terminate) ~= "function" then return reason end
  local ok, e = xpcall(mod.terminate, traceback, reason, state)
  if not ok then return e end
  return reason
end

local CALL_RETURNS = '"reply", value, state [, timeout] | "noreply", state [, timeout] | ' ..
  '"stop", reason, state | "stop", reason, reply, state'
local OTHER_RETURNS = '"noreply", state [, timeout] | "stop", reason, state'

-- Interprets a callback's results: "reply", value, state, timeout;
-- "continue", state, timeout; "stop", reason, state, has_reply, reply;
-- "crash", reason (the callback failed or returned something else).
local function outcome(modname, cb, is_call, ok, ...)
  if not ok then return "crash", (...) end
  local n = select("#", ...)
  local verb, a, b, c = ...
  local expected = is_call and CALL_RETURNS or OTHER_RETURNS
  if is_call and verb == "reply" and (n == 3 or n == 4) and valid_timeout(c) then
    return "reply", a, b, c
  elseif verb == "noreply" and (n == 2 or n == 3) and valid_timeout(b) then
    return "continue", a, b
  elseif verb == "stop" and n == 3 then
    return "stop", a, b, false
  elseif is_call and verb == "stop" and n == 4 then
    return "stop", a, c, true, b
  end
  return "crash", bad_return(modname, cb, expected, ...)
end

-- A reply that cannot be sent (a function in it) is the callback's
-- error, raised as such.
local reply, from_of = proto.reply, proto.from_of

local function missing(modname, cb)
  return function()
    error(("heirloom.server: module '%s' has no %s"):format(modname, cb), 0)
  end
end

-- The body of a server process, spawned by heirloom.server's start and
-- start_link. parent: the starter when linked, else false.
function M.boot(modname, args, parent, ack)
  local okm, mod = pcall(require, modname)
  if okm and type(mod) ~= "table" then
    okm, mod = false, ("module '%s' did not return a table"):format(modname)
  end
  local fail
  if not okm then
    fail = { error = "heirloom.server: cannot load module '" .. modname .. "': " .. tostring(mod) }
  elseif type(mod.init) ~= "function" then
    fail = { error = "heirloom.server: module '" .. modname .. "' has no init" }
  end
  local state, timeout
  if fail == nil then
    local r = table.pack(xpcall(mod.init, traceback, args))
    if not r[1] then
      fail = r[2]
    elseif r[2] == "ok" and (r.n == 3 or r.n == 4) and valid_timeout(r[4]) then
      state, timeout = r[3], r[4]
    elseif r[2] == "stop" and r.n == 3 then
      fail = r[3]
    elseif r[2] == "ignore" and r.n == 2 then
      fail = "ignore"
    else
      fail = bad_return(modname, "init", '"ok", state [, timeout] | "stop", reason | "ignore"',
        table.unpack(r, 2, r.n))
    end
  end
  if fail ~= nil then
    -- the starter learns of it from the ack: no exit signal on top
    if parent then hl.unlink(parent) end
    hl.send(ack, { ACK, ack, false, fail })
    return exit_with(fail == "ignore" and "normal" or fail)
  end
  hl.send(ack, { ACK, ack, true })

  local handle_call = mod.handle_call or missing(modname, "handle_call")
  local handle_cast = mod.handle_cast or missing(modname, "handle_cast")
  local handle_info = mod.handle_info or function(_, s) return "noreply", s end
  while true do
    local m, sender = hl.receive_with_sender(timeout)
    local what, a, b, c, d
    local from
    if m == nil then
      what, a, b = outcome(modname, "handle_info", false, xpcall(handle_info, traceback, "timeout", state))
    elseif type(m) == "table" and ((m[1] == CALL and type(m[2]) == "table" and
        hl.kind(m[2][2]) ~= nil) or (m[1] == proto.GEN_CALL and sender == nil)) then
      if m[1] == CALL then
        from = from_of(m, sender)
      else
        from = proto.gen_call_from(m, sender)   -- OTP's gen_server:call from another node
      end
      if from == nil then
        what, a, b = "continue", state, timeout
      else
        what, a, b, c, d = outcome(modname, "handle_call", true,
          xpcall(handle_call, traceback, m[3], from, state))
      end
    elseif type(m) == "table" and m[1] == proto.GEN_CAST and sender == nil then
      what, a, b = outcome(modname, "handle_cast", false, xpcall(handle_cast, traceback, m[2], state))
    elseif type(m) == "table" and m[1] == CAST then
      what, a, b = outcome(modname, "handle_cast", false, xpcall(handle_cast, traceback, m[2], state))
    elseif type(m) == "table" and m[1] == STOP then
      what, a, b = "stop", m[2], state
    elseif type(m) == "table" and m[1] == "EXIT" and parent and m[2] == parent and sender == nil then
      what, a, b = "stop", m[3], state      -- the supervisor's shutdown, while trapping
    else
      what, a, b = outcome(modname, "handle_info", false, xpcall(handle_info, traceback, m, state))
    end
    if what == "reply" then
      reply(from, a)
      state, timeout = b, c
    elseif what == "continue" then
      state, timeout = a, b
    elseif what == "crash" then
      return exit_with(terminate(mod, a, state))
    else                                    -- "stop", reason a, state b
      local reason = terminate(mod, a, b)
      if c then reply(from, d) end   -- after terminate, as in OTP
      return exit_with(reason)
    end
  end
end

return M
