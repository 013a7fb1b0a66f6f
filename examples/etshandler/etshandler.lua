-- etshandler.lua — seeds 000/001's Table Handler: one server per table,
-- registered under the table's name, that owns the table and performs
-- store, load, delete and deleteifmatch on it. The table itself is created
-- and kept by the Table Manager (an hl.tablemgr instance, "etsserver" by
-- default), which is its heir by name.
--
-- The seed's handler could get a request before it had its table, and
-- retried it with delayed_store/delayed_load/delayed_delete; its delayed
-- delete turned into a read. Here a request that comes before the table
-- waits in the handler's state, with its caller's `from`, and is run and
-- answered, in arrival order and as what it was, as soon as the table is
-- there. The handler never blocks meanwhile (a "status" call is answered
-- at once), and nothing polls: a small linked process waits for the
-- manager's name (hl.await_name) and says when it is there.
local hl = require("heirloom")
local tablemgr = require("heirloom.tablemgr")

local M = {}

M.TABLE_OPTS = { type = "bag", access = "protected", named = true }

local function notice(state, fmt, ...)
  if state.verbose then
    io.stdout:write("etshandler: ", string.format(fmt, ...), "\n")
    io.stdout:flush()
  end
end

-- The watcher: tells the handler once a process holds the manager's name.
-- (Spawned as a function: no upvalues.)
local function watch_manager(manager, handler)
  local hl_ = require("heirloom")
  local pid = hl_.await_name(manager)           -- no timeout: the link ends it with the handler
  hl_.send(handler, { "manager_up", pid })
end

local function ask_for_table(state)
  hl.spawn_link(watch_manager, state.manager, hl.self())
end

-- One operation on the table; returns the reply.
local function run(tab, req)
  local op, key = req[1], req[2]
  if op == "store" then
    tab:insert({ key, req[3] })
    return "ok"
  elseif op == "load" then
    local values = {}
    for i, obj in ipairs(tab:lookup(key)) do values[i] = obj[2] end
    return values
  elseif op == "delete" then
    return tab:delete(key)
  elseif op == "deleteifmatch" then
    -- delete the object {key, value} only; true if it was there
    local before = #tab:lookup(key)
    tab:delete_object({ key, req[3] })
    return #tab:lookup(key) < before
  end
  error("etshandler: unknown request " .. tostring(op))
end

local function adopt(state, tab)
  local first = state.tab == nil
  state.tab = tab
  if first then
    notice(state, "Got the table ownership for table:%s (%d objects); %d requests were waiting",
      state.name, tab:info("size"), #state.pending)
    local pending = state.pending
    state.pending = {}
    for _, p in ipairs(pending) do
      local ok, r = pcall(run, tab, p.req)
      hl.server.reply(p.from, ok and r or { error = tostring(r) })
    end
  end
end

-- args: { table = name, manager = name (default "etsserver"), verbose = bool }
function M.init(args)
  local state = { name = args.table, manager = args.manager or "etsserver",
                  verbose = args.verbose, tab = nil, pending = {} }
  ask_for_table(state)
  return "ok", state
end

function M.handle_call(req, from, state)
  if req == "status" then
    return "reply", { table = state.tab, pending = #state.pending }, state
  end
  if state.tab == nil then
    state.pending[#state.pending + 1] = { req = req, from = from }
    return "noreply", state
  end
  return "reply", run(state.tab, req), state
end

function M.handle_cast(msg, state)
  if msg == "die" then
    notice(state, "Got a die request")
    error("etshandler " .. state.name .. ": die requested")
  end
  return "noreply", state
end

function M.handle_info(msg, state)
  if type(msg) ~= "table" then return "noreply", state end
  if msg[1] == "manager_up" and state.tab == nil then
    local ok, tab = pcall(tablemgr.manage, state.name, M.TABLE_OPTS, state.manager)
    if ok then
      adopt(state, tab)
    else
      -- the manager went down during the call: wait for the next one (if
      -- it gave us the table before it died, its ETS-TRANSFER is on its way)
      notice(state, "could not get table %s: %s", state.name, tostring(tab))
      ask_for_table(state)
    end
  elseif msg[1] == "ETS-TRANSFER" then
    local tab = msg[2]
    if tab:info("name") == state.name then adopt(state, tab) end
  end
  return "noreply", state
end

return M
