-- heirloom.server — the server behaviour, after OTP's gen_server: a process
-- that keeps a state and runs a module's callbacks on the requests it gets.
-- Reached as hl.server. See docs/server.md for the contract. The server
-- process itself runs heirloom.server_loop, so that it loads only what it
-- runs: this module is the callers' half.
--
-- Wire format (reserved first elements, never seen by callbacks):
--   {"$call", from, request}   from = {caller pid, alias}; the server takes
--                              it only from that very caller (the node
--                              tells it who sent each message)
--   {"$reply", alias, value}   sent to the caller's alias
--   {"$cast", message}
--   {"$stop", reason}          hl.server.stop
--   {"$ack", alias, ok, reason} the end of init, to the starter's alias
-- A call sends its request to a pid it monitors and waits on an alias it
-- made for this call alone; it deactivates the alias before it returns or
-- raises, so a reply that comes too late is dropped by the node and never
-- reaches the caller's mailbox.
local hl = require("heirloom")
local proto = require("heirloom.server_proto")

local M = {}

local CALL, REPLY, CAST, STOP, ACK = proto.CALL, proto.REPLY, proto.CAST, proto.STOP, proto.ACK
local DEFAULT_TIMEOUT = 5000

-- ---------------------------------------------------------------- helpers

local show = proto.show

-- What a value is, for error messages: heirloom's kind or the Lua type.
local function kind_text(v)
  local kind = hl.kind(v)
  if kind == "table" then return "table handle" end
  return kind or type(v)
end

local function is_pid(v) return hl.kind(v) == "pid" end

-- {name, "node@host"}: a server registered on another node.
local function is_remote(dest)
  return type(dest) == "table" and #dest == 2 and type(dest[1]) == "string" and
    type(dest[2]) == "string"
end

local function check_dest(fname, dest, remote_ok)
  if remote_ok and is_remote(dest) then return end
  if type(dest) ~= "string" and not is_pid(dest) then
    error(("heirloom.server.%s: dest must be a pid or a registered name (got %s)%s")
      :format(fname, kind_text(dest), remote_ok and type(dest) == "table" and
        "; a server on another node is {name, \"node@host\"}" or ""), 3)
  end
  if type(dest) == "string" and dest == "" then
    error(("heirloom.server.%s: dest must be a non-empty name"):format(fname), 3)
  end
end

-- nil -> default; "infinity" -> nil (no timeout); else a non-negative integer.
local function check_timeout(fname, what, v, default)
  if v == nil then return default end
  if v == "infinity" then return nil end
  if math.type(v) ~= "integer" or v < 0 then
    error(("heirloom.server.%s: %s must be a non-negative integer of milliseconds or " ..
      "\"infinity\" (got %s)"):format(fname, what, show(v)), 3)
  end
  return v
end

-- An exit reason for a message, in full (it is what the caller must know):
-- a crash reason {error =, traceback =} by its error alone.
local function reason_text(r)
  if type(r) == "table" and r.error ~= nil and r.traceback ~= nil then return show(r.error, 0, true) end
  return show(r, 0, true)
end

local function dest_text(dest)
  if type(dest) == "string" then return string.format("%q", dest) end
  if is_remote(dest) then return string.format("{%q, %q}", dest[1], dest[2]) end
  return tostring(dest)
end

-- ---------------------------------------------------------------- call errors

-- The error a call raises: a table with kind, reason, dest, request and
-- message; tostring gives the message. Kinds:
--   "noproc"        the request was never sent: no live process to take it
--   "timeout"       sent, no reply within the timeout
--   "exit"          sent, the server exited before replying (reason: its exit reason)
--   "calling_self"  a process called itself
local CallError = {}
CallError.__index = CallError
CallError.__tostring = function(e) return e.message end
CallError.__name = "heirloom.server.error"

local function call_error(fname, kind, dest, request, reason, text)
  local e = setmetatable({ kind = kind, dest = dest, request = request, reason = reason }, CallError)
  e.message = ("heirloom.server.%s: %s: %s"):format(fname, kind, text)
  return e
end

local function raise(fname, kind, dest, request, reason, text)
  error(call_error(fname, kind, dest, request, reason, text), 0)
end

-- True if e is an error raised by call, stop or call_retry (of this kind,
-- when kind is given). Also true for one that crossed a process boundary
-- and lost its metatable.
function M.is_error(e, kind)
  if type(e) ~= "table" or type(e.kind) ~= "string" or type(e.message) ~= "string" or
      not e.message:find("^heirloom%.server%.") then
    return false
  end
  return kind == nil or e.kind == kind
