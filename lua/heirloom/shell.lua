-- heirloom.shell — the helpers of heirloom's shell prompt (i, ps, top, t,
-- tree, kill, pid, flush, show, help) and its value printer, for the
-- `heirloom shell` command and for a console attached to a running node.
-- Everything they print goes through M.write, which a console replaces to
-- send the text where its user is. See docs/heirloom-command.md.
local hl = require("heirloom")

local M = {}

-- Where the output goes: stdout, unless the prompt is elsewhere.
function M.write(...) io.stdout:write(...) end
function M.flush_output() io.stdout:flush() end
function M.write_error(text)
  io.stderr:write(text)
  io.stderr:flush()
end

local function write(...) M.write(...) end
local function flush_output() M.flush_output() end

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
  if hl.kind(t) == "list" then return "[" .. table.concat(parts, ", ") .. "]" end
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- A value as the shell prints it: strings quoted, tables in full (up to
-- a depth), lists (hl.list) in brackets, heirloom's pids, refs and table
-- handles as their tostring.
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
  write(table.concat(out, "\t"), "\n")
  flush_output()
end

-- Prints an error of the shell's: a message (with its traceback) as it
-- is, any other value in full.
function M.print_error(e)
  flush_output()
  M.write_error((type(e) == "string" and e or "error: " .. show(e)) .. "\n")
end

-- The text of an error value: a message, or a crash reason as a table.
function M.error_text(e)
  if type(e) == "string" then return e end
  if type(e) == "table" and type(e.error) == "string" then return e.error end
  return show(e)
end

-- Left-aligned columns from rows of strings; the first row is the header.
function M.columns(rows)
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
  write(table.concat(lines, "\n"), "\n")
  flush_output()
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

-- How many waiting messages ps(p) shows, and how much of each.
local SHOWN_MESSAGES, MESSAGE_WIDTH = 5, 100

-- A message as the shell prints values, cut when it is long.
local function message_text(m)
  local text = show(m)
  if #text > MESSAGE_WIDTH then text = text:sub(1, MESSAGE_WIDTH - 3) .. "..." end
  return text
end

