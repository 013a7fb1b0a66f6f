-- cli_lib.lua — the Lua half of the heirloom command: reading an
-- application file, starting and stopping its supervision tree, the run
-- loop, and the shell's helpers (i, ps, top, t, tree, kill, pid, restart,
-- flush) and the value printer. Compiled into build/heirloom (src/cli_lib.c); loaded in the
-- host state as package.loaded["heirloom.cli"].
local hl = require("heirloom")

local M = {}

local function say(fmt, ...)
  io.stderr:write("heirloom: ", string.format(fmt, ...), "\n")
  io.stderr:flush()
end
M.say = say

-- ---------------------------------------------------------------- printing

local function is_identifier(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
end

local function sorted_keys(t, n)
  local keys = {}
  for k in pairs(t) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end)
  return keys
end

local show

local function show_table(t, depth, seen)
  if seen[t] then return "{...}" end
  if depth > 6 then return "{...}" end
  local mt = getmetatable(t)
  if mt and mt.__tostring then return tostring(t) end
  seen[t] = true
  local parts = {}
  local n = #t
  for i = 1, n do parts[#parts + 1] = show(t[i], depth + 1, seen) end
  for _, k in ipairs(sorted_keys(t, n)) do
    local ks = is_identifier(k) and k or "[" .. show(k, depth + 1, seen) .. "]"
    parts[#parts + 1] = ks .. " = " .. show(t[k], depth + 1, seen)
  end
  seen[t] = nil
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- A value as the shell prints it: strings quoted, tables in full (up to
-- a depth), heirloom's pids, refs and table handles as their tostring.
function show(v, depth, seen)
  local tv = type(v)
  if tv == "string" then return (string.format("%q", v):gsub("\\\n", "\\n")) end
  if tv == "table" then return show_table(v, depth or 0, seen or {}) end
  if math.type(v) == "float" and v == math.floor(v) and v == v and
     v ~= math.huge and v ~= -math.huge then
    return string.format("%.1f", v)
  end
  return tostring(v)
end
M.show = show

-- Prints the results of one shell evaluation: a string at the top level
-- as it is (as lua.c does), everything else through show.
function M.print_results(...)
  local n = select("#", ...)
  if n == 0 then return end
  local out = {}
  for i = 1, n do
    local v = select(i, ...)
    out[i] = type(v) == "string" and v or show(v)
  end
  io.stdout:write(table.concat(out, "\t"), "\n")
  io.stdout:flush()
end

-- Prints an error of the shell's: a message (with its traceback) as it
-- is, any other value in full.
function M.print_error(e)
  io.stdout:flush()
  io.stderr:write(type(e) == "string" and e or "error: " .. show(e), "\n")
  io.stderr:flush()
end

-- The text of an error value: a message, or a crash reason as a table.
function M.error_text(e)
  if type(e) == "string" then return e end
  if type(e) == "table" and type(e.error) == "string" then return e.error end
  return show(e)
end

-- Left-aligned columns from rows of strings; the first row is the header.
local function columns(rows)
  local width = {}
  for _, row in ipairs(rows) do
    for c, cell in ipairs(row) do width[c] = math.max(width[c] or 0, #cell) end
  end
  local lines = {}
  for _, row in ipairs(rows) do
    local cells = {}
    for c, cell in ipairs(row) do
      cells[c] = c == #row and cell or cell .. string.rep(" ", width[c] - #cell)
    end
    lines[#lines + 1] = table.concat(cells, "  ")
  end
  io.stdout:write(table.concat(lines, "\n"), "\n")
  io.stdout:flush()
end

-- ---------------------------------------------------------------- the application

local APP_FIELDS = { name = true, node = true, supervisor = true, main = true }
local NODE_FIELDS = { schedulers = true, data_dir = true, memory_limit = true }

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
      app_error(where, "node.%s: unknown option (known: schedulers, data_dir, memory_limit)",
                tostring(k))
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
    app_error(app.where, "cannot start %s: %s", app.name, M.error_text(pid))
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

-- The loop of `heirloom run`: waits for a signal (it interrupts the wait)
-- or for the top process to exit on its own. Returns the command's exit
-- status.
function M.run(app)
  say("%s started (%s %s)", app.name, app.supervisor and "supervisor" or "main", tostring(app.top))
  while true do
    local m, sender = receive_or_signal()
    local sig = M.take_signal()
    if sig ~= nil then
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
      return 1
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

local function cell(v)
  if v == nil then return "-" end
  return type(v) == "string" and v or show(v)
end

-- The process x names: a pid, its text ("<0.7.1>") or a registered name.
-- Raises "fname: ..." when there is none.
local function process_of(x, fname)
  if hl.kind(x) == "pid" then return x end
  if type(x) == "string" then
    if x:sub(1, 1) == "<" then
      local ok, pid = pcall(hl.pid, x)
      if ok then return pid end
      error(fname .. ": " .. x .. " is not a pid's text (such as <0.7.1>)", 0)
    end
    local pid = hl.whereis(x)
    if pid ~= nil then return pid end
    error(fname .. ": no process is registered as " .. show(x), 0)
  end
  error(fname .. ": argument 1 must be a pid, a pid's text or a registered name (got " ..
        type(x) .. ")", 0)
end

-- The table x names: a handle or the name of a named table.
local function table_of(x, fname)
  if hl.kind(x) == "table" then return x end
  if type(x) == "string" then
    local t = hl.table.whereis(x)
    if t ~= nil then return t end
    error(fname .. ": no named table " .. show(x), 0)
  end
  error(fname .. ": argument 1 must be a table handle or a table's name (got " .. type(x) .. ")", 0)
end

-- The module of an initial call ("counter:init" -> "counter").
local function module_of(info)
  return info.initial_call and info.initial_call:match("^(.*):[^:]*$")
end

-- Where a process is, without the directories of its file: the module
-- path tells nothing the file name does not.
local function tidy_where(where)
  if where == nil then return nil end
  return (where:gsub("[^%s:<>']*/", ""))
end

local function table_name(t)
  local ok, info = pcall(t.info, t)
  return ok and info.name or tostring(t)
end

local function list_text(values, text)
  if values == nil or #values == 0 then return "-" end
  local out = {}
  for k, v in ipairs(values) do out[k] = text(v) end
  return table.concat(out, " ")
end

-- The details of one process, one field per line.
local function describe_process(pid)
  local info = hl.process_info(pid)
  if info == nil then
    io.stdout:write(tostring(pid), " is not alive\n")
    return
  end
  local name = info.registered_name
  if name == nil and pid == hl.self() then name = "(shell)" end
  columns({
    { "pid", tostring(pid) },
    { "name", cell(name) },
    { "module", cell(module_of(info)) },
    { "initial_call", cell(info.initial_call) },
    { "current_function", cell(tidy_where(info.current_function)) },
    { "status", info.status },
    { "mailbox", tostring(info.message_queue_len) },
    { "memory", tostring(info.memory) },
    { "slices", tostring(info.slices) },
    { "messages_received", tostring(info.messages_received) },
    { "trap_exit", tostring(info.trap_exit) },
    { "links", list_text(info.links, tostring) },
    { "monitors", list_text(info.monitors, tostring) },
    { "tables", list_text(info.tables, table_name) },
  })
end

-- i(): every table with its name, type, size, memory, owner and heir.
-- i(x): the details of the process x names (as ps(x)).
function M.i(x)
  if x ~= nil then return describe_process(process_of(x, "i")) end
  local rows = { { "name", "type", "size", "memory", "owner", "heir" } }
  for _, t in ipairs(hl.table.all()) do
    local ok, info = pcall(t.info, t)
    if ok then
      rows[#rows + 1] = { info.name, info.type, tostring(info.size), tostring(info.memory),
                          cell(info.owner), cell(info.heir) }
    end
  end
  columns(rows)
  io.stdout:write(#rows - 1, " table", #rows == 2 and "" or "s", "\n")
end

-- Every live process with its process_info (and a name for the shell's
-- and hosts'), sorted by pid.
local function all_processes()
  local me, list = hl.self(), {}
  local pids = hl.processes()
  table.sort(pids, function(a, b) return a < b end)
  for _, pid in ipairs(pids) do
    local info = hl.process_info(pid)
    if info then
      local name = info.registered_name
      if name == nil then
        if pid == me then name = "(shell)"
        elseif info.host then name = "(host)" end
      end
      list[#list + 1] = { pid = pid, name = name, info = info }
    end
  end
  return list
end

-- ps(): every process with its name, module, status, mailbox length,
-- memory and current function. The shell is (shell).
-- ps(x): the details of the process x names.
function M.ps(x)
  if x ~= nil then return describe_process(process_of(x, "ps")) end
  local rows = { { "pid", "name", "module", "status", "mailbox", "memory", "function" } }
  local list = all_processes()
  for _, p in ipairs(list) do
    local info = p.info
    rows[#rows + 1] = { tostring(p.pid), cell(p.name), cell(module_of(info)), cell(info.status),
                        tostring(info.message_queue_len or 0), tostring(info.memory or 0),
                        cell(tidy_where(info.current_function)) }
  end
  columns(rows)
  io.stdout:write(#list, " process", #list == 1 and "" or "es", "\n")
end

local TOP_ORDER = {
  memory = function(info) return info.memory end,
  mailbox = function(info) return info.message_queue_len end,
  slices = function(info) return info.slices end,
}

-- top([by [, n]]): the n (10) processes using the most memory, or with
-- the longest mailboxes ("mailbox"), or that ran the most slices
-- ("slices": where the CPU went).
function M.top(by, n)
  by = by or "memory"
  local key = TOP_ORDER[by]
  if key == nil then
    error("top: argument 1 must be \"memory\", \"mailbox\" or \"slices\" (got " .. show(by) .. ")", 0)
  end
  n = n or 10
  if math.type(n) ~= "integer" or n < 1 then
    error("top: argument 2 must be a positive integer (got " .. show(n) .. ")", 0)
  end
  local list = all_processes()
  table.sort(list, function(a, b)
    local ka, kb = key(a.info), key(b.info)
    if ka ~= kb then return ka > kb end
    return a.pid < b.pid
  end)
  local rows = { { "pid", "name", "module", "memory", "mailbox", "slices" } }
  for i = 1, math.min(n, #list) do
    local p = list[i]
    rows[#rows + 1] = { tostring(p.pid), cell(p.name), cell(module_of(p.info)),
                        tostring(p.info.memory), tostring(p.info.message_queue_len),
                        tostring(p.info.slices) }
  end
  columns(rows)
end

-- t(x [, n]): a table's info and its first n (10) objects, in its order.
function M.t(x, n)
  local t = table_of(x, "t")
  n = n or 10
  if math.type(n) ~= "integer" or n < 0 then
    error("t: argument 2 must be a non-negative integer (got " .. show(n) .. ")", 0)
  end
  local info = t:info()
  columns({
    { "name", info.name }, { "type", info.type }, { "size", tostring(info.size) },
    { "memory", tostring(info.memory) }, { "owner", cell(info.owner) },
    { "heir", cell(info.heir) }, { "access", cell(info.access) },
    { "keypos", cell(info.keypos) },
  })
  local shown, key = 0, t:first()
  while key ~= nil and shown < n do
    for _, object in ipairs(t:lookup(key)) do
      if shown == n then break end
      io.stdout:write(show(object), "\n")
      shown = shown + 1
    end
    key = t:next(key)
  end
  if info.size > shown then
    io.stdout:write("(", shown, " of ", info.size, " objects)\n")
  end
end

-- kill(x [, reason]): sends the exit signal reason ("kill" by default:
-- it cannot be trapped) to the process x names.
function M.kill(x, reason)
  return hl.exit(process_of(x, "kill"), reason == nil and "kill" or reason)
end

local function children_of(sup)
  local ok, kids = pcall(hl.supervisor.which_children, sup)
  if not ok then return nil, M.error_text(kids) end
  return kids
end

local function print_tree(lines, sup, prefix, depth)
  local kids, err = children_of(sup)
  if kids == nil then
    lines[#lines + 1] = prefix .. "(which_children failed: " .. err .. ")"
    return
  end
  for k, child in ipairs(kids) do
    local last = k == #kids
    local pid = child.pid
    local alive = pid ~= nil and type(pid) ~= "string" and hl.process_info(pid) ~= nil
    lines[#lines + 1] = string.format("%s%s %s  %s  %s", prefix, last and "`--" or "|--",
                                      cell(child.id), cell(pid), cell(child.type))
    if child.type == "supervisor" and alive and depth < 32 then
      print_tree(lines, pid, prefix .. (last and "    " or "|   "), depth + 1)
    end
  end
end

-- Supervisors started from the prompt: tree() shows them too.
local started = {}

-- In the shell's state only, hl.supervisor.start_link notes what it
-- starts. Without the supervisor module there is nothing to note.
local function note_supervisors()
  local ok, sup = pcall(function() return hl.supervisor end)
  if not ok or type(sup) ~= "table" or type(sup.start_link) ~= "function" then return end
  local start_link = sup.start_link
  sup.start_link = function(spec, ...)
    local pid, a, b = start_link(spec, ...)
    if pid ~= nil then
      local label = type(spec) == "table" and type(spec.name) == "string" and spec.name or "supervisor"
      started[#started + 1] = { label = label, pid = pid }
    end
    return pid, a, b
  end
end

-- tree([sup]): the supervision tree under sup (a pid or registered name),
-- by default under the application's top supervisor and under those
-- started from the prompt.
function M.tree(sup)
  local roots = {}
  if sup ~= nil then
    roots[1] = { label = tostring(sup), pid = sup }
  else
    local app, seen = M.app, {}
    if app ~= nil and app.supervisor ~= nil then
      roots[1] = { label = app.name, pid = app.top }
      seen[app.top] = true
    end
    for _, s in ipairs(started) do
      if not seen[s.pid] and hl.process_info(s.pid) ~= nil then
        roots[#roots + 1] = s
        seen[s.pid] = true
      end
    end
  end
  if #roots == 0 then
    io.stdout:write("no supervision tree (start the shell with an application, or call tree(sup))\n")
    return
  end
  local lines = {}
  for _, root in ipairs(roots) do
    local pid = root.pid
    if type(pid) == "string" then pid = hl.whereis(pid) end
    if pid == nil or hl.process_info(pid) == nil then
      lines[#lines + 1] = root.label .. "  (not running)"
    else
      lines[#lines + 1] = string.format("%s  %s  supervisor", root.label, tostring(pid))
      print_tree(lines, pid, "", 0)
    end
  end
  io.stdout:write(table.concat(lines, "\n"), "\n")
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

-- flush(): prints and forgets the messages waiting for the shell.
function M.flush()
  local n = 0
  while true do
    local m = hl.receive(0)
    if m == nil then break end
    n = n + 1
    io.stdout:write("shell got ", show(m), "\n")
  end
  if n == 0 then io.stdout:write("no messages\n") end
end

-- The globals of the shell's prompt.
function M.install_globals(env)
  note_supervisors()
  env.hl = hl
  env.heirloom = hl
  env.i, env.ps, env.tree, env.flush = M.i, M.ps, M.tree, M.flush
  env.top, env.t, env.kill, env.restart = M.top, M.t, M.kill, M.restart
  env.pid = hl.pid
  env.show = function(v) io.stdout:write(show(v), "\n") end
  env.help = function()
    io.stdout:write([==[
hl (= heirloom)   the heirloom module: hl.spawn, hl.send, hl.table.new, ...
i()               every table: name, type, size, memory, owner, heir
ps()              every process: pid, name, module, status, mailbox, memory
ps(p), i(p)       one process in detail (p: a pid, "<0.7.1>" or a name)
top([by [, n]])   the n processes with the most "memory", "mailbox" or "slices"
t(tab [, n])      a table's info and its first n objects (tab: handle or name)
tree([sup])       the supervision tree (the application's, or under sup)
kill(p [, why])   sends an exit signal, "kill" unless why is given
pid("<0.7.1>")    the pid printed so (also pid(0, 7, 1))
restart()         starts the application again after its top process exited
flush()           prints and forgets the messages sent to the shell
show(v)           prints a value in full
An expression is printed; a statement is run; an incomplete chunk
continues on the next line (>>). Ctrl-D leaves (stopping the application).
]==])
  end
end

return M
