-- heirloom.server_proto — what the two halves of the server behaviour
-- share: heirloom.server (the callers' side) and heirloom.server_loop (the
-- server process). The reserved first elements of its messages, the
-- server's end of a call (who made it, and the reply), and a short
-- rendering of values for error messages. heirloom.supervisor answers its
-- calls through the same functions.
local hl = require("heirloom")

local M = {}

M.CALL, M.REPLY, M.CAST, M.STOP, M.ACK = "$call", "$reply", "$cast", "$stop", "$ack"

-- OTP's gen_server protocol, for calls and casts across nodes:
-- {'$gen_call', {From, Tag}, Request} answered {Tag, Reply} to From, and
-- {'$gen_cast', Request}.
M.GEN_CALL, M.GEN_CAST = hl.atom("$gen_call"), hl.atom("$gen_cast")

-- A short rendering of a value for error messages; strings cut at 60
-- characters unless full.
local function show(v, depth, full)
  depth = depth or 0
  local t = type(v)
  if t == "string" then
    local s = string.format("%q", v)
    return (#s > 60 and not full) and s:sub(1, 57) .. "...\"" or s
  elseif t ~= "table" then
    return tostring(v)
  elseif depth >= 2 then
    return "{...}"
  end
  local parts, n = {}, 0
  for k, x in pairs(v) do
    n = n + 1
    if n > 4 then parts[#parts + 1] = "..."; break end
    if math.type(k) == "integer" and k == n then parts[#parts + 1] = show(x, depth + 1, full)
    else parts[#parts + 1] = tostring(k) .. " = " .. show(x, depth + 1, full) end
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

M.show = show

-- The from of a call {CALL, {caller, alias}, request}: {caller, alias},
-- where the caller must be the pid that really sent it (the node says who
-- that is: sender); nil for a forged call, which is dropped unanswered.
function M.from_of(m, sender)
  if sender ~= nil and m[2][1] == sender then return { sender, m[2][2] } end
  return nil
end

-- The from of a call from another node, {'$gen_call', {pid, tag}, request}:
-- {pid, tag, GEN_CALL}. Such a message comes from no local process (sender
-- nil): its pid is the peer node's word, trusted as that node is (see
-- docs/distribution.md). nil for anything else.
function M.gen_call_from(m, sender)
  if sender == nil and type(m[2]) == "table" and hl.kind(m[2][1]) == "pid" and m[2][2] ~= nil then
    return { m[2][1], m[2][2], M.GEN_CALL }
  end
  return nil
end

-- Replies to a call's alias, and only if it is an alias of the call's
-- true sender (from[1]): a reply address forged with another process's
-- alias, a pid or a table handle gets no reply, and must not take the
-- server down. A reply that cannot be sent (a function in it) is raised,
-- with send_alias's message as it is.
function M.reply(from, value)
  if from[3] == M.GEN_CALL then         -- a call from another node: {Tag, Reply} to its pid
    local ok, e = pcall(hl.send, from[1], { from[2], value })
    if not ok then error(e, 0) end
    return
  end
  if hl.kind(from[2]) ~= "ref" then return end
  local ok, e = pcall(hl.send_alias, from[2], from[1], { M.REPLY, from[2], value })
  if not ok then error(e, 0) end
end

return M
