-- cli_lib.lua — the Lua half of the heirloom command: reading an
-- application file, starting and stopping its supervision tree, the run
-- loop, and restart() for the shell, whose other helpers and printer are
-- heirloom.shell's. Compiled into build/heirloom (src/cli_lib.c); loaded
-- in the host state as package.loaded["heirloom.cli"].
local hl = require("heirloom")

local M = {}

-- One write for the whole line: stderr is unbuffered, and a process's
-- print between "heirloom: " and the message would split it.
local function say(fmt, ...)
  io.stderr:write("heirloom: " .. string.format(fmt, ...) .. "\n")
  io.stderr:flush()
end
M.say = say

local shell = require("heirloom.shell")
local show = shell.show
M.show = show
M.print_results = shell.print_results
M.print_error = shell.print_error
M.error_text = shell.error_text

-- ---------------------------------------------------------------- the application

local APP_FIELDS = { name = true, node = true, supervisor = true, main = true }
local NODE_FIELDS = { schedulers = true, data_dir = true, memory_limit = true, seed = true,
                      logger = true, log = true, console = true, console_secret = true }
local NODE_FIELD_LIST = "schedulers, data_dir, memory_limit, seed, logger, log, console, " ..
                        "console_secret"
local LOG_LEVELS = { debug = true, info = true, notice = true, warning = true, error = true,
                     none = true }
local LOG_FIELDS = { level = true, format = true, verbose = true }

-- What an application file returns that is not a description: what it
-- must return instead. got: a type name, or "nothing".
local function not_a_table(where, got)
  return ("%s: the application file must return a table, got %s: return { supervisor = <a " ..
          "supervisor spec> } or { main = { module, function, args... } } (see " ..
          "docs/heirloom-command.md)"):format(where, got)
end

-- Runs the application file's chunk and returns its table and the line
-- of the return statement (where a bad description is reported), or nil
-- and a message that starts with "file:line:".
function M.load(path)
  local chunk, err = loadfile(path, "t")
  if not chunk then return nil, err end
  local source, line = "@" .. path, nil
  local function on_return()
    local info = debug.getinfo(2, "Sl")
    if info and info.source == source and info.what == "main" then line = info.currentline end
  end
  debug.sethook(on_return, "r")
  local r = table.pack(xpcall(chunk, debug.traceback))
  debug.sethook()
  if not r[1] then return nil, M.error_text(r[2]) end
  line = M.return_line(path, line)
  if r[2] == nil then    -- an empty file, a bare return, return nil
    return nil, not_a_table(path .. ":" .. line, r.n == 1 and "nothing" or "nil")
  end
  return r[2], line
end

