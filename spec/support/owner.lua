-- spec/support/owner.lua — process bodies for the ownership spec. Spawned
-- as hl.spawn("owner", "<function>", ...); each runs in its own process.
local hl = require("heirloom")
local M = {}

local pack = table.pack or function(...) return { n = select("#", ...), ... } end

-- Runs one command for the host and returns {ok, value}: errors are caught
-- and returned as text, so the host can assert on the message.
local function run(op, m)
  if op == "new" then                          -- {.., "new", name, opts, n}
    local t = hl.table.new(m[4], m[5])
    local n = m[6] or 1
    local batch = {}
    for i = 1, n do
      batch[#batch + 1] = { i, "v" .. i }
      if #batch == 1000 or i == n then t:insert(table.unpack(batch)); batch = {} end
    end
    return t
  elseif op == "table" then                    -- {.., "table", tab, method, args}
    local t, args = m[4], m[6] or {}
    return t[m[5]](t, table.unpack(args, 1, args.n or #args))
  elseif op == "claim" then                    -- {.., "claim", name}
    return hl.table.claim(m[4])
  elseif op == "link" then
    return hl.link(m[4])
  elseif op == "monitor" then
    return hl.monitor(m[4])
  elseif op == "register" then
    return hl.register(m[4], hl.self())
  end
  error("unknown command " .. tostring(op))
end

-- An agent: runs commands {"cmd", from, op, ...} and answers
-- {"reply", self, ok, value}; "crash", "exit" and "return" end it; every
-- other message is forwarded to `to` as {"got", self, msg}. With opts.trap
-- it traps exits; with opts.name it registers first. It reports
-- {"ready", self} once set up.
function M.agent(to, opts)
  opts = opts or {}
  if opts.trap then hl.trap_exit(true) end
  if opts.name then hl.register(opts.name, hl.self()) end
  hl.send(to, { "ready", hl.self() })
  while true do
    local m = hl.receive()
    if type(m) == "table" and m[1] == "cmd" then
      local op = m[3]
      if op == "return" then return "done" end
      if op == "crash" then error(m[4], 0) end
      if op == "exit" then hl.exit(m[4]) end
      local r = pack(pcall(run, op, m))
      hl.send(m[2], { "reply", hl.self(), r[1], r[2] })
    else
      hl.send(to, { "got", hl.self(), m })
    end
  end
end

-- Bounces a table: whenever it gets the table (ETS-TRANSFER), it gives it
-- to `peer` at once (the peer is told with the next {"peer", pid}). Counts
-- failed gifts in a message to `to` when told "report".
function M.bouncer(to)
  local peer, failed, gave = nil, 0, 0
  hl.send(to, { "ready", hl.self() })
  while true do
    local m = hl.receive()
    if m[1] == "peer" then peer = m[2]
    elseif m[1] == "ETS-TRANSFER" and peer ~= nil then
      if pcall(m[2].give_away, m[2], peer, "bounce") then gave = gave + 1
      else failed = failed + 1 end
    elseif m[1] == "report" then
      hl.send(to, { "report", hl.self(), gave, failed })
    end
  end
end

-- Claims `name` again and again after "go" until it wins or is told
-- "stop"; tells `to` {"claimed", self, won, last_error}. A winner keeps the
-- table until "stop".
function M.claimer(to, name)
  hl.send(to, { "ready", hl.self() })
  hl.receive()                                    -- "go"
  while true do
    local ok, err = pcall(hl.table.claim, name)
    if ok then
      hl.send(to, { "claimed", hl.self(), true, "" })
      hl.receive()
      return
    end
    if hl.receive(0) == "stop" then
      hl.send(to, { "claimed", hl.self(), false, err })
      return
    end
  end
end

return M
