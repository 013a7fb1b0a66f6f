-- heirloom.console — the node's side of a remote console (`heirloom run
-- --console`, `heirloom shell --attach`). The command's listener
-- (src/cli/cli_console.c) accepts a connection, checks who it is, and runs
-- M.relay in a host Lua state of its own on a thread of its own: the
-- relay carries lines from the socket to an evaluator process and the
-- evaluator's output back. The evaluator (M.evaluator) is a plain process
-- of the node: it compiles each line as the local prompt does, with
-- heirloom.shell's helpers, and sends what it prints to the relay.
--
-- Ctrl-C at the console kills the evaluator and starts a fresh one: a
-- blocked receive, a sleep or a loop ends at once, whatever it was doing,
-- and the node is untouched; the globals set at that console are lost,
-- which the console says. A relay never blocks a scheduler thread (it is
-- a host on its own thread), and it waits on its socket alone while no
-- line is being evaluated; during an evaluation it looks at the socket
-- between receives of 50 ms.
local hl = require("heirloom")
local shell = require("heirloom.shell")

local M = {}

local POLL_MS = 50

-- ---------------------------------------------------------------- the evaluator

local function text_of(...)
  local out = {}
  for i = 1, select("#", ...) do out[i] = tostring((select(i, ...))) end
  return table.concat(out)
end

-- The traceback of an error in a chunk, down to the chunk: the console's
-- own frames below it tell the user nothing.
local function traceback(e)
  if type(e) ~= "string" then return e end
  local text = debug.traceback(e, 2)
  local cut = text:find("\n%s*%[C%]: in function 'xpcall'")
  return cut and text:sub(1, cut - 1) or text
end

local function incomplete(err)
  return type(err) == "string" and err:sub(-5) == "<eof>"
end

-- Runs a compiled chunk and prints its results or its error.
local function run(f)
  local r = table.pack(xpcall(f, traceback))
  if not r[1] then
    shell.print_error(r[2])
  elseif r.n > 1 then
    shell.print_results(table.unpack(r, 2, r.n))
  end
end

-- restart() at a console: the command's host (app.keeper, under `heirloom
-- run`) starts the application again if it is down, and answers the
-- process that really asked.
local function restart(app)
  if app == nil or app.keeper == nil then
    error("restart: this node is a shell's: restart() is at its own prompt, not at a console", 0)
  end
  local keeper = hl.pid(app.keeper)
  hl.send(keeper, { "restart" })
  local m = hl.receive_with_sender(function(m, sender)
    return sender == keeper and type(m) == "table" and m[1] == "restart"
  end)
  if not m[2] then error(m[3], 0) end
  shell.write(m[3], "\n")
end

-- The environment of a console's chunks: heirloom.shell's helpers, and
-- print and io.write that write to the console.
local function console_env(app)
  local env = setmetatable({}, { __index = _G })
  shell.install(env, nil, "detaching; the node runs on")
  env.print = function(...)
    local out = {}
    for i = 1, select("#", ...) do out[i] = tostring((select(i, ...))) end
    shell.write(table.concat(out, "\t"), "\n")
  end
  local console_io = setmetatable({}, { __index = io,
                                         __tostring = function() return "file (console)" end })
  console_io.write = function(...)
    shell.write(...)
    return console_io
  end
  env.io = console_io
  if app ~= nil and app.top ~= nil then
    shell.application = function() return app end
  end
  env.restart = function() return restart(app) end
  return env
end

-- The process that evaluates a console's lines: relay is the relay's pid
-- (only its messages are taken as input); app: {name, top} for tree(),
-- top being the top supervisor's registered name. It answers each line
-- with {"done"} when the chunk ran (or could not compile) or {"more"}
-- when it needs more lines, after {"out", text} and {"err", text}
-- messages for what it printed.
function M.evaluator(relay, app)
  shell.write = function(...) hl.send(relay, { "out", text_of(...) }) end
  shell.flush_output = function() end
  shell.write_error = function(text) hl.send(relay, { "err", text }) end
  local env = console_env(app)
  local chunk = nil
  local from_relay = function(_, sender) return sender == relay end
  while true do
    local m = hl.receive_with_sender(from_relay)
    if type(m) == "table" and m[1] == "reset" then
      chunk = nil
    elseif type(m) == "table" and m[1] == "line" and type(m[2]) == "string" then
      local line, answer = m[2], "done"
      local f
      if chunk == nil then f = load("return " .. line .. ";", "=console", "t", env) end
      if f ~= nil then
        run(f)
      else
        chunk = chunk == nil and line or chunk .. "\n" .. line
        local err
        f, err = load(chunk, "=console", "t", env)
        if f ~= nil then
          chunk = nil
          run(f)
        elseif incomplete(err) then
          answer = "more"
        else
          chunk = nil
          shell.print_error(err)
        end
      end
      hl.send(relay, { answer })
    end
  end
end

-- ---------------------------------------------------------------- the relay

local function start_evaluator(app)
  return hl.spawn_link("heirloom.console", "evaluator", hl.self(), app)
end

local function exit_of(ev)
  return function(m, sender)
    return sender == nil and type(m) == "table" and m[1] == "EXIT" and m[2] == ev
  end
end

-- Ends the evaluator: exit "shutdown" (no crash report for that), and
-- "kill" if it traps exits and lingers.
local function stop_evaluator(ev)
  hl.exit(ev, "shutdown")
  if hl.receive_with_sender(exit_of(ev), 500) == nil then
    hl.exit(ev, "kill")
    hl.receive_with_sender(exit_of(ev), 1000)
  end
end

-- Relays one connection until it closes or the node stops. conn.next(ms)
-- gives the client's next request ("line", text), ("interrupt"),
-- ("closed") or ("stopping"), nil when none came within ms (-1: wait);
-- conn.send(kind, text) sends "out", "err", "done", "more" or "hello".
-- app: {name, top} or nil. Returns why it ended ("closed", "stopping").
function M.relay(conn, app)
  local ev = start_evaluator(app)
  conn.send("hello", ("heirloom console on %s (help() for the helpers, Ctrl-D to detach)\n")
                     :format(app and app.name or "the node"))
  local busy = false
  while true do
    local kind, text = conn.next(busy and 0 or -1)
    if kind == "closed" or kind == "stopping" then
      stop_evaluator(ev)
      return kind
    elseif kind == "line" and not busy then
      hl.send(ev, { "line", text })
      busy = true
    elseif kind == "interrupt" and busy then
      stop_evaluator(ev)
      ev = start_evaluator(app)
      conn.send("err", "interrupted: the console's process was ended and a fresh one " ..
                       "started (globals set at this console are lost)\n")
      conn.send("done")
      busy = false
    elseif kind == "interrupt" then
      hl.send(ev, { "reset" })     -- Ctrl-C at the prompt drops an unfinished chunk
    end
    if busy then
      local m, sender = hl.receive_with_sender(POLL_MS)
      if sender == ev and type(m) == "table" then
        if m[1] == "out" or m[1] == "err" then
          conn.send(m[1], m[2])
        elseif m[1] == "done" or m[1] == "more" then
          conn.send(m[1])
          busy = false
        end
      elseif sender == nil and type(m) == "table" and m[1] == "EXIT" and m[2] == ev then
        ev = start_evaluator(app)
        conn.send("err", ("the console's process exited (%s): a fresh one started (globals " ..
                          "set at this console are lost)\n"):format(shell.error_text(m[3])))
        conn.send("done")
        busy = false
      end
    end
  end
end

return M
