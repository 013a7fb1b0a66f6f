-- spec/support/hlspec.lua — host-side helpers for the process specs.
-- A spec loads it with dofile, so that it runs on its own (`busted
-- spec/x_spec.lua`) with no LUA_PATH change. It puts spec/support on
-- package.path, where spawned processes (which inherit it) find the
-- support modules.
local HERE = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
if not package.path:find(HERE .. "?.lua", 1, true) then
  package.path = HERE .. "?.lua;" .. package.path
end

local hl = require("heirloom")
local S = {}

S.hl = hl

-- Starts the node with a capturing logger (specs read hl.logs()).
function S.start(schedulers)
  hl.start{ schedulers = schedulers, logger = "capture" }
end

-- Receive one message matching pred (or any), failing the test when none
-- arrives within ms (default 2000).
function S.expect(pred, ms, what)
  if type(pred) == "number" then pred, ms = nil, pred end
  ms = ms or 2000
  local m
  if pred then m = hl.receive(pred, ms) else m = hl.receive(ms) end
  if m == nil then
    error("no message " .. (what and ("(" .. what .. ") ") or "") .. "within " .. ms .. " ms", 2)
  end
  return m
end

-- A filter for arrays whose first element is tag (and, optionally, whose
-- second element is v2).
function S.tagged(tag, v2)
  return function(m)
    return type(m) == "table" and m[1] == tag and (v2 == nil or m[2] == v2)
  end
end

-- A filter for {"EXIT", pid, ...}: pid's exit signal, trapped.
function S.exit_from(pid)
  return function(m) return type(m) == "table" and m[1] == "EXIT" and m[2] == pid end
end

-- Waits for {"ready", pid} from pid (any pid when nil).
function S.ready(pid, ms)
  local m = S.expect(function(m)
    return type(m) == "table" and m[1] == "ready" and (pid == nil or m[2] == pid)
  end, ms or 2000, "ready")
  return m[2]
end

-- Asserts that no message matching pred arrives within ms.
function S.none(pred, ms, what)
  local m
  if pred then m = hl.receive(pred, ms) else m = hl.receive(ms) end
  if m ~= nil then
    error("unexpected message " .. S.show(m) .. (what and (" (" .. what .. ")") or ""), 2)
  end
end

-- Polls cond every few ms until it holds or ms pass; returns whether it held.
function S.wait_until(cond, ms)
  local deadline = os.time() + math.ceil((ms or 2000) / 1000) + 1
  local waited = 0
  while waited < (ms or 2000) do
    if cond() then return true end
    hl.sleep(5)
    waited = waited + 5
    if os.time() > deadline then break end
  end
  return cond()
end

-- Waits until pid is no longer listed (after its DOWN it may still be, for
-- a moment, as exiting); returns whether that happened within ms (3000).
function S.dead(pid, ms)
  return S.wait_until(function() return hl.process_info(pid) == nil end, ms or 3000)
end

-- Drains the caller's mailbox (the host's, or a process's: the support
-- modules use it too); returns the messages.
function S.drain()
  local out = {}
  while true do
    local m = hl.receive(0)
    if m == nil then return out end
    out[#out + 1] = m
  end
end

function S.show(v, depth)
  depth = depth or 0
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) ~= "table" or depth > 4 then return tostring(v) end
  local parts = {}
  for k, x in pairs(v) do parts[#parts + 1] = tostring(k) .. "=" .. S.show(x, depth + 1) end
  table.sort(parts)
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- Runs `code` in a separate lua5.4 OS process (this package.path and
-- package.cpath), for behaviour that might take the whole OS process down.
-- Returns its output (stdout and stderr) and whether it exited with 0.
-- It is killed after `seconds` (60 by default): a hang fails, it does not
-- hold up the run. `shell`, if given, is shell code run first (a ulimit,
-- say, or variables to export).
function S.run_child(code, seconds, shell)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write("package.path = ", string.format("%q", package.path), "\n",
          "package.cpath = ", string.format("%q", package.cpath), "\n", code)
  f:close()
  local p = io.popen((shell or "") .. " timeout " .. (seconds or 60) .. " lua5.4 " .. script .. " 2>&1; echo \"rc=$?\"")
  local out = p:read("a")
  p:close()
  os.remove(script)
  local rc = tonumber(out:match("rc=(%d+)%s*$"))
  return out, rc == 0
end

-- Counts the live pids.
function S.nprocs()
  return #hl.processes()
end

-- The error fn(...) raises; fails if it returns.
function S.catch(fn, ...)
  local ok, e = pcall(fn, ...)
  assert(not ok, "expected an error, the call returned " .. S.show(e))
  return e
end

-- A srv_basic server linked to the caller, reporting to args.observer (the
-- caller by default), once its init has run.
function S.basic(args, opts)
  args = args or {}
  args.observer = args.observer or hl.self()
  local pid, why = hl.server.start_link("srv_basic", args, opts)
  assert(pid, "start_link failed: " .. S.show(why))
  S.expect(S.tagged("init", pid))
  return pid
end

-- Files and shell words, for specs that drive child programs and damage
-- data directories.
function S.quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

function S.read_file(path)
  local f = io.open(path, "rb")
  if f == nil then return nil end
  local s = f:read("a")
  f:close()
  return s
end

function S.write_file(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

return S
