-- spec/support/hlspec.lua — host-side helpers for the process specs: the
-- bits private to these specs; the general ones (expect, tagged, catch,
-- drain, waiting) are heirloom.test's, re-exported here. A spec loads it
-- with dofile. It puts spec/support on package.path, where spawned
-- processes (which inherit it) find the support modules.
local HERE = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
if not package.path:find(HERE .. "?.lua", 1, true) then
  package.path = HERE .. "?.lua;" .. package.path
end

local hl = require("heirloom")
local T = require("heirloom.test")
local S = {}

S.hl = hl

-- Starts the node with a capturing logger (specs read hl.logs()).
function S.start(schedulers)
  hl.start{ schedulers = schedulers, logger = "capture" }
end

-- Receive one message matching pred (or any), failing the test when none
-- arrives within ms (default 2000); a filter for arrays by their tag.
S.expect = T.expect
S.tagged = T.tagged

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

-- Polls cond until it holds or ms (2000) pass on the node's clock;
-- returns whether it held.
function S.wait_until(cond, ms)
  return (pcall(T.eventually, cond, ms or 2000))
end

-- Waits until pid is no longer listed (after its DOWN it may still be, for
-- a moment, as exiting); returns whether that happened within ms (3000).
function S.dead(pid, ms)
  return S.wait_until(function() return hl.process_info(pid) == nil end, ms or 3000)
end

-- Drains the caller's mailbox (the host's, or a process's: the support
-- modules use it too); returns the messages.
S.drain = T.drain

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

-- Helpers for the code run_child runs: say (print and flush), down (the
-- reason of the DOWN for ref), answers (a fresh echo process answers).
S.CHILD_HELPERS = [[
local hl = require("heirloom")
local function say(...) print(...) io.stdout:flush() end
local function down(ref, ms)
  local m = hl.receive(function(m) return type(m) == "table" and m[1] == "DOWN" and m[2] == ref end,
    ms or 2000)
  return m and m[4]
end
local function answers()
  local echo = hl.spawn("echo", "loop")
  hl.send(echo, { "ping", hl.self(), "p" })
  local ok = hl.receive(function(m) return type(m) == "table" and m[1] == "pong" end, 2000) ~= nil
  hl.send(echo, "stop")
  return ok
end
]]

-- Whether text is in out, as plain text.
function S.has(out, text)
  return out:find(text, 1, true) ~= nil
end

-- Counts the live pids.
function S.nprocs()
  return #hl.processes()
end

-- The error fn(...) raises; fails if it returns.
S.catch = T.catch

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
-- Runs the heirloom command (build/heirloom, or $HEIRLOOM_BUILD/heirloom)
-- with args (a shell string), stdin from input if given; returns stdout,
-- stderr and the exit status. With seconds, a command still running after
-- them is killed (status 137).
function S.heirloom(args, input, seconds)
  local base = os.tmpname()
  local exe = (os.getenv("HEIRLOOM_BUILD") or "build") .. "/heirloom"
  local cmd = S.quote(exe) .. " " .. args .. " >" .. base .. ".out 2>" .. base .. ".err"
  if seconds ~= nil then cmd = "timeout -s KILL " .. seconds .. " " .. cmd end
  if input ~= nil then
    S.write_file(base .. ".in", input)
    cmd = cmd .. " <" .. base .. ".in"
  else
    cmd = cmd .. " </dev/null"
  end
  local _, _, status = os.execute(cmd)
  local out, err = S.read_file(base .. ".out"), S.read_file(base .. ".err")
  for _, ext in ipairs({ "", ".in", ".out", ".err" }) do os.remove(base .. ext) end
  return out, err, status
end

-- For specs that drive child programs: sleep in seconds (fractions too),
-- wait until pred() holds (up to seconds, 20 by default; returns whether
-- it did), and find each string in text in order, failing on the first
-- one missing.
function S.sleep(s) os.execute("sleep " .. s) end

function S.wait_for(pred, seconds)
  local deadline = os.time() + (seconds or 20)
  while os.time() <= deadline do
    if pred() then return true end
    S.sleep(0.05)
  end
  return pred()
end

function S.assert_in_order(text, ...)
  local at = 1
  for _, s in ipairs({ ... }) do
    local i = text:find(s, at, true)
    assert(i, string.format("expected %q after position %d in:\n%s", s, at, text))
    at = i + #s
  end
end

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

-- A fresh directory that only its owner may enter (mode 700): a shell's
-- HOME, a console's socket directory.
function S.private_dir()
  local dir = os.tmpname()
  os.remove(dir)
  os.execute("mkdir -m 700 " .. S.quote(dir))
  return dir
end

-- A temporary directory for a spec file's stores, and a function that
-- names a fresh (absent) directory inside it each time it is called.
function S.temp_root()
  local root = os.tmpname()
  os.remove(root)
  os.execute("mkdir -p " .. root)
  local serial = 0
  return root, function()
    serial = serial + 1
    local d = root .. "/d" .. serial
    os.execute("rm -rf " .. d)
    return d
  end
end

-- A deterministic, silent node on the store in dir (opts: more of
-- hl.start's options, which may override those two).
function S.start_on(dir, opts)
  opts = opts or {}
  opts.schedulers = opts.schedulers or 0
  opts.logger = opts.logger or "silent"
  opts.data_dir = dir
  hl.start(opts)
end

return S