end

-- ---------------------------------------------------------------- call, cast, reply

local function down_of(ref)
  return function(m) return type(m) == "table" and m[1] == "DOWN" and m[2] == ref end
end

local function reply_of(alias)
  return function(m) return type(m) == "table" and m[1] == REPLY and m[2] == alias end
end

-- Monitors pid; false (and no monitor left) if it was not alive. The DOWN
-- of a dead target is queued before monitor returns, so this tells "never
-- alive for us" (nothing was sent) from "died later" (a request may have
-- arrived) without any doubt.
local function watch(pid)
  local mref = hl.monitor(pid)
  if hl.receive(down_of(mref), 0) ~= nil then return nil end
  return mref
end

-- Ends a monitor; after this no DOWN for it is in the mailbox or can come.
local function unwatch(mref)
  hl.demonitor(mref)
  hl.receive(down_of(mref), 0)
end

-- The request/reply exchange with pid, the one behind every call of the
-- server behaviour and of heirloom.supervisor (timeout: ms, or nil for
-- none). Returns "ok", reply; or what went wrong: "calling_self";
-- "noproc" (nothing was sent); "timeout"; "exit", reason (pid exited
-- before replying). Nothing of the exchange is left in the mailbox.
local function request(pid, req, timeout)
  if pid == hl.self() then return "calling_self" end
  local mref = watch(pid)
  if mref == nil then return "noproc" end
  local alias = hl.alias()
  hl.send(pid, { CALL, { hl.self(), alias }, req })
  local m = hl.receive(function(x)
    return type(x) == "table" and ((x[1] == REPLY and x[2] == alias) or
      (x[1] == "DOWN" and x[2] == mref))
  end, timeout)
  hl.unalias(alias)                     -- from here on no reply can arrive
  if m ~= nil and m[1] == REPLY then
    unwatch(mref)
    return "ok", m[3]
  end
  if m == nil then                      -- timed out; a reply may have raced in
    unwatch(mref)
    local late = hl.receive(reply_of(alias), 0)
    if late ~= nil then return "ok", late[3] end
    return "timeout"
  end
  hl.receive(reply_of(alias), 0)        -- a reply sent by another process after the DOWN
  return "exit", m[4]
end
M._request = request                    -- for heirloom.supervisor

-- The request/reply exchange with pid. Returns the reply or raises.
local function call_pid(fname, dest, pid, req, timeout, timeout_text)
  local status, value = request(pid, req, timeout)
  if status == "ok" then return value end
  if status == "calling_self" then
    raise(fname, "calling_self", dest, req, "calling_self",
      ("a process cannot call itself (%s, request %s)"):format(dest_text(dest), show(req)))
  elseif status == "noproc" then
    raise(fname, "noproc", dest, req, "noproc",
      ("%s is not alive; request %s not sent"):format(dest_text(dest), show(req)))
  elseif status == "timeout" then
    raise(fname, "timeout", dest, req, "timeout",
      ("no reply from %s to request %s within %s"):format(dest_text(dest), show(req), timeout_text))
  end
  raise(fname, "exit", dest, req, value,
    ("%s exited with reason %s before replying to request %s"):format(dest_text(dest),
      reason_text(value), show(req)))
end

-- A call to {name, node}, in OTP's gen_server protocol, which Erlang's
-- gen_server and heirloom's servers both answer: {'$gen_call', {self,
-- tag}, request}, answered {tag, reply}. As Erlang's call does, it first
-- monitors the name there: a name nobody holds is "noproc", a server that
-- exits before replying "exit", a connection lost or never had
-- "nodedown", no answer within the timeout "timeout". A reply that comes
-- after the timeout stays in the mailbox, as {tag, reply}.
local function call_remote(fname, dest, req, timeout, timeout_text)
  if not hl.ping(dest[2]) then
    raise(fname, "nodedown", dest, req, "nodedown",
      ("node %s cannot be reached; request %s not sent"):format(dest[2], show(req)))
  end
  local mref = hl.monitor(dest)
  local tag = hl.alias()                -- a reference unique to this call
  hl.unalias(tag)                       -- the reply comes to this pid, not to the alias
  hl.send(dest, { proto.GEN_CALL, { hl.self(), tag }, req })
  local m = hl.receive(function(x)
    return type(x) == "table" and (x[1] == tag or (x[1] == "DOWN" and x[2] == mref))
  end, timeout)
  if m ~= nil and m[1] == tag then
    unwatch(mref)
    return m[2]
  end
  if m == nil then
    unwatch(mref)
    raise(fname, "timeout", dest, req, "timeout",
      ("no reply from %s to request %s within %s"):format(dest_text(dest), show(req), timeout_text))
  end
  local why = m[4]
  if why == "noproc" then
    raise(fname, "noproc", dest, req, "noproc",
      ("no process is registered as %q on %s; request %s not answered"):format(dest[1], dest[2],
        show(req)))
  elseif why == "noconnection" then
    raise(fname, "nodedown", dest, req, "nodedown",
      ("the connection to %s was lost before a reply to request %s"):format(dest[2], show(req)))
  end
  raise(fname, "exit", dest, req, why,
    ("%s exited with reason %s before replying to request %s"):format(dest_text(dest),
      reason_text(why), show(req)))
