-- dist_bench.lua — the heirloom side of `make bench WHAT=dist`: a heirloom
-- node's host process times N round trips to bench/dist_bench.erl's echo
-- on an Erlang node, over the local distribution connection, with the
-- message the Erlang client sends ({"bench", node, {k, "hello"}}, the echo
-- answering {k, "hello"} to {bench, node}); the best of three runs.
--   lua5.4 bench/dist_bench.lua N EchoNode Cookie OwnNode
-- prints `heirloom dist <ns per round trip>`.
local hl = require("heirloom")
local monotime = require("system").monotime   -- lua-system, CLOCK_MONOTONIC

local n, echo_node, cookie, me = tonumber(arg[1]), arg[2], arg[3], arg[4]
hl.start{ schedulers = 2, dist = { name = me, cookie = cookie } }
hl.register("bench", hl.self())
local echo = { "echo", echo_node }

local function trips(count)
  for k = count, 1, -1 do
    hl.send(echo, { "bench", me, { k, "hello" } })
    hl.receive()
  end
end

local ready = false
for _ = 1, 100 do   -- the echo node may still be starting
  hl.send(echo, { "bench", me, "ready" })
  if hl.receive(100) == "ready" then ready = true break end
end
if not ready then
  io.stderr:write("dist_bench: the echo does not answer\n")
  hl.stop()
  os.exit(1)
end
trips(n // 10)   -- warm-up
local best = math.huge
for _ = 1, 3 do
  local t0 = monotime()
  trips(n)
  best = math.min(best, (monotime() - t0) * 1e9 / n)
end
print(string.format("heirloom dist %.1f", best))
hl.stop()
