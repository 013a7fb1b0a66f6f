-- heirloom.tablemgr — the table manager: a server that creates tables for
-- client processes, stays their heir (by its registered name) and holds a
-- table while its client is down, so that a crashed client restarted by its
-- supervisor gets the same table back with every object in it. Reached as
-- hl.tablemgr. See docs/tablemgr.md for the contract.
--
-- The truth about a table is its owner, read from the table itself: the
-- manager keeps no "who has it" state that a lost message could make
-- wrong. Its registry (name -> {table =, tname =, opts =}) is kept in the
-- node's store (hl.store, namespace "tablemgr/<instance>"), so a restarted
-- manager finds the tables it managed, claims back those that went to the
-- node's custody while it was down, and drops entries whose table is gone.
-- The server callbacks (init, handle_call, handle_info) run in the manager
-- process; manage, release and info run in the caller.
local hl = require("heirloom")
local server = require("heirloom.server")

local M = {}

local DEFAULT_NAME = "tablemgr"
local DEFAULT_WAIT = 5000

-- What manage's table_opts may hold: hl.table.new's options, less the
-- heir, which the manager sets to itself.
local TABLE_OPTS = { type = true, access = true, named = true, keypos = true,
                     custody = true, durable = true, sync = true }
-- Options compared with an existing table's info() when it is handed back.
local COMPARED = { "type", "access", "named", "keypos", "durable" }

-- ---------------------------------------------------------------- helpers

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

-- What a value is, for error messages: heirloom's kind or the Lua type.
local function kind_text(v)
  local kind = hl.kind(v)
  if kind == "table" then return "table handle" end
  return kind or type(v)
end

local function is_table_handle(v) return hl.kind(v) == "table" end

local function check_name(fname, what, v, level)
  if type(v) ~= "string" or v == "" then
    error(("heirloom.tablemgr.%s: %s must be a non-empty string (got %s)")
      :format(fname, what, type(v) == "string" and "an empty string" or kind_text(v)), level + 1)
  end
end

local function check_mgr(fname, mgr, level)
  if mgr == nil then return DEFAULT_NAME end
  check_name(fname, "mgr (the manager's registered name)", mgr, level + 1)
  return mgr
end

-- opts of the caller-side calls: { timeout =, retry_for = } in ms.
local function check_wait(fname, opts, level)
  if opts == nil then return DEFAULT_WAIT, DEFAULT_WAIT end
  if type(opts) ~= "table" then
    error(("heirloom.tablemgr.%s: opts must be a table (got %s)"):format(fname, kind_text(opts)),
      level + 1)
  end
  for k in pairs(opts) do
    if k ~= "timeout" and k ~= "retry_for" then
      error(("heirloom.tablemgr.%s: opts: unknown option %s"):format(fname, show(k)), level + 1)
    end
  end
  local function ms(what, v)
    if v == nil then return DEFAULT_WAIT end
    if math.type(v) ~= "integer" or v < 0 then
      error(("heirloom.tablemgr.%s: opts.%s must be a non-negative integer of milliseconds " ..
        "(got %s)"):format(fname, what, show(v)), level + 2)
    end
    return v
  end
  return ms("timeout", opts.timeout), ms("retry_for", opts.retry_for)
end

local function check_table_opts(fname, topts, level)
  if topts == nil then return {} end
  if type(topts) ~= "table" then
    error(("heirloom.tablemgr.%s: table_opts must be a table (got %s)"):format(fname,
      kind_text(topts)), level + 1)
  end
  local copy = {}
  for k, v in pairs(topts) do
    if k == "heir" or k == "heir_data" then
      error(("heirloom.tablemgr.%s: table_opts.%s: the manager sets the heir (itself, by its " ..
        "registered name); leave it out"):format(fname, k), level + 1)
    elseif not TABLE_OPTS[k] then
      error(("heirloom.tablemgr.%s: table_opts: unknown option %s"):format(fname, show(k)),
        level + 1)
    end
    local tv = type(v)
    if tv ~= "string" and tv ~= "number" and tv ~= "boolean" then
      error(("heirloom.tablemgr.%s: table_opts.%s: expected a string, number or boolean (got %s)")
        :format(fname, k, kind_text(v)), level + 1)
    end
    copy[k] = v
  end
  return copy
end