end

-- call(dest, request, timeout): sends request to the server dest (a pid, a
-- registered name, or {name, "node@host"} for a server on another node)
-- and returns its reply; raises a call error otherwise.
function M.call(dest, request, timeout)
  check_dest("call", dest, true)
  timeout = check_timeout("call", "timeout", timeout, DEFAULT_TIMEOUT)
  if is_remote(dest) then
    return call_remote("call", dest, request, timeout, timeout and (timeout .. " ms") or "infinity")
  end
  local pid = dest
  if type(dest) == "string" then
    pid = hl.whereis(dest)
    if pid == nil then
      raise("call", "noproc", dest, request, "noproc",
        ("no process is registered as %q; request %s not sent"):format(dest, show(request)))
    end
  end
  return call_pid("call", dest, pid, request, timeout,
    timeout and (timeout .. " ms") or "infinity")
end

-- cast(dest, message): sends and returns true at once, whether or not
-- anyone is there (as gen_server:cast).
function M.cast(dest, message)
  check_dest("cast", dest, true)
  if is_remote(dest) then
    hl.send(dest, { proto.GEN_CAST, message })   -- gen_server's cast protocol
    return true
  end
  local pid = dest
  if type(dest) == "string" then pid = hl.whereis(dest) end
  if pid ~= nil then hl.send(pid, { CAST, message }) end
  return true
end

-- reply(from, value): answers a call whose from a callback kept. The
-- reply goes only to an alias of the caller from[1].
function M.reply(from, value)
  if type(from) == "table" and is_pid(from[1]) and from[3] == proto.GEN_CALL then
    proto.reply(from, value)             -- a call from another node
    return true
  end
  if type(from) ~= "table" or not is_pid(from[1]) or hl.kind(from[2]) ~= "ref" then
    error("heirloom.server.reply: from must be the 'from' given to handle_call (got " ..
      show(from) .. ")", 2)
  end
  hl.send_alias(from[2], from[1], { REPLY, from[2], value })
  return true
end

-- stop(dest, reason, timeout): asks the server to stop with reason
-- ("normal" by default); terminate runs; returns true once it has exited.
function M.stop(dest, reason, timeout)
  check_dest("stop", dest)
  timeout = check_timeout("stop", "timeout", timeout, nil)
  if reason == nil then reason = "normal" end
  local pid = dest
  if type(dest) == "string" then pid = hl.whereis(dest) end
  if pid == hl.self() then
    raise("stop", "calling_self", dest, nil, "calling_self", "a process cannot stop itself this way")
  end
  local mref = pid and watch(pid)
  if not mref then
    raise("stop", "noproc", dest, nil, "noproc", dest_text(dest) .. " is not alive")
  end
  hl.send(pid, { STOP, reason })
  local m = hl.receive(down_of(mref), timeout)
  if m == nil then
    unwatch(mref)
    raise("stop", "timeout", dest, nil, "timeout",
      ("%s did not stop within %d ms"):format(dest_text(dest), timeout))
  end
  return true
end