-- The rows of the first waiting messages, under the mailbox's row: none
-- when the mailbox is empty.
local function message_rows(rows, info)
  local waiting, messages = info.message_queue_len, info.messages
  if waiting == 0 then return end
  if messages == nil then
    rows[#rows + 1] = { "messages", "(not readable now: it is running, or a host process)" }
    return
  end
  for k, m in ipairs(messages) do
    rows[#rows + 1] = { k == 1 and "messages" or "", message_text(m) }
  end
  if waiting > #messages then
    rows[#rows + 1] = { #messages == 0 and "messages" or "",
                        ("(%d of %d shown)"):format(#messages, waiting) }
  end
end

-- The details of one process, one field per line.
local function describe_process(pid)
  local info = hl.process_info(pid, SHOWN_MESSAGES)
  if info == nil then
    write(tostring(pid), " is not alive\n")
    return
  end
  local name = info.registered_name
  if name == nil and pid == hl.self() then name = "(shell)" end
  local rows = {
    { "pid", tostring(pid) },
    { "name", cell(name) },
    { "module", cell(module_of(info)) },
    { "initial_call", cell(info.initial_call) },
    { "current_function", cell(tidy_where(info.current_function)) },
    { "status", info.status },
    { "mailbox", tostring(info.message_queue_len) },
  }
  message_rows(rows, info)
  for _, row in ipairs({
    { "memory", tostring(info.memory) },
    { "slices", tostring(info.slices) },
    { "messages_received", tostring(info.messages_received) },
    { "trap_exit", tostring(info.trap_exit) },
    { "links", list_text(info.links, tostring) },
    { "monitors", list_text(info.monitors, tostring) },
    { "tables", list_text(info.tables, table_name) },
  }) do rows[#rows + 1] = row end
  M.columns(rows)
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
  M.columns(rows)
  write(#rows - 1, " table", #rows == 2 and "" or "s", "\n")
end

-- Every live process with its process_info (and a name for the shell's
-- and hosts'), sorted by pid.
local function all_processes()
  local me, list = hl.self(), {}
  local pids = hl.processes()
  table.sort(pids, function(a, b) return a < b end)
  for _, pid in ipairs(pids) do
    local info = hl.process_info(pid, 0)
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
  M.columns(rows)
  write(#list, " process", #list == 1 and "" or "es", "\n")
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
  M.columns(rows)
end

-- t(x [, n]): a table's info and its first n (10) objects, in its order.
function M.t(x, n)
  local t = table_of(x, "t")
  n = n or 10
  if math.type(n) ~= "integer" or n < 0 then
    error("t: argument 2 must be a non-negative integer (got " .. show(n) .. ")", 0)
  end
  local info = t:info()
  M.columns({
    { "name", info.name }, { "type", info.type }, { "size", tostring(info.size) },
    { "memory", tostring(info.memory) }, { "owner", cell(info.owner) },
    { "heir", cell(info.heir) }, { "access", cell(info.access) },
    { "keypos", cell(info.keypos) },
  })
  local shown, key = 0, t:first()
  while key ~= nil and shown < n do
    for _, object in ipairs(t:lookup(key)) do
      if shown == n then break end
      write(show(object), "\n")
      shown = shown + 1
    end
    key = t:next(key)
  end
  if info.size > shown then
    write("(", shown, " of ", info.size, " objects)\n")
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
    local info = pid ~= nil and type(pid) ~= "string" and hl.process_info(pid, 0) or nil
    local alive = info ~= nil
    lines[#lines + 1] = string.format("%s%s %s  %s  %s  %s", prefix, last and "`--" or "|--",
                                      cell(child.id), cell(pid), cell(child.type),
                                      info and info.status or "not running")
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
    local seen = {}
    local app = M.application and M.application()
    if app ~= nil then
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
    write("no supervision tree (start the shell with an application, or call tree(sup))\n")
    return
  end
  local lines = {}
  for _, root in ipairs(roots) do
    local pid = root.pid
    if type(pid) == "string" then pid = hl.whereis(pid) end
    local info = pid ~= nil and hl.process_info(pid, 0) or nil
    if info == nil then
      lines[#lines + 1] = root.label .. "  (not running)"
    else
      lines[#lines + 1] = string.format("%s  %s  supervisor  %s", root.label, tostring(pid),
                                        info.status)
      print_tree(lines, pid, "", 0)
    end
  end
  write(table.concat(lines, "\n"), "\n")
end


-- flush(): prints and forgets the messages waiting for the shell.
function M.flush()
  local n = 0
  while true do
    local m = hl.receive(0)
    if m == nil then break end
    n = n + 1
    write("shell got ", show(m), "\n")
  end
  if n == 0 then write("no messages\n") end
end


-- ---------------------------------------------------------------- completion

-- The table whose keys complete after `value.` or `value:`: a table
-- itself, or the methods a value's metatable gives (table handles,
-- strings).
local function fields_of(value)
  if type(value) == "table" then return value end
  local mt = getmetatable(value)
  local index = type(mt) == "table" and rawget(mt, "__index") or nil
  if type(index) == "table" then return index end
  return nil
end

-- The completions of word (what the cursor is at the end of: a name or a
-- path of names, "hl.table.ne", "t:loo"), looked up in env, sorted. A
-- lookup that raises (an __index that does) completes nothing.
function M.complete(word, env)
  local path, sep, partial = word:match("^(.-)([.:]?)([%a_][%w_]*)$")
  if path == nil then path, sep, partial = word:match("^(.-)([.:])$"), nil, "" end
  if word == "" then path, sep, partial = "", "", "" end
  if path == nil then return {} end
  if sep == nil then sep = word:sub(-1) end
  local scope = env
  if sep ~= "" then
    local value = env
    for name in path:gmatch("[^.:]+") do
      if not name:match("^[%a_][%w_]*$") or type(value) ~= "table" then return {} end
      local ok, field = pcall(function() return value[name] end)
      if not ok then return {} end
      value = field
    end
    scope = fields_of(value)
    if scope == nil then return {} end
  end
  local out, seen = {}, {}
  local function add(key, v)
    if type(key) == "string" and key:sub(1, #partial) == partial and key:match("^[%a_][%w_]*$")
       and not seen[key] and (sep ~= ":" or type(v) == "function") then
      seen[key] = true
      out[#out + 1] = path .. sep .. key
    end
  end
  for key, v in pairs(scope) do add(key, v) end
  if scope == env then
    local mt = getmetatable(env)
    local index = type(mt) == "table" and rawget(mt, "__index") or nil
    if type(index) == "table" then for key, v in pairs(index) do add(key, v) end end
  end
  table.sort(out)
  return out
end

-- The help text of the prompt; with_app: the prompt has an application
-- that restart() can start again.
local HELP = [==[
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
continues on the next line (>>). Ctrl-D leaves%s.
]==]

-- Puts the helpers in env, the globals of a prompt. restart: the
-- function restart() calls; leaving: what Ctrl-D does, for help().
function M.install(env, restart, leaving)
  note_supervisors()
  env.hl = hl
  env.heirloom = hl
  env.i, env.ps, env.tree, env.flush = M.i, M.ps, M.tree, M.flush
  env.top, env.t, env.kill, env.pid = M.top, M.t, M.kill, hl.pid
  env.restart = restart or function() error("restart: this prompt has no application", 0) end
  env.show = function(v) write(show(v), "\n") end
  env.help = function() write(HELP:format(leaving and " (" .. leaving .. ")" or "")) end
end

return M