-- A call to the manager that waits for a restarting manager (call_retry)
-- and, for idempotent requests, tries again when the manager died while
-- handling it. Returns the reply, or raises a clear error.
local function mgr_call(fname, mgr, request, timeout, retry_for, idempotent, level)
  local deadline = hl.now() + retry_for
  while true do
    local left = math.max(deadline - hl.now(), 0)
    local ok, r = pcall(server.call_retry, mgr, request, { timeout = timeout, retry_for = left })
    if ok then return r end
    if not (idempotent and server.is_error(r, "exit") and hl.now() < deadline) then
      local msg
      if server.is_error(r, "noproc") then
        msg = ("no table manager is running as %q (waited %d ms)"):format(mgr, retry_for)
      elseif server.is_error(r, "timeout") then
        msg = ("the table manager %q did not answer within %d ms"):format(mgr, timeout)
      elseif server.is_error(r, "exit") then
        msg = ("the table manager %q exited before answering (%s)"):format(mgr,
          tostring(r.message):gsub("^heirloom%.server%.call_retry: exit: ", ""))
      elseif server.is_error(r, "calling_self") then
        msg = "the table manager cannot call itself"
      else
        msg = tostring(r)
      end
      error(("heirloom.tablemgr.%s: %s"):format(fname, msg), level + 1)
    end
  end
end

-- ---------------------------------------------------------------- client API

-- start_link(opts): a manager linked to the caller (a supervisor child
-- start function). opts.name: its registered name ("tablemgr");
-- opts.registry: the hl.store namespace of its registry
-- ("tablemgr/<name>"). Returns the pid, or nil and a reason.
local function start(fname, opts, link)
  if opts ~= nil and type(opts) ~= "table" then
    error(("heirloom.tablemgr.%s: opts must be a table (got %s)"):format(fname, kind_text(opts)), 3)
  end
  opts = opts or {}
  for k in pairs(opts) do
    if k ~= "name" and k ~= "registry" then
      error(("heirloom.tablemgr.%s: opts: unknown option %s"):format(fname, show(k)), 3)
    end
  end
  local name = opts.name or DEFAULT_NAME
  check_name(fname, "opts.name", name, 3)
  local registry = opts.registry or ("tablemgr/" .. name)
  check_name(fname, "opts.registry", registry, 3)
  local args = { name = name, registry = registry }
  if link then return server.start_link("heirloom.tablemgr", args, { name = name }) end
  return server.start("heirloom.tablemgr", args, { name = name })
end

function M.start_link(opts)
  local pid, why = start("start_link", opts, true)   -- not a tail call: errors name the caller
  return pid, why
end

-- start(opts): the same, not linked (for a host that runs one by hand).
function M.start(opts)
  local pid, why = start("start", opts, false)
  return pid, why
end

-- manage(name, table_opts [, mgr [, opts]]): the table called name, owned
-- by the caller when this returns, with the manager as heir. Returns the
-- handle and whether the table was just created.
function M.manage(name, table_opts, mgr, opts)
  check_name("manage", "name", name, 2)
  local topts = check_table_opts("manage", table_opts, 2)
  mgr = check_mgr("manage", mgr, 2)
  local timeout, retry_for = check_wait("manage", opts, 2)
  local r = mgr_call("manage", mgr, { "manage", name, topts }, timeout, retry_for, true, 2)
  if type(r) == "table" and r[1] == "ok" and is_table_handle(r[2]) then
    local t = r[2]
    -- the manager gave the table before it replied: its ETS-TRANSFER is
    -- already here; take it out so that it does not reach handle_info
    hl.receive(function(m)
      return type(m) == "table" and m[1] == "ETS-TRANSFER" and m[2] == t
    end, 0)
    return t, r[3] == true
  end
  if type(r) == "table" and r[1] == "error" then
    error("heirloom.tablemgr.manage: " .. tostring(r[2]), 2)
  end
  error("heirloom.tablemgr.manage: unexpected answer from the manager " .. show(mgr), 2)
end

