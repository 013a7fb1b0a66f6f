-- recovery_server.lua — the server of `make bench WHAT=recovery`: an
-- hl.server callback module whose state is one table. init({n, manager})
-- asks the manager (recovery_manager.lua, registered as `manager`) for the
-- table, which the manager inherited when the previous server died; the
-- first time there is none and init creates it, with the manager's name as
-- heir, and fills it with n objects {k, k * 7}. bench/recovery_bench.erl's server is the same in Erlang.
local hl = require("heirloom")

local M = {}

local FILL_CHUNK = 10000

local function transfer_or_create(m)
  return type(m) == "table" and m[1] == "ETS-TRANSFER" or m == "create"
end

local function fill(t, n)
  for first = 1, n, FILL_CHUNK do
    local objs = {}
    for k = first, math.min(n, first + FILL_CHUNK - 1) do objs[#objs + 1] = { k, k * 7 } end
    t:insert_many(objs)
  end
end

function M.init(args)
  local n, manager = args[1], args[2]
  hl.send(manager, { "want", hl.self() })
  local m = hl.receive(transfer_or_create)
  local t
  if m == "create" then
    t = hl.table.new("recovery_" .. n, { type = "set", access = "protected", heir = manager })
    fill(t, n)
  else
    t = m[2]
  end
  return "ok", t
end

function M.handle_call(req, _, t)
  if req[1] == "get" then return "reply", t:lookup(req[2]), t end
  if req[1] == "size" then return "reply", t:info("size"), t end
  return "reply", nil, t
end

return M
