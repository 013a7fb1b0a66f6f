-- proc_bench_procs.lua — the process bodies of `make bench`'s process
-- workloads (bench/proc_bench.lua spawns them by name; bench/run.sh puts
-- bench/support/ first on LUA_PATH). Kept small: every process spawned by
-- name loads this file into its own Lua state, so its size is part of what
-- a spawn costs.
--
-- A timed process sends {"ready", pid} to the host once it has started,
-- waits for "go", does its work and tells the host it is done: the host
-- times from "go" to the last report, as bench/proc_bench.erl does.
local hl = require("heirloom")

local send, receive, self = hl.send, hl.receive, hl.self

local M = {}

local function ready(host)
  send(host, { "ready", self() })
  receive()                         -- "go"
end

function M.noop() end

-- Replies "pong" to every pid it is sent, until "stop".
function M.pong()
  while true do
    local from = receive()
    if from == "stop" then return end
    send(from, "pong")
  end
end

function M.ping(host, peer, n)
  ready(host)
  local me = self()
  for _ = 1, n do
    send(peer, me)
    receive()
  end
  send(host, "done")
end

-- Spawns n children that return at once, waiting for each one's DOWN
-- (wait) or spawning them all before collecting the DOWNs (all). A child
-- is this module's noop, or with how == "fn" a function.
function M.spawner(host, n, mode, how)
  local opts = { monitor = true }
  local spawn_opt = hl.spawn_opt
  local noop = function() end
  ready(host)
  if mode == "wait" then
    for _ = 1, n do
      if how == "fn" then spawn_opt(opts, noop) else spawn_opt(opts, "proc_bench_procs", "noop") end
      receive()
    end
  else
    for _ = 1, n do
      if how == "fn" then spawn_opt(opts, noop) else spawn_opt(opts, "proc_bench_procs", "noop") end
    end
    for _ = 1, n do receive() end
  end
  send(host, "done")
end

function M.producer(host, consumer, n)
  ready(host)
  for i = 1, n do send(consumer, i) end
  send(consumer, "done")
end

-- Counts messages until every producer has said "done", then sends the
-- count to the host.
function M.consumer(host, producers)
  local count, done = 0, 0
  while true do
    local m = receive()
    if m == "done" then
      done = done + 1
      if done == producers then break end
    else
      count = count + 1
    end
  end
  send(host, count)
end

return M