-- release(name [, mgr [, opts]]): the manager forgets the table and it is
-- dropped. Only the table's owner may release it: one the manager holds
-- (its client is down) must be taken with manage first.
function M.release(name, mgr, opts)
  check_name("release", "name", name, 2)
  mgr = check_mgr("release", mgr, 2)
  local timeout, retry_for = check_wait("release", opts, 2)
  local r = mgr_call("release", mgr, { "release", name }, timeout, retry_for, false, 2)
  if type(r) == "table" and r[1] == "ok" then return true end
  if type(r) == "table" and r[1] == "drop" and is_table_handle(r[2]) then
    -- the caller owns it and the manager has forgotten it: drop it here
    pcall(hl.table.drop, r[2])
    return true
  end
  if type(r) == "table" and r[1] == "error" then
    error("heirloom.tablemgr.release: " .. tostring(r[2]), 2)
  end
  error("heirloom.tablemgr.release: unexpected answer from the manager " .. show(mgr), 2)
end

-- info([mgr [, opts]]): { {name =, table =, owner =, state =}, ... } by name.
function M.info(mgr, opts)
  mgr = check_mgr("info", mgr, 2)
  local timeout, retry_for = check_wait("info", opts, 2)
  local r = mgr_call("info", mgr, { "info" }, timeout, retry_for, true, 2)
  if type(r) ~= "table" then
    error("heirloom.tablemgr.info: unexpected answer from the manager " .. show(mgr), 2)
  end
  return r
end

-- ---------------------------------------------------------------- the manager process

-- Where a table stands: "gone" (dropped or deleted), "custody" (nobody
-- owns it), "held" (the manager owns it) or "owned" (by another process,
-- returned second).
local function status(t)
  local ok, i = pcall(hl.table.info, t)
  if not ok then return "gone" end
  if i.owner == nil then return "custody" end
  if i.owner == hl.self() then return "held", i.owner end
  return "owned", i.owner
end

-- True if t is the table of registry record rec: its name, and the
-- manager's name as heir (table ids start again at each node start, so an
-- id alone could name another table after a restart).
local function is_ours(state, t, rec)
  if not is_table_handle(t) then return false end
  local ok, i = pcall(hl.table.info, t)
  return ok and i.name == rec.tname and i.heir == state.name
end

local function find_table(state, rec)
  if is_ours(state, rec.table, rec) then return rec.table end
  if rec.opts.named then
    local t = hl.table.whereis(rec.tname)
    if t ~= nil and is_ours(state, t, rec) then return t end
    return nil
  end
  for _, t in ipairs(hl.table.all()) do
    if is_ours(state, t, rec) then return t end
  end
  return nil
end

local function forget(state, name)
  state.entries[name] = nil
  hl.store.delete(state.ns, name)
end

function M.init(args)
  hl.trap_exit(true)
  local state = { name = args.name, ns = args.registry, entries = {}, waiting = {}, strays = 0 }
  for _, kv in ipairs(hl.store.list(state.ns)) do
    local name, rec = kv[1], kv[2]
    local t
    if type(name) == "string" and type(rec) == "table" and type(rec.tname) == "string" and
        type(rec.opts) == "table" then
      t = find_table(state, rec)
    end
    if t == nil then
      hl.store.delete(state.ns, name)     -- the table no longer exists: never hand it out
    else
      if t ~= rec.table then
        rec.table = t                      -- the same table under a new id (a durable one)
        hl.store.put(state.ns, name, rec)
      end
      state.entries[name] = rec
      -- held tables went to custody when the last manager died: take them back
      if status(t) == "custody" then pcall(hl.table.claim, t) end
    end
  end
  return "ok", state
end

-- An existing table asked for with options it does not have: refused
-- rather than handed out as something else.
local function mismatch(t, topts)
  local i = hl.table.info(t)
  for _, k in ipairs(COMPARED) do
    if topts[k] ~= nil and topts[k] ~= i[k] then
      return ("%s = %s (asked for %s)"):format(k, show(i[k]), show(topts[k]))
    end
  end
  return nil
end

local function give(rec, name, caller, created)
  local ok, err = pcall(hl.table.give_away, rec.table, caller, name)
  if ok then return { "ok", rec.table, created } end
  -- the caller died on the way: the manager keeps the table for the next one
  return { "error", ("table %q could not be handed over: %s"):format(name, tostring(err)) }
end