-- The hook sees a return at the line where its expression ends: a
-- description is better pointed at where the return statement starts.
function M.return_line(path, line)
  if line == nil then return 1 end
  local lines, f = {}, io.open(path, "r")
  if f == nil then return line end
  for l in f:lines() do lines[#lines + 1] = l end
  f:close()
  for k = math.min(line, #lines), 1, -1 do
    if lines[k]:match("^%s*return%f[^%w_]") then return k end
  end
  return line
end

local function app_error(where, fmt, ...)
  error(where .. ": " .. string.format(fmt, ...), 0)
end

local function check_node(node, where)
  if type(node) ~= "table" then app_error(where, "node must be a table, got %s", type(node)) end
  for k in pairs(node) do
    if not NODE_FIELDS[k] then
      app_error(where, "node.%s: unknown option (known: %s)", tostring(k), NODE_FIELD_LIST)
    end
  end
  local s = node.schedulers
  if s ~= nil and (math.type(s) ~= "integer" or s < 1 or s > 1024) then
    app_error(where, "node.schedulers: expected an integer from 1 to 1024, got %s", show(s))
  end
  if node.data_dir ~= nil and (type(node.data_dir) ~= "string" or node.data_dir == "") then
    app_error(where, "node.data_dir: expected a non-empty string, got %s", show(node.data_dir))
  end
  local m = node.memory_limit
  if m ~= nil and (math.type(m) ~= "integer" or m < 65536) then
    app_error(where, "node.memory_limit: expected an integer of at least 65536, got %s", show(m))
  end
  local c = node.console
  if c ~= nil and c ~= true and (type(c) ~= "string" or c == "") then
    app_error(where, "node.console: expected a socket's path, tcp:HOST:PORT or true (a default path), got %s",
              show(c))
  end
  local cs = node.console_secret
  if cs ~= nil and (type(cs) ~= "string" or cs == "") then
    app_error(where, "node.console_secret: expected a file's path, got %s", show(cs))
  end
  if node.seed ~= nil and (math.type(node.seed) ~= "integer" or node.seed == 0) then
    app_error(where, "node.seed: expected a non-zero integer, got %s", show(node.seed))
  end
  if node.logger ~= nil and node.logger ~= "stderr" and node.logger ~= "silent" then
    app_error(where, 'node.logger: expected "stderr" or "silent", got %s', show(node.logger))
  end
  local log = node.log
  if log == nil then return end
  if type(log) ~= "table" then app_error(where, "node.log: expected a table, got %s", type(log)) end
  for k in pairs(log) do
    if not LOG_FIELDS[k] then
      app_error(where, "node.log.%s: unknown option (known: level, format, verbose)", tostring(k))
    end
  end
  if log.level ~= nil and not LOG_LEVELS[log.level] then
    app_error(where, 'node.log.level: expected "debug", "info", "notice", "warning", "error" ' ..
              'or "none", got %s', show(log.level))
  end
  if log.format ~= nil and log.format ~= "text" and log.format ~= "json" then
    app_error(where, 'node.log.format: expected "text" or "json", got %s', show(log.format))
  end
  if log.verbose ~= nil and type(log.verbose) ~= "boolean" then
    app_error(where, "node.log.verbose: expected a boolean, got %s", show(log.verbose))
  end
end

-- Sets the node's log from the application's node table, then from the
-- command's flags (flags: {level =, format =, verbose =}, set ones only).
function M.set_log(app, flags)
  local node = app and app.node or {}
  local log = node.log or {}
  local level = flags.level or log.level or (node.logger == "silent" and "none") or nil
  local format = flags.format or log.format
  local verbose = flags.verbose
  if verbose == nil then verbose = log.verbose end
  if level ~= nil then hl.log.level(level) end
  if format ~= nil then hl.log.format(format) end
  if verbose ~= nil then hl.log.verbose(verbose) end
end

-- Turns what the file returned into {name, node, supervisor | main,
-- where}; raises "file:line: message" when it is not a description.
function M.describe(value, path, line)
  local where = path .. ":" .. line
  if type(value) ~= "table" then error(not_a_table(where, type(value)), 0) end
  local app
  if value.supervisor == nil and value.main == nil and value.children ~= nil then
    app = { supervisor = value, name = value.name }     -- a supervisor spec on its own
  else
    for k in pairs(value) do
      if not APP_FIELDS[k] then
        app_error(where, "unknown field '%s' (expected name, node, supervisor or main)",
                  tostring(k))
      end
    end
    app = { name = value.name, node = value.node, supervisor = value.supervisor,
            main = value.main }
  end
  app.where = where
  if app.name ~= nil and (type(app.name) ~= "string" or app.name == "") then
    app_error(where, "name: expected a non-empty string, got %s", show(app.name))
  end
  app.name = app.name or path:match("([^/]+)%.lua$") or path
  app.node = app.node or {}
  check_node(app.node, where)
  if (app.supervisor == nil) == (app.main == nil) then
    app_error(where, "give either supervisor (a supervisor spec) or main ({module, function, ...})")
  end
  if app.supervisor ~= nil and type(app.supervisor) ~= "table" then
    app_error(where, "supervisor: expected a supervisor spec (a table), got %s",
              type(app.supervisor))
  end
  if app.main ~= nil then
    local m = app.main
    if type(m) ~= "table" or type(m[1]) ~= "string" or type(m[2]) ~= "string" then
      app_error(where, "main: expected {module, function, args...}, got %s", show(m))
    end
  end
  return app
end

-- ---------------------------------------------------------------- signals

-- The command (src/cli_signal.c) replaces this: the name of a signal that
-- asked for a stop ("SIGTERM"), taken once, or nil. While one waits to be
-- taken every receive of the host raises "interrupted" at once.
function M.take_signal() return nil end

local function is_interrupted(e)
  return type(e) == "string" and e:find("heirloom.receive: interrupted", 1, true) ~= nil
end

-- receive_with_sender(filter, ms) that returns nothing when a signal
-- interrupts it (take_signal then tells which).
local function receive_or_signal(filter, ms)
  local ok, m, sender = pcall(hl.receive_with_sender, filter, ms)
  if ok then return m, sender end
  if not is_interrupted(m) then error(m, 0) end
  return nil
end

local function is_exit_of(m, pid)
  return type(m) == "table" and m[1] == "EXIT" and m[2] == pid
end

-- A filter for the top process's EXIT, which only the node sends: a
-- process that sends the host a message of that shape is not believed.
local function exit_of(pid)
  return function(m, sender) return sender == nil and is_exit_of(m, pid) end
end

local function say_stopped(app, reason)
  if reason == "shutdown" or reason == "gone" then say("%s stopped", app.name)
  else say("%s stopped (%s)", app.name, M.error_text(reason)) end
end

-- ---------------------------------------------------------------- start and stop

-- How long the top process of an application whose start a signal
-- interrupted has to stop after "shutdown" before it is killed: it may be
-- blocked in a child's start, where it cannot see the request.
M.START_GRACE = 2000

-- Stops the application in order: its top process is sent exit
-- "shutdown" and awaited (a supervisor stops its children right to left
-- first). A signal that arrives meanwhile (a second Ctrl-C) kills it
-- instead, and so does the end of grace_ms when given. Returns the reason
-- it exited with.
function M.stop(app, grace_ms)
  local top = app.top
  if top == nil or hl.process_info(top) == nil then return "gone" end
  hl.exit(top, "shutdown")
  local deadline = grace_ms and hl.now() + grace_ms
  while true do
    local m = receive_or_signal(exit_of(top), 100)
    local sig = M.take_signal()
    if sig ~= nil then
      say("%s again: killing %s", sig, app.name)
      hl.exit(top, "kill")
      deadline = nil
    elseif m ~= nil then
      return m[3]
    elseif hl.process_info(top) == nil then
      return "gone"
    elseif deadline ~= nil and hl.now() >= deadline then
      say("%s did not stop within %d ms: killing it", app.name, grace_ms)
      hl.exit(top, "kill")
      deadline = nil
    end
  end
end

-- A signal came while the application started: what did start is stopped
-- (in order if its top process got as far as it could answer), and the
-- command ends with status 0.
local function stop_after_signal(app, sig, top)
  if top ~= nil then
    app.top = top
    say("%s: stopping %s", sig, app.name)
    say_stopped(app, M.stop(app))
    return
  end
  -- the start did not finish: its top process is the one linked to the host
  local info = hl.process_info(hl.self())
  app.top = info and info.links[1]
  say("%s: stopping %s (its start had not finished)", sig, app.name)
  say_stopped(app, M.stop(app, M.START_GRACE))
end

-- Why an application did not start, said once: a child that failed to
-- start has its reason in the supervisor's report already; a module's
-- search path is listed only with --verbose.
local function failure_text(e)
  if type(e) == "table" and e[1] == "failed_to_start_child" then
    return ("child %s failed to start (the supervisor's report has the reason)"):format(show(e[2]))
  end
  return hl.log.brief(M.error_text(e))
end

-- Starts the application's top process, linked to the host: true once it
-- runs; false when a signal stopped it while it started; raises
-- "file:line: message" when it cannot start.
function M.start(app)
  local ok, pid, err
  if app.supervisor ~= nil then
    ok, pid, err = pcall(hl.supervisor.start_link, app.supervisor)
  else
    ok, pid = pcall(hl.spawn_link, table.unpack(app.main))
  end
  local sig = M.take_signal()
  if sig ~= nil then
    stop_after_signal(app, sig, ok and pid or nil)
    return false
  end
  if ok and pid == nil then ok, pid = false, err or "start_link returned nothing" end
  if not ok then
    app_error(app.where, "cannot start %s: %s", app.name, failure_text(pid))
  end
  app.top = pid
  M.app = app
  return true
end

-- Stops the application and says so (the shell's way out).
function M.stop_and_say(app)
  M.take_signal()             -- the one that ended the shell, if any: done with
  if app.top ~= nil and hl.process_info(app.top) ~= nil then
    say("stopping %s", app.name)
    M.stop(app)
    say("%s stopped", app.name)
  end
end

-- A console's restart() (heirloom.console asks the command's host):
-- starts the application again if it is down. Returns ok, the text for
-- the console, and false when a signal stopped the node as it started.
local function restart_for_console(app)
  if not app.down then
    return false, ("restart: %s is running (%s)"):format(app.name, tostring(app.top)), true
  end
  local ok, started = pcall(M.start, app)
  if not ok then return false, "restart: " .. M.error_text(started), true end
  if not started then return false, "restart: the node is stopping", false end
  app.down = false
  say("%s started again (%s)", app.name, tostring(app.top))
  return true, ("%s started again (%s)"):format(app.name, tostring(app.top)), true
end

-- The loop of `heirloom run`: waits for a signal (it interrupts the wait)
-- or for the top process to exit on its own. Returns the command's exit
-- status. With a console (console true) the node outlives an application
-- whose top process exited on its own, so that restart() at a console can
-- start it again: the status is then 1 if it is still down at the stop.
function M.run(app, console)
  say("%s started (%s %s)", app.name, app.supervisor and "supervisor" or "main", tostring(app.top))
  while true do
    local m, sender = receive_or_signal()
    local sig = M.take_signal()
    if sig ~= nil then
      if app.down then
        say("%s: stopping the node (%s is down)", sig, app.name)
        return 1
      end
      say("%s: stopping %s", sig, app.name)
      say_stopped(app, M.stop(app))
      return 0
    elseif sender == nil and is_exit_of(m, app.top) then
      local reason = m[3]
      if app.main ~= nil and reason == "normal" then
        say("%s finished", app.name)
        return 0
      end
      say("%s: %s %s exited on its own: %s", app.name,
          app.supervisor and "the top supervisor" or "the main process",
          tostring(app.top), M.error_text(reason))
      if not console then return 1 end
      app.down = true
      say("%s is down; the node runs on for its console: restart() there starts it again, "
          .. "SIGTERM stops the node", app.name)
    elseif console and sender ~= nil and type(m) == "table" and m[1] == "restart" then
      local ok, text, running = restart_for_console(app)
      hl.send(sender, { "restart", ok, text })
      if not running then return 0 end
    end
  end
end

-- ---------------------------------------------------------------- shell helpers

-- After each chunk at the prompt: says once if the application's top
-- process has exited (its EXIT message is taken from the shell's mailbox).
function M.after_chunk()
  local app = M.app
  if app == nil or app.top == nil or app.exited then return end
  local m = hl.receive_with_sender(exit_of(app.top), 0)
  if m ~= nil then
    app.exited = true
    say("%s: %s %s exited: %s", app.name,
        app.supervisor and "the top supervisor" or "the main process",
        tostring(app.top), M.error_text(m[3]))
  end
end

-- restart(): starts the shell's application again once its top process
-- has exited (a supervisor that gave up, a main that ended).
function M.restart()
  local app = M.app
  if app == nil then error("restart: the shell has no application (heirloom shell APP)", 0) end
  M.after_chunk()
  if app.top ~= nil and hl.process_info(app.top) ~= nil then
    error("restart: " .. app.name .. " is running (" .. tostring(app.top) .. ")", 0)
  end
  if M.start(app) then
    app.exited = false
    say("%s started again (%s)", app.name, tostring(app.top))
  end
end

-- Tab at the prompt: the Lua names that complete word.
function M.complete(word)
  return shell.complete(word, _G)
end

-- The globals of the shell's prompt.
function M.install_globals(env)
  shell.application = function()
    local app = M.app
    if app ~= nil and app.supervisor ~= nil then return app end
  end
  shell.install(env, M.restart, "stopping the application")
end

return M
