-- etscounter_srv.lua — seed 002's counter server: a counter kept in one
-- object {"count", n} of a table that the table manager (hl.tablemgr)
-- manages. The server owns the table while it runs; the manager, by its
-- registered name, is the heir.
--
-- What the seed's etscounter_srv had to do by hand, and this one does not:
--   - wait for etsmgr_srv to start (init calls tablemgr.manage, which finds
--     the manager by name and waits for it without polling);
--   - watch the manager and, when it restarts, register the table again
--     so that the new manager becomes heir: the heir is a registered name,
--     resolved when the owner dies, so the restarted manager is heir with no
--     step from anyone.
local hl = require("heirloom")
local tablemgr = require("heirloom.tablemgr")

local M = {}

M.NAME = "etscounter_srv"      -- the server's registered name
M.TABLE = "etscounter"         -- the counter table's name (a named table)
M.MANAGER = "etsmgr_srv"       -- the table manager's registered name

local function notice(state, fmt, ...)
  if state.verbose then
    io.stdout:write("etscounter_srv: ", string.format(fmt, ...), "\n")
    io.stdout:flush()
  end
end

-- args: { verbose = bool, manager = name }
function M.init(args)
  args = args or {}
  local state = { verbose = args.verbose, manager = args.manager or M.MANAGER }
  hl.trap_exit(true)      -- so that an orderly stop runs terminate (below)
  -- a new table, or the one the manager kept while this server was down
  local created
  state.tab, created = tablemgr.manage(M.TABLE, { type = "set", access = "protected", named = true },
                                       state.manager)
  state.tab:insert_new({ "count", 0 })    -- only the first time: a kept count stays
  notice(state, "got %s table %s from %s, Data %s.", created and "a new" or "its", tostring(state.tab),
    state.manager, M.show(state.tab:tab2list()))
  return "ok", state
end

function M.handle_call(req, _from, state)
  if req == "count" then
    local n = state.tab:update_counter("count", 1)
    notice(state, "Counter %d.", n)
    return "reply", n, state
  elseif req == "check" then
    local data = state.tab:tab2list()
    notice(state, "Table: %s, Data %s.", tostring(state.tab), M.show(data))
    return "reply", data, state
  elseif req == "table" then
    return "reply", state.tab, state
  end
  return "reply", nil, state
end

function M.handle_cast(msg, state)
  if msg == "die" then
    notice(state, "about to die.")
    hl.exit(hl.self(), "kill")
  end
  return "noreply", state
end

-- (tablemgr.manage takes the ETS-TRANSFER of the table it hands over out
-- of the mailbox: nothing else comes here.)
function M.handle_info(_msg, state)
  return "noreply", state
end

-- An orderly stop (the supervisor's "shutdown", or "normal") tells the
-- manager to forget the table, as the seed's etscounter does when the
-- application stops. A crash does not: the manager keeps the table for the
-- next server.
function M.terminate(reason, state)
  notice(state, "terminating")
  if reason == "shutdown" or reason == "normal" then
    pcall(tablemgr.release, M.TABLE, state.manager)
  end
end

-- {{"count", 3}} as the seed prints it: [{count,3}]
function M.show(v)
  if type(v) ~= "table" then return tostring(v) end
  local parts = {}
  for i = 1, #v do parts[i] = M.show(v[i]) end
  return "{" .. table.concat(parts, ",") .. "}"
end

return M