local function create(state, name, topts, caller)
  local newopts = {}
  for k, v in pairs(topts) do newopts[k] = v end
  newopts.heir, newopts.heir_data = state.name, name
  if newopts.custody == nil then newopts.custody = true end
  local ok, t = pcall(hl.table.new, name, newopts)
  if not ok then
    return { "error", ("table %q cannot be created: %s"):format(name,
      tostring(t):gsub("^heirloom%.table%.new: ", "")) }
  end
  local rec = { table = t, tname = name, opts = topts }
  local stored, why = pcall(hl.store.put, state.ns, name, rec)
  if not stored then
    pcall(hl.table.drop, t)
    return { "error", ("table %q: the registry cannot be written: %s"):format(name, tostring(why)) }
  end
  state.entries[name] = rec
  return give(rec, name, caller, true)
end

-- The answer to a manage request, or nil when it must wait for the owner's
-- exit to finish (the table is then on its way to the manager).
local function manage(state, from, name, topts)
  local caller = from[1]
  local rec = state.entries[name]
  if rec ~= nil then
    local st, owner = status(rec.table)
    if st == "custody" then
      pcall(hl.table.claim, rec.table)
      st, owner = status(rec.table)
    end
    if st == "gone" then
      forget(state, name)                  -- its table died: created afresh below
    else
      local bad = mismatch(rec.table, topts)
      if bad then return { "error", ("table %q exists with %s"):format(name, bad) } end
      if st == "held" then return give(rec, name, caller, false) end
      if owner == caller then return { "ok", rec.table, false } end
      local pi = owner and hl.process_info(owner)
      if pi == nil or pi.status == "exiting" then
        -- its owner is exiting: the table comes to the manager before the DOWN does
        local mref = hl.monitor(owner)
        state.waiting[mref] = { from = from, name = name, opts = topts }
        return nil
      end
      return { "error", ("table %q is owned by %s, a live process"):format(name, tostring(owner)) }
    end
  end
  return create(state, name, topts, caller)
end

local function release(state, from, name)
  local rec = state.entries[name]
  if rec == nil then
    return { "error", ("table %q is not managed by %q"):format(name, state.name) }
  end
  local st, owner = status(rec.table)
  if st == "gone" then
    forget(state, name)
    return { "ok" }
  end
  -- A table the manager holds or keeps in custody waits for its client's
  -- restart: releasing it would drop the data the restart comes back for.
  if st ~= "owned" then
    return { "error", ("table %q waits for its client (held by the manager): only its owner "
      .. "may release it; manage it first"):format(name) }
  end
  if owner ~= from[1] then
    return { "error", ("table %q is owned by %s: only its owner may release it")
      :format(name, tostring(owner)) }
  end
  forget(state, name)
  return { "drop", rec.table }
end

local function info(state)
  local names = {}
  for name in pairs(state.entries) do names[#names + 1] = name end
  table.sort(names)
  local out = {}
  for _, name in ipairs(names) do
    local rec = state.entries[name]
    local st, owner = status(rec.table)
    if st == "gone" then
      forget(state, name)
    else
      out[#out + 1] = { name = name, table = rec.table, owner = owner, state = st }
    end
  end
  return out
end

function M.handle_call(req, from, state)
  local op = type(req) == "table" and req[1] or nil
  if op == "manage" and type(req[2]) == "string" and type(req[3]) == "table" then
    local r = manage(state, from, req[2], req[3])
    if r == nil then return "noreply", state end
    return "reply", r, state
  elseif op == "release" and type(req[2]) == "string" then
    return "reply", release(state, from, req[2]), state
  elseif op == "info" then
    return "reply", info(state), state
  end
  return "reply", { "error", "unknown request " .. show(op) }, state
end

function M.handle_cast(_, state)
  return "noreply", state
end

local function known(state, t)
  for _, rec in pairs(state.entries) do
    if rec.table == t then return true end
  end
  return false
end

function M.handle_info(msg, state)
  if type(msg) ~= "table" then return "noreply", state end
  if msg[1] == "ETS-TRANSFER" and is_table_handle(msg[2]) then
    -- a known table is held until its client asks again; a stray is dropped
    if not known(state, msg[2]) and status(msg[2]) == "held" then
      state.strays = state.strays + 1
      pcall(hl.table.drop, msg[2])
    end
  elseif msg[1] == "DOWN" and state.waiting[msg[2]] ~= nil then
    local w = state.waiting[msg[2]]
    state.waiting[msg[2]] = nil
    local r = manage(state, w.from, w.name, w.opts)
    if r ~= nil then server.reply(w.from, r) end
  end
  -- EXIT of linked processes other than the parent, and anything else: ignored
  return "noreply", state
end

return M
