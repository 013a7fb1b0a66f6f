-- planted_bug.lua — a counter server with a planted bug, for the specs of
-- heirloom.test's explore (spec/explore_spec.lua, planted_run.lua).
--
-- The server keeps {"count", n} in a table whose heir is a keeper process
-- ("planted_keeper"), which hands the table back to the restarted server.
-- Every 4th increment the server "compacts" its table: a new table, the
-- objects copied, the old one dropped. The bug: the new table gets its
-- heir a millisecond later (a timer), so a kill in that window
-- loses the table and every increment it acknowledged. With fixed = true
-- the new table has its heir at once.
local hl = require("heirloom")

local M = {}

-- ---------------------------------------------------------------- the keeper

-- Holds the table while the server is down (its ETS-TRANSFER) and gives it
-- to whoever asks with {"take", pid}: the table's handle, or false.
function M.keeper_init() return "ok", {} end

function M.keeper_call(req, _from, state)
  if type(req) == "table" and req[1] == "take" and state.tab then
    local t = state.tab
    if pcall(t.give_away, t, req[2]) then   -- fails if the asker died meanwhile
      state.tab = nil
      return "reply", t, state
    end
  end
  return "reply", false, state
end

function M.keeper_info(m, state)
  if type(m) == "table" and m[1] == "ETS-TRANSFER" then state.tab = m[2] end
  return "noreply", state
end

-- ---------------------------------------------------------------- the server

function M.init(args)
  local state = { fixed = args.fixed }
  state.tab = hl.server.call("planted_keeper", { "take", hl.self() }, 2000)
  if not state.tab then
    state.tab = hl.table.new("planted", { type = "set", heir = "planted_keeper" })
    state.tab:insert({ "count", 0 })
  end
  return "ok", state
end

function M.handle_call(req, _from, state)
  if req == "get" then return "reply", state.tab:lookup_element("count", 2), state end
  local n = state.tab:update_counter("count", 1)
  if n % 4 == 0 then
    local t2 = hl.table.new("planted", { type = "set", heir = state.fixed and "planted_keeper" or false })
    t2:insert_many(state.tab:tab2list())
    state.tab:drop()
    state.tab = t2
    if not state.fixed then hl.send_after(1, hl.self(), "adopt") end   -- the bug: later
  end
  return "reply", n, state
end

function M.handle_cast(_msg, state) return "noreply", state end

function M.handle_info(m, state)
  if m == "adopt" then state.tab:setopts{ heir = "planted_keeper" } end
  return "noreply", state
end

-- the keeper as a server module of its own
M.keeper = { init = M.keeper_init, handle_call = M.keeper_call, handle_info = M.keeper_info,
             handle_cast = function(_, s) return "noreply", s end }

-- ---------------------------------------------------------------- the scenario

local function client(id, n)
  local hl_ = require("heirloom")
  local log = hl_.table.whereis("planted_log")
  for i = 1, n do
    local k = id * 1000 + i
    local ok, v = pcall(hl_.server.call_retry, "planted_srv", "incr", { timeout = 5000, retry_for = 5000 })
    if ok then log:insert({ k, v }) end
  end
end

local function scenario(fixed)
  return function(ctx)
    local T = require("heirloom.test")
    local sup, why = hl.supervisor.start_link{
      name = "planted_sup", strategy = "one_for_one", intensity = 100000, period = 5,
      children = {
        { id = "keeper", start = { "heirloom.server", "start_link", "planted_keeper", {}, { name = "planted_keeper" } } },
        { id = "srv", start = { "heirloom.server", "start_link", "planted_bug", { fixed = fixed }, { name = "planted_srv" } } },
      } }
    assert(sup, "the supervisor did not start: " .. T.show(why))
    local log = hl.table.new("planted_log", { named = true, access = "public" })
    local clients = { hl.spawn(client, 1, 8), hl.spawn(client, 2, 8) }
    ctx.run_until(function()
      return hl.process_info(clients[1]) == nil and hl.process_info(clients[2]) == nil
    end)
    local count = hl.server.call_retry("planted_srv", "get", { timeout = 5000, retry_for = 5000 })
    local acked = #log:tab2list()
    assert(count >= acked, ("%d increments acknowledged, the count is %d"):format(acked, count))
    log:drop()
    hl.supervisor.stop(sup)
    T.assert_no_leaks()
  end
end

-- The explore config: seeds, kills of the server, the scenario.
function M.plan(seeds, opts)
  opts = opts or {}
  return { seeds = seeds, faults = { kill = { rate = 0.03, match = "planted_srv" } },
           scenario(opts.fixed == true) }
end

return M
