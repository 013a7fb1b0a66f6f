-- spec/support/echo.lua — process bodies for the process, signal and timer
-- specs. Spawned as hl.spawn("echo", "<function>", ...); every function runs
-- inside its own process, so it requires heirloom itself.
local hl = require("heirloom")
local M = {}

-- Serves until "stop":
--   {"ping", from, tag}  -> {"pong", tag, self}
--   {"echo", from, x}    -> {"echo", x}
--   {"crash", msg}       -> error(msg)
--   {"exit", reason}     -> hl.exit(reason)
--   {"trap", from, flag} -> {"trap", old}
--   {"link", from, pid}  -> {"linked", pid}
--   {"register", from, name} -> {"registered", name}
function M.loop()
  while true do
    local m = hl.receive()
    if m == "stop" then return "stopped" end
    if type(m) == "table" then
      local tag = m[1]
      if tag == "ping" then hl.send(m[2], { "pong", m[3], hl.self() })
      elseif tag == "echo" then hl.send(m[2], { "echo", m[3] })
      elseif tag == "crash" then error(m[2], 0)
      elseif tag == "exit" then hl.exit(m[2])
      elseif tag == "trap" then hl.send(m[2], { "trap", hl.trap_exit(m[3]) })
      elseif tag == "link" then hl.link(m[3]); hl.send(m[2], { "linked", m[3] })
      elseif tag == "register" then hl.register(m[3], hl.self()); hl.send(m[2], { "registered", m[3] })
      end
    end
  end
end

-- Sends back how many arguments it got and the arguments themselves.
function M.args(to, ...)
  hl.send(to, { "args", select("#", ...), { ... } })
end

-- Sends one message and returns normally.
function M.hello(to, tag)
  hl.send(to, { "hello", tag, hl.self() })
end

-- Fails with msg at once.
function M.crash(msg)
  error(msg, 0)
end

-- Tells `to` it is ready, then fails with msg when told to (any message).
function M.crash_later(to, msg)
  hl.send(to, { "ready", hl.self() })
  hl.receive()
  error(msg, 0)
end

-- Ends with hl.exit(reason) once told to.
function M.exit_later(to, reason)
  hl.send(to, { "ready", hl.self() })
  hl.receive()
  hl.exit(reason)
end

-- Waits for ever (until killed). Reports ready first if `to` is given.
function M.wait(to)
  if to ~= nil then hl.send(to, { "ready", hl.self() }) end
  while true do hl.receive() end
end

-- A link of a chain: links to every pid given, reports, then waits.
function M.chain_link(to, ...)
  for i = 1, select("#", ...) do hl.link((select(i, ...))) end
  hl.send(to, { "ready", hl.self() })
  while true do hl.receive() end
end

-- Traps exits, reports ready, then forwards every message to `to`
-- wrapped as {"got", msg}.
function M.trapper(to)
  hl.trap_exit(true)
  hl.send(to, { "ready", hl.self() })
  while true do
    hl.send(to, { "got", hl.receive() })
  end
end

-- Runaways: loop for ever without ever receiving.
function M.spin(to)
  if to ~= nil then hl.send(to, { "ready", hl.self() }) end
  local n = 0
  while true do n = n + 1 end
end

function M.spin_pcall(to)
  if to ~= nil then hl.send(to, { "ready", hl.self() }) end
  local caught = 0
  while true do
    pcall(function() local n = 0; while true do n = n + 1 end end)
    caught = caught + 1
  end
end

-- Spins inside table.sort's comparator (a C function calling Lua, so the
-- coroutine cannot yield there) for `cpu_seconds` of process CPU time
-- (default: for ever), then returns {"sort done"} to `to`.
function M.spin_sort(to, cpu_seconds)
  if to ~= nil then hl.send(to, { "ready", hl.self() }) end
  local t = {}
  for i = 1, 64 do t[i] = 64 - i end
  local stop = cpu_seconds and os.clock() + cpu_seconds or math.huge
  local once = false
  table.sort(t, function(a, b)
    if not once then
      once = true
      while os.clock() < stop do end
    end
    return a < b
  end)
  if to ~= nil then hl.send(to, { "sort done", hl.self() }) end
end

-- Allocates without bound; reports how far it got before the attempt.
function M.hog(to)
  hl.send(to, { "ready", hl.self() })
  local keep = {}
  for i = 1, math.huge do
    keep[i] = string.rep("x", 1024) .. i
  end
end

-- Creates a table (name, opts), inserts {"k", 1}, sends the handle to
-- `to`, then waits until told to return.
function M.table_owner(to, name, opts)
  local t = hl.table.new(name, opts)
  t:insert({ "k", 1 })
  hl.send(to, { "table", t, hl.self() })
  hl.receive()
end

-- Registers under `name`, reports, then forwards every message to `to`
-- wrapped as {"got", msg} until "stop".
function M.named_forwarder(to, name)
  hl.register(name, hl.self())
  hl.send(to, { "ready", hl.self() })
  while true do
    local m = hl.receive()
    if m == "stop" then return end
    hl.send(to, { "got", name, m })
  end
end

return M
