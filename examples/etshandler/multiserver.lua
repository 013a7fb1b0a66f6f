-- multiserver.lua — seeds 000/001's multiserver application and its client
-- functions (the seed's etsserver:newtable/1, die/0, showtables/0 and the
-- handler's store/load/delete), for any process: the host, a spec, the
-- `heirloom shell` prompt.
--
--   multiserver_sup (one_for_one)
--   ├── etsserver      the Table Manager: an hl.tablemgr instance; creates
--   │                  each table, keeps its registry, is every table's heir
--   ├── ets_test1      a Table Handler (etshandler), added by newtable
--   └── ets_test2      ...
local hl = require("heirloom")
local tablemgr = require("heirloom.tablemgr")

local M = {}

M.SUP = "multiserver_sup"
M.MANAGER = "etsserver"

-- The supervisor spec. opts.verbose: the handlers print notices;
-- opts.intensity: restarts allowed within 5 s (default 20).
function M.spec(opts)
  opts = opts or {}
  return {
    name = M.SUP, strategy = "one_for_one", intensity = opts.intensity or 20, period = 5,
    children = {
      { id = M.MANAGER, start = { "heirloom.tablemgr", "start_link", { name = M.MANAGER } } },
    },
  }
end

M.verbose = false

function M.start(opts)
  M.verbose = (opts and opts.verbose) == true
  return hl.supervisor.start_link(M.spec(opts))
end

function M.stop() return hl.supervisor.stop(M.SUP) end

-- Creates a table and its handler (a child of multiserver_sup registered
-- under the table's name). Returns true, or nil and why.
function M.newtable(name, opts)
  if type(name) ~= "string" or name == "" then
    error("multiserver.newtable: name must be a non-empty string", 2)
  end
  local verbose = M.verbose
  if opts and opts.verbose ~= nil then verbose = opts.verbose end
  local pid, why = hl.supervisor.start_child(M.SUP, {
    id = name, restart = "permanent", shutdown = 2000,
    start = { "heirloom.server", "start_link", "etshandler",
              { table = name, manager = M.MANAGER, verbose = verbose }, { name = name } },
  })
  if pid then return true end
  if why == "already_present" or (type(why) == "table" and why[1] == "already_started") then
    return nil, "multiserver.newtable: table '" .. name .. "' already exists"
  end
  return nil, why
end

-- The retrying call wrapper of seed 000 (utils:call_server), made safe:
-- retried only while no handler is registered (the request was never
-- sent), waiting for the restarted one without polling, bounded in time.
M.call_opts = { timeout = 5000, retry_for = 5000 }
local function call(name, req)
  return hl.server.call_retry(name, req, M.call_opts)
end

function M.store(name, key, value) return call(name, { "store", key, value }) end
function M.load(name, key) return call(name, { "load", key }) end
function M.delete(name, key) return call(name, { "delete", key }) end
function M.deleteifmatch(name, key, value) return call(name, { "deleteifmatch", key, value }) end
-- {table = handle or nil, pending = n}: answered even before the table came.
function M.status(name) return call(name, "status") end

-- Reads need no handler: anyone may read a protected table by its name.
function M.read(name, key)
  local t = hl.table.whereis(name)
  if t == nil then return nil end
  local values = {}
  for i, obj in ipairs(t:lookup(key)) do values[i] = obj[2] end
  return values
end

-- The seed's etsserver:die/0 and etshandler:die/1: crash the Table Manager
-- (killed), or a Table Handler (an ordinary error).
function M.die() hl.exit(hl.whereis(M.MANAGER), "kill") end
function M.handler_die(name) hl.server.cast(name, "die") end

-- The seed's showtables/0: what the Table Manager knows, {name, table,
-- owner, state} for each table, sorted by name.
function M.showtables()
  local list = tablemgr.info(M.MANAGER)
  table.sort(list, function(a, b) return a.name < b.name end)
  return list
end

return M
