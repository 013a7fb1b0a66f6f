-- data_master.lua — seed 003's DataMaster ("Survive the Fire"): creates
-- the "data" table, hands it to whoever asks with give_away, and is its
-- heir, so the table comes back here whenever its owner dies.
--
-- Two changes from the seed, both to survive more than one fire:
--   - the heir is the registered name "data_master", not a pid. A pid heir
--     is good for one generation only (after inheriting, the table has no
--     heir: ETS and heirloom agree); a name heir stays set, so the second
--     and the hundredth crash of the Server hand the table back too, and a
--     restarted DataMaster is heir again with no step of its own;
--   - the table asks for custody, so that if DataMaster itself dies while it
--     holds the table, the node keeps it and the restarted DataMaster claims
--     it in init instead of creating an empty one.
-- get_ets asks the table who owns it rather than trusting a flag in the
-- state: the state of a restarted DataMaster knows nothing.
local hl = require("heirloom")

local M = {}

M.TABLE = "data"
M.NAME = "data_master"

local function notice(state, fmt, ...)
  if state.verbose then
    io.stdout:write("data_master: ", string.format(fmt, ...), "\n")
    io.stdout:flush()
  end
end

-- The client side: a process asks for the table and owns it on return.
function M.get_ets()
  return hl.server.call(M.NAME, "get_ets")
end

function M.init(args)
  local state = { verbose = args and args.verbose }
  local t = hl.table.whereis(M.TABLE)
  if t == nil then
    hl.table.new(M.TABLE, { type = "set", access = "protected", named = true,
                            heir = M.NAME, heir_data = "data_master", custody = true })
    notice(state, "created the table %q", M.TABLE)
  elseif t:info("owner") == nil then
    hl.table.claim(M.TABLE)                 -- kept in custody while we were down
    notice(state, "claimed the table %q from the node's custody (%d objects)", M.TABLE, t:info("size"))
  else
    -- the Server owns it; with the name as heir it comes back to us
    notice(state, "the table %q is owned by %s", M.TABLE, tostring(t:info("owner")))
  end
  return "ok", state
end

function M.handle_call(req, from, state)
  if req == "get_ets" then
    local t = hl.table.whereis(M.TABLE)
    if t ~= nil and t:info("owner") == hl.self() then
      t:give_away(from[1], "data_master")
      notice(state, "gave the table to %s", tostring(from[1]))
      return "reply", t, state
    end
    return "reply", nil, state
  end
  return "reply", nil, state
end

function M.handle_info(msg, state)
  if type(msg) == "table" and msg[1] == "ETS-TRANSFER" then
    notice(state, "got the table %q back from %s (%d objects)", M.TABLE, tostring(msg[3]),
      msg[2]:info("size"))
  end
  return "noreply", state
end

return M
