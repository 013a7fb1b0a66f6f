-- etscounter.lua — the client of seed 002's etscounter: the application's
-- supervision tree, and count/check/die as functions any process can call
-- (the host, a spec, the `heirloom shell` prompt).
--
--   etscounter_app (one_for_one)
--   ├── etsmgr_sup            (one_for_one)
--   │   └── etsmgr_srv        an hl.tablemgr instance: creates the table, is its heir
--   └── etscounter_sup        (one_for_one)
--       └── etscounter_srv    the counter server: owns the table while it runs
--
-- As in the seed, where etsmgr and etscounter are two applications, the
-- manager and the server have supervisors of their own: the server's init
-- waits for the manager (tablemgr.manage), and a supervisor answers
-- nothing while a start function runs, so a manager under the server's
-- own supervisor could not be restarted while a restarted server waits
-- for it.
local hl = require("heirloom")
local srv = require("etscounter_srv")

local M = {}

-- The supervisor spec. opts.verbose: the server prints its notices (as the
-- seed's logger:notice lines); opts.name: the supervisor's name;
-- opts.intensity: restarts allowed within 5 s (default 10).
function M.spec(opts)
  opts = opts or {}
  local intensity = opts.intensity or 10
  local function sup(name, child)
    return { id = name, type = "supervisor",
             start = { "heirloom.supervisor", "start_link", {
               name = name, strategy = "one_for_one", intensity = intensity, period = 5,
               children = { child } } } }
  end
  return {
    name = opts.name or "etscounter_app", strategy = "one_for_one", intensity = intensity, period = 5,
    children = {
      sup("etsmgr_sup",
        { id = "etsmgr_srv", start = { "heirloom.tablemgr", "start_link", { name = srv.MANAGER } } }),
      sup("etscounter_sup",
        { id = "etscounter_srv",
          start = { "heirloom.server", "start_link", "etscounter_srv",
                    { verbose = opts.verbose == true }, { name = srv.NAME } } }),
    },
  }
end

-- Starts the application, linked to the caller: its supervisor's pid.
function M.start(opts)
  return hl.supervisor.start_link(M.spec(opts))
end

-- Stops it in order (the server terminates, then the manager).
function M.stop(sup)
  return hl.supervisor.stop(sup or "etscounter_app")
end

-- Each request is a call_retry: if the server is being restarted, the call
-- waits for the new one (hl.await_name, no polling) instead of failing.
local function call(req)
  return hl.server.call_retry(srv.NAME, req, { timeout = 5000, retry_for = 5000 })
end

function M.count() return call("count") end        -- the new count
function M.check() return call("check") end        -- the table's objects: {{"count", n}}
function M.table() return call("table") end        -- the table's handle

-- The count read straight from the table: no call to the server (the table
-- is protected: anyone may read it).
function M.read()
  local t = hl.table.whereis(srv.TABLE)
  return t and t:lookup_element("count", 2)
end

-- Stops the server in order (its terminate releases the table): the
-- manager forgets it, as in the seed after etscounter:stop().
function M.stop_server()
  return hl.supervisor.terminate_child("etscounter_sup", "etscounter_srv")
end

-- Kills the server (it ends itself with exit "kill", as the seed's die/0),
-- and returns once it is gone, as a prompt's next line comes: a request
-- sent to it before that would reach the dying server and fail with its
-- "killed".
function M.die()
  local pid = hl.whereis(srv.NAME)
  local ref = pid and hl.monitor(pid)
  hl.server.cast(srv.NAME, "die")
  if ref then
    hl.receive(function(m) return type(m) == "table" and m[1] == "DOWN" and m[2] == ref end, 5000)
  end
end

-- What the manager knows: a list of {name, table, owner, state}.
function M.info() return require("heirloom.tablemgr").info(srv.MANAGER) end

return M
