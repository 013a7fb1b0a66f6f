-- spec/support/srv_basic.lua — a server module for server_spec.lua whose
-- behaviour each request chooses. Every callback that matters tells the
-- observer (args.observer) what happened, so the spec can check the order
-- of events.
local hl = require("heirloom")
local drain = require("hlspec").drain
local M = {}

local function tell(state, msg)
  if state.observer then hl.send(state.observer, msg) end
end

-- args: {observer = pid, trap = bool, mode = "ok"|"error"|"stop"|"ignore"|
-- "bad"|"sleep"|"exit", reason = x, ms = n, timeout = n, n = start value}
function M.init(args)
  args = args or {}
  if args.trap then hl.trap_exit(true) end
  local state = { n = args.n or 0, observer = args.observer }
  tell(state, { "init", hl.self() })
  local mode = args.mode or "ok"
  if mode == "error" then error("init failed on purpose", 0) end
  if mode == "stop" then return "stop", args.reason end
  if mode == "ignore" then return "ignore" end
  if mode == "bad" then return "fine, thanks" end
  if mode == "exit" then hl.exit(args.reason) end
  if mode == "sleep" then
    hl.sleep(args.ms)
    tell(state, { "init_done" })
  end
  if args.timeout then return "ok", state, args.timeout end
  return "ok", state
end

function M.handle_call(req, from, state)
  local op = req[1]
  if op == "get" then return "reply", state.n, state
  elseif op == "add" then
    state.n = state.n + req[2]
    tell(state, { "added", req[2], state.n })
    return "reply", state.n, state
  elseif op == "echo" then return "reply", req[2], state
  elseif op == "unsendable" then return "reply", print, state   -- a reply that cannot be sent
  elseif op == "from" then return "reply", from, state
  elseif op == "sleep" then
    state.n = state.n + 1                 -- counts executions
    hl.sleep(req[2])
    return "reply", req[3], state
  elseif op == "block" then                -- replies only once sent "go"
    state.n = state.n + 1                 -- counts executions
    hl.receive(function(m) return m == "go" end)
    return "reply", req[2], state
  elseif op == "later" then
    state.pending = from
    tell(state, { "pending" })
    return "noreply", state
  elseif op == "release" then
    hl.server.reply(state.pending, req[2])
    state.pending = nil
    return "reply", "released", state
  elseif op == "delegate" then            -- another process replies
    hl.spawn(function(f, v, ms)
      local h = require("heirloom")
      h.sleep(ms)
      h.server.reply(f, v)
    end, from, req[2], req[3] or 0)
    return "noreply", state
  elseif op == "stop_reply" then return "stop", req[2], req[3], state
  elseif op == "stop_noreply" then return "stop", req[2], state
  elseif op == "crash" then
    tell(state, { "crashing", req[2] })
    error(req[2], 0)
  elseif op == "fail_terminate" then
    state.fail_terminate = true
    return "reply", true, state
  elseif op == "exit_after" then          -- exits while the caller waits
    tell(state, { "exiting", req[2] })
    hl.exit(req[2])
  elseif op == "bad" then return "nonsense", state
  elseif op == "bad_timeout" then return "reply", 1, state, -5
  elseif op == "timeout" then return "reply", "armed", state, req[2]
  elseif op == "call" then                -- a call from inside a server
    local ok, v = pcall(hl.server.call, req[2], req[3], req[4])
    if ok then return "reply", { true, v }, state end
    return "reply", { false, v.kind, tostring(v) }, state
  elseif op == "drain" then               -- what sits in this server's mailbox
    if req[2] then hl.sleep(req[2]) end
    return "reply", drain(), state
  elseif op == "state" then return "reply", { n = state.n, pending = state.pending ~= nil }, state
  end
  return "reply", { "unknown", op }, state
end

function M.handle_cast(msg, state)
  local op = msg[1]
  if op == "add" then
    state.n = state.n + msg[2]
    tell(state, { "cast_added", state.n })
    return "noreply", state
  elseif op == "crash" then error(msg[2], 0)
  elseif op == "stop" then return "stop", msg[2], state
  elseif op == "timeout" then return "noreply", state, msg[2]
  elseif op == "bad" then return "reply", 1, state
  end
  return "noreply", state
end

function M.handle_info(msg, state)
  if msg == "timeout" then
    tell(state, { "timeout", state.n })
    return "noreply", state
  end
  tell(state, { "info", msg })
  if type(msg) == "table" and msg[1] == "stop" then return "stop", msg[2], state end
  if type(msg) == "table" and msg[1] == "timeout" then return "noreply", state, msg[2] end
  return "noreply", state
end

function M.terminate(reason, state)
  tell(state, { "terminate", reason, state.n })
  if state.fail_terminate then error("terminate failed", 0) end
end

return M
