-- heirloom.server_proto — what the two halves of the server behaviour
-- share: heirloom.server (the callers' side) and heirloom.server_loop (the
-- server process). The reserved first elements of its messages, and a
-- short rendering of values for error messages.
local M = {}

M.CALL, M.REPLY, M.CAST, M.STOP, M.ACK = "$call", "$reply", "$cast", "$stop", "$ack"

-- A short rendering of a value for error messages.
local function show(v, depth)
  depth = depth or 0
  local t = type(v)
  if t == "string" then
    local s = string.format("%q", v)
    return #s > 60 and s:sub(1, 57) .. "...\"" or s
  elseif t ~= "table" then
    return tostring(v)
  elseif depth >= 2 then
    return "{...}"
  end
  local parts, n = {}, 0
  for k, x in pairs(v) do
    n = n + 1
    if n > 4 then parts[#parts + 1] = "..."; break end
    if math.type(k) == "integer" and k == n then parts[#parts + 1] = show(x, depth + 1)
    else parts[#parts + 1] = tostring(k) .. " = " .. show(x, depth + 1) end
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

M.show = show

return M
