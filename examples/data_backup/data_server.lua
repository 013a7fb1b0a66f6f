-- data_server.lua — seed 003's Server: takes ownership of the "data" table
-- from DataMaster in init, then stores and serves records. When it
-- crashes, the table goes back to DataMaster (its heir) and the restarted
-- Server takes it again: the data is never reloaded, never copied.
local hl = require("heirloom")
local data_master = require("data_master")

local M = {}

M.NAME = "data_server"

-- The client side, as the seed's insert_data/2 and get_data/1.
function M.insert_data(id, data) return hl.server.call(M.NAME, { "insert_data", id, data }) end
function M.get_data(id) return hl.server.call(M.NAME, { "get_data", id }) end
-- A crash with an ordinary error (the seed's "calamity").
function M.crash() hl.server.cast(M.NAME, "crash") end

function M.init(args)
  local t = data_master.get_ets()
  if t == nil then return "stop", "data_master does not hold the table" end
  if args and args.verbose then
    io.stdout:write("data_server: took the table ", tostring(t), " (", t:info("size"), " objects)\n")
    io.stdout:flush()
  end
  return "ok", { ets = t }
end

function M.handle_call(req, _from, state)
  if req[1] == "insert_data" then
    state.ets:insert({ req[2], req[3] })
    return "reply", "ok", state
  elseif req[1] == "get_data" then
    return "reply", state.ets:lookup(req[2])[1], state
  end
  return "reply", nil, state
end

function M.handle_cast(msg, state)
  if msg == "crash" then error("calamity strikes") end
  return "noreply", state
end

-- The ETS-TRANSFER of the table from DataMaster: nothing to do.
function M.handle_info(_msg, state) return "noreply", state end

return M