-- call_retry(name, request, opts): call for a server that a supervisor may
-- be restarting. opts.timeout: the call's timeout (default 5000);
-- opts.retry_for: how long to wait for a live holder of the name (default:
-- opts.timeout). Retries only on "noproc", which means the request was
-- never sent; waits for the name with await_name. Returns within
-- retry_for + timeout ms.
function M.call_retry(dest, request, opts)
  check_dest("call_retry", dest)
  if opts ~= nil and type(opts) ~= "table" then
    error("heirloom.server.call_retry: opts must be a table (got " .. type(opts) .. ")", 2)
  end
  opts = opts or {}
  for k in pairs(opts) do
    if k ~= "timeout" and k ~= "retry_for" then
      error(("heirloom.server.call_retry: unknown option %s"):format(show(k)), 2)
    end
  end
  local timeout = check_timeout("call_retry", "opts.timeout", opts.timeout, DEFAULT_TIMEOUT)
  local retry_for = opts.retry_for
  if retry_for == nil then retry_for = timeout or DEFAULT_TIMEOUT end
  if math.type(retry_for) ~= "integer" or retry_for < 0 then
    error("heirloom.server.call_retry: opts.retry_for must be a non-negative integer of " ..
      "milliseconds (got " .. show(retry_for) .. ")", 2)
  end
  local timeout_text = timeout and (timeout .. " ms") or "infinity"
  local deadline = hl.now() + retry_for
  local last_dead
  while true do
    local pid = dest
    if type(dest) == "string" then
      pid = hl.whereis(dest)
      while pid ~= nil and pid == last_dead and hl.now() < deadline do
        -- the holder is dead but still named for a moment (its exit is
        -- being carried out): let it finish rather than spin
        hl.sleep(1)
        pid = hl.whereis(dest)
      end
      if pid == last_dead then pid = nil end
      if pid == nil then
        local left = deadline - hl.now()
        if left > 0 then pid = hl.await_name(dest, left) end
        if pid == nil then
          raise("call_retry", "noproc", dest, request, "noproc",
            ("no live process registered as %q within %d ms; request %s not sent")
              :format(dest, retry_for, show(request)))
        end
      end
    end
    local ok, result = pcall(call_pid, "call_retry", dest, pid, request, timeout, timeout_text)
    if ok then return result end
    if not M.is_error(result, "noproc") or type(dest) ~= "string" or hl.now() >= deadline then
      error(result, 0)
    end
    last_dead = pid
  end
end

-- ---------------------------------------------------------------- starting

local START_OPTS = { name = true, timeout = true, memory_limit = true }

local function start(fname, module, args, opts, link)
  if type(module) ~= "string" or module == "" then
    error(("heirloom.server.%s: module must be a module name (got %s)"):format(fname,
      kind_text(module)), 3)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(("heirloom.server.%s: opts must be a table (got %s)"):format(fname, type(opts)), 3)
  end
  opts = opts or {}
  for k in pairs(opts) do
    if not START_OPTS[k] then
      error(("heirloom.server.%s: unknown option %s"):format(fname, show(k)), 3)
    end
  end
  if opts.name ~= nil and (type(opts.name) ~= "string" or opts.name == "") then
    error(("heirloom.server.%s: opts.name must be a non-empty string"):format(fname), 3)
  end
  local timeout = check_timeout(fname, "opts.timeout", opts.timeout, nil)
  if opts.name ~= nil then
    local holder = hl.whereis(opts.name)
    if holder ~= nil then return nil, { "already_started", holder } end
  end
  local ack = hl.alias()
  local ok, pid, mref = pcall(hl.spawn_opt,
    { link = link, monitor = true, name = opts.name, memory_limit = opts.memory_limit,
      initial_call = module .. ":init" },
    "heirloom.server_loop", "boot", module, args, link and hl.self() or false, ack)
  if not ok then
    hl.unalias(ack)
    local holder = opts.name and hl.whereis(opts.name)
    if holder ~= nil and tostring(pid):find("already registered", 1, true) then
      return nil, { "already_started", holder }
    end
    error((tostring(pid):gsub("^heirloom%.spawn_opt", "heirloom.server." .. fname)), 0)
  end
  local m = hl.receive(function(x)
    return type(x) == "table" and ((x[1] == ACK and x[2] == ack) or (x[1] == "DOWN" and x[2] == mref))
  end, timeout)
  hl.unalias(ack)
  local function gone()
    -- a linked starter that traps exits has the EXIT too: it was about this start
    if link then hl.receive(function(x)
      return type(x) == "table" and x[1] == "EXIT" and x[2] == pid
    end, 0) end
  end
  if m == nil then                         -- init took too long: it is killed
    if link then hl.unlink(pid) end
    hl.exit(pid, "kill")
    hl.receive(down_of(mref))
    gone()
    return nil, "timeout"
  end
  if m[1] == "DOWN" then
    gone()
    return nil, m[4]
  end
  unwatch(mref)
  if m[3] then return pid end
  return nil, m[4]
end

-- start_link(module, args, opts): a server linked to the caller. Returns
-- its pid once init has returned "ok"; nil and a reason otherwise.
function M.start_link(module, args, opts)
  return start("start_link", module, args, opts, true)
end

-- start(module, args, opts): the same without a link.
function M.start(module, args, opts)
  return start("start", module, args, opts, false)
end

return M
