-- spec/support/srv_dist.lua — a server for dist_spec.lua that Erlang calls
-- with gen_server:call: {echo, X} is answered {ok, X}; {sleep, Ms} after
-- Ms milliseconds; {later, X} through hl.server.reply from a kept from;
-- casts are kept and answered to `casts`.
local hl = require("heirloom")
local M = {}
local ok, atom = hl.atom("ok"), hl.atom

function M.init()
  return "ok", { casts = {} }
end

function M.handle_call(req, from, s)
  if type(req) ~= "table" then
    if req == atom("casts") then return "reply", s.casts, s end
    return "reply", { atom("unknown"), req }, s
  end
  if req[1] == atom("echo") then return "reply", { ok, req[2] }, s end
  if req[1] == atom("sleep") then
    hl.receive(function() return false end, req[2])
    return "reply", atom("slept"), s
  end
  if req[1] == atom("later") then
    hl.server.reply(from, { ok, req[2], "later" })
    return "noreply", s
  end
  return "reply", { atom("unknown"), req }, s
end

function M.handle_cast(msg, s)
  s.casts[#s.casts + 1] = msg
  return "noreply", s
end

return M
