-- spec/support/srv_minimal.lua — a server with only init and handle_call:
-- the optional callbacks (handle_cast, handle_info, terminate) are absent.
local M = {}

function M.init(n)
  return "ok", n
end

function M.handle_call(req, _, n)
  if req == "get" then return "reply", n, n end
  return "reply", nil, n
end

return M
