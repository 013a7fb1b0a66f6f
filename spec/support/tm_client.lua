-- spec/support/tm_client.lua — a table client for spec/tablemgr_spec.lua:
-- a server (seed 000's Table Handler, seed 002's etscounter_srv, seed 003's
-- Server) that asks the table manager for its table in init, then serves
-- store / load / delete / increment requests on it. It does nothing to
-- keep its table: no terminate, no re-registering with a restarted
-- manager. Whatever survives, the manager and the node keep.
--
-- args: name (registered name), table (the managed table's name), mgr
-- (the manager's name), topts (table options), wait (manage's opts),
-- report (a pid told {"client_up", name, pid, table, created} after init),
-- init_sleep (ms to sleep after manage, to keep requests waiting),
-- tables (extra table names to manage as well).
local hl = require("heirloom")
local tm = require("heirloom.tablemgr")
local M = {}

function M.start_link(args)
  return hl.server.start_link("tm_client", args, { name = args.name })
end

function M.init(a)
  local t, created = tm.manage(a.table, a.topts, a.mgr, a.wait)
  local extra = {}
  for _, name in ipairs(a.tables or {}) do extra[name] = tm.manage(name, a.topts, a.mgr, a.wait) end
  if a.init_sleep then hl.sleep(a.init_sleep) end
  if a.report then hl.send(a.report, { "client_up", a.name, hl.self(), t, created }) end
  return "ok", { t = t, extra = extra, a = a }
end

function M.handle_call(req, _, s)
  local op, t = req[1], s.t
  if op == "incr" then
    -- exactly once per sequence number: a retried increment that was
    -- already applied is acknowledged, not applied again
    local seq = req[2]
    local o = t:lookup("count")[1] or { "count", 0, 0 }
    if seq > o[3] then
      o = { "count", o[2] + 1, seq }
      t:insert(o)
    end
    return "reply", o[2], s
  elseif op == "store" then
    t:insert({ req[2], req[3] })
    return "reply", "stored", s
  elseif op == "load" then
    local o = t:lookup(req[2])[1]
    return "reply", { "value", o and o[2] }, s
  elseif op == "delete" then
    t:delete(req[2])
    return "reply", "deleted", s
  elseif op == "fill" then
    -- objects {i, "v<i>"} for i = 1..n, in one insert
    local objs = {}
    for i = 1, req[2] do objs[i] = { i, "v" .. i } end
    t:insert_many(objs)
    return "reply", #objs, s
  elseif op == "table" then
    return "reply", t, s
  elseif op == "extra" then
    return "reply", s.extra[req[2]], s
  elseif op == "crash" then
    error(req[2] or "boom", 0)               -- an ordinary error, not a kill
  elseif op == "exit" then
    hl.exit(req[2])
  elseif op == "stop" then
    return "stop", req[2] or "normal", "stopping", s
  end
  return "reply", { "unknown", op }, s
end

return M
