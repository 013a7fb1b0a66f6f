-- simulation_spec.lua — deterministic mode as a simulator: the virtual
-- clock (time jumps when nothing can run, hl.advance, hl.now), the trace
-- that shows two runs are the same run (hl.trace_hash, hl.trace), and the
-- random schedule drawn from the seed.
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local hl = S.hl
local system = require("system")
local expect, exit_from = S.expect, S.exit_from

-- The message of the error f raises, without its position.
local function err_of(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return (tostring(e):gsub("^[^:]*:%d+: ", ""))
end

local function tagged(tag)
  return function(m) return type(m) == "table" and m[1] == tag end
end

describe("deterministic mode", function()
  after_each(function() pcall(hl.stop) end)

  describe("the virtual clock", function()
    it("is the default: hl.sleep(3000) moves hl.now() by exactly 3000 ms", function()
      hl.start{ schedulers = 0, logger = "capture" }
      assert.are.equal(0, hl.now())
      hl.sleep(3000)
      assert.are.equal(3000, hl.now())
      assert.are.equal(hl.now(), hl.monotime())
    end)

    it("waits out a 5 s restart-intensity window in milliseconds of wall time", function()
      local wall0 = system.monotime()
      hl.start{ schedulers = 0, logger = "capture" }
      hl.table.new("sim_flags", { named = true, access = "public" })
      local sup = assert(hl.supervisor.start_link{ intensity = 1, period = 5, children = {
        { id = "a", start = { "sup_worker", "start_link", hl.self(), "a" } } } })
      local function started() return expect(function(m)
        return type(m) == "table" and m[1] == "started" and m[2] == "a" end)[3] end
      local a = started()
      hl.send(a, { "crash", "one" })
      a = started()                          -- one restart within the window
      local t0, wait0 = hl.now(), system.monotime()
      hl.sleep(5001)                         -- the window has passed
      assert.are.equal(t0 + 5001, hl.now())
      hl.send(a, { "crash", "two" })
      started()                              -- restarted again: no shutdown
      assert.is_nil(hl.receive(exit_from(sup), 100))
      assert.is_not_nil(hl.process_info(sup))
      -- the wait, the crash and the restart: 5.1 s on a real clock
      local wait = (system.monotime() - wait0) * 1000
      hl.stop()
      local wall = (system.monotime() - wall0) * 1000
      print(("\n  waiting out the 5 s window took %.2f ms of wall time (the whole test, "
             .. "start and stop included, %.1f ms)"):format(wait, wall))
      assert.is_true(wait < 500, ("took %.1f ms"):format(wait))
    end)

    it("jumps to the next timer, not past it: timers fire in order", function()
      hl.start{ schedulers = 0, logger = "capture" }
      hl.send_after(300, hl.self(), "c")
      hl.send_after(100, hl.self(), "a")
      hl.send_after(200, hl.self(), "b")
      assert.are.equal("a", hl.receive(1000))
      assert.are.equal(100, hl.now())
      assert.are.equal("b", hl.receive(1000))
      assert.are.equal(200, hl.now())
      assert.are.equal("c", hl.receive(1000))
      assert.are.equal(300, hl.now())
      assert.is_nil(hl.receive(50))          -- its own deadline, exactly
      assert.are.equal(350, hl.now())
    end)

    it("a process's receive timeout runs on it too", function()
      hl.start{ schedulers = 0, logger = "capture" }
      hl.spawn(function(host)
        local hl = require("heirloom")
        local t0 = hl.now()
        local m = hl.receive(2500)
        hl.send(host, { m == nil, hl.now() - t0 })
      end, hl.self())
      local r = hl.receive(10000)
      assert.are.same({ true, 2500 }, r)
      assert.are.equal(2500, hl.now())
    end)

    it("work takes time too: a process spinning on hl.now() gets there", function()
      -- a slice used up counts 1 ms: without that the spinner would keep
      -- the clock, and the host waiting beside it, where they are
      hl.start{ schedulers = 0, logger = "capture" }
      hl.spawn(function(host)
        local hl = require("heirloom")
        local t = hl.now() + 50
        while hl.now() < t do end
        hl.send(host, "spun")
      end, hl.self())
      assert.are.equal("spun", hl.receive(10000))
      assert.is_true(hl.now() >= 50 and hl.now() < 10000)
    end)

    it("processes passing messages for ever do not hold a sleeping host", function()
      hl.start{ schedulers = 0, logger = "capture" }
      local function bouncer()
        local hl = require("heirloom")
        local peer = hl.receive()
        while true do
          hl.receive()
          hl.send(peer, "ball")
        end
      end
      local a, b = hl.spawn(bouncer), hl.spawn(bouncer)
      hl.send(a, b)
      hl.send(b, a)
      hl.send(a, "ball")
      hl.sleep(5)                            -- 10 µs a slice: 500 slices
      assert.are.equal(5, hl.now())
      hl.exit(a, "kill")
      hl.exit(b, "kill")
    end)

    it("hl.run runs what can run now and does not move the clock", function()
      hl.start{ schedulers = 0, logger = "capture" }
      local pid = hl.spawn(function(host)
        local hl = require("heirloom")
        hl.sleep(1000)
        hl.send(host, "woke")
      end, hl.self())
      hl.run()
      assert.are.equal(0, hl.now())
      assert.are.equal("waiting", hl.process_info(pid).status)
      assert.is_nil(hl.receive(0))
      assert.are.equal("woke", hl.receive(5000))
      assert.are.equal(1000, hl.now())
    end)

    it("hl.advance moves the clock and fires the timers that come due, in order", function()
      hl.start{ schedulers = 0, logger = "capture" }
      hl.send_after(30, hl.self(), "b")
      hl.send_after(10, hl.self(), "a")
      hl.send_after(100, hl.self(), "later")
      local pid = hl.spawn(function(host)
        local hl = require("heirloom")
        hl.sleep(20)
        hl.send(host, "slept")
      end, hl.self())
      hl.run()
      hl.advance(29)
      assert.are.equal(29, hl.now())
      assert.are.equal("a", hl.receive(0))
      assert.is_nil(hl.receive(0))           -- b is due at 30
      assert.are.equal("runnable", hl.process_info(pid).status)
      hl.advance(1)
      assert.are.equal("b", hl.receive(0))
      hl.run()
      assert.are.equal("slept", hl.receive(0))
      hl.advance(0)
      assert.are.equal(30, hl.now())
      hl.advance(70)
      assert.are.equal("later", hl.receive(0))
    end)

    it("hl.advance refuses bad input, a real clock and a process", function()
      hl.start{ schedulers = 0, logger = "capture" }
      assert.are.equal("heirloom.advance: argument 1 (ms) must be a non-negative integer (got -1)",
                       err_of(hl.advance, -1))
      assert.are.equal("heirloom.advance: argument 1 (ms) must be a non-negative integer (got 1.5)",
                       err_of(hl.advance, 1.5))
      assert.are.equal("heirloom.advance: argument 1 (ms) must be a non-negative integer (got nil)",
                       err_of(hl.advance))
      assert.are.equal(0, hl.now())
      hl.spawn(function(host)
        local hl = require("heirloom")
        hl.send(host, { pcall(hl.advance, 10) })
      end, hl.self())
      assert.are.same({ false, "heirloom.advance: only the host moves the clock, not a process" },
                      hl.receive(1000))
      hl.stop()
      hl.start{ schedulers = 0, clock = "real", logger = "capture" }
      assert.matches("^heirloom.advance: the node runs on the real clock", err_of(hl.advance, 1))
      hl.stop()
      hl.start{ schedulers = 1, logger = "capture" }
      assert.matches("^heirloom.advance: the node runs on the real clock", err_of(hl.advance, 1))
    end)

    it("clock = \"real\" keeps the real clock in deterministic mode", function()
      hl.start{ schedulers = 0, clock = "real", logger = "capture" }
      local wall0 = system.monotime()
      hl.sleep(30)
      assert.is_true(hl.now() >= 30)
      assert.is_true(system.monotime() - wall0 >= 0.025)
    end)

    it("hl.now needs a node", function()
      assert.are.equal("heirloom.now: the node is not started (call heirloom.start first)",
                       err_of(hl.now))
    end)
  end)

  describe("start options", function()
    it("refuses bad clock, trace and schedule options, naming them", function()
      local function start_error(opts)
        opts.logger = "capture"
        return err_of(hl.start, opts)
      end
      assert.are.equal("heirloom.start: opts.clock must be 'virtual' or 'real'",
                       start_error{ schedulers = 0, clock = "fake" })
      assert.are.equal("heirloom.start: opts.clock must be 'virtual' or 'real'",
                       start_error{ schedulers = 0, clock = 1 })
      assert.matches("^heirloom.start: opts.clock = 'virtual' needs schedulers = 0",
                     start_error{ schedulers = 2, clock = "virtual" })
      assert.matches("^heirloom.start: opts.clock = 'virtual' needs schedulers = 0",
                     start_error{ clock = "virtual" })
      assert.are.equal("heirloom.start: opts.trace must be a boolean",
                       start_error{ schedulers = 0, trace = 1 })
      assert.matches("^heirloom.start: opts.trace needs schedulers = 0",
                     start_error{ schedulers = 2, trace = true })
      assert.are.equal("heirloom.start: opts.schedule must be 'fifo' or 'random'",
                       start_error{ schedulers = 0, seed = 1, schedule = "lifo" })
      assert.matches("^heirloom.start: opts.schedule = 'random' needs opts.seed",
                     start_error{ schedulers = 0, schedule = "random" })
      assert.matches("^heirloom.start: opts.schedule = 'random' needs schedulers = 0",
                     start_error{ schedulers = 2, seed = 1, schedule = "random" })
      hl.start{ schedulers = 0, clock = "virtual", trace = false, schedule = "fifo" }
    end)
  end)

  describe("the trace", function()
    it("is kept only when asked for", function()
      hl.start{ schedulers = 0, logger = "capture" }
      assert.are.equal("heirloom.trace_hash: the node keeps no trace (start it with trace = true)",
                       err_of(hl.trace_hash))
      assert.are.equal("heirloom.trace: the node keeps no trace (start it with trace = true)",
                       err_of(hl.trace))
    end)

    it("lists the last events, oldest first, and hashes all of them", function()
      hl.start{ schedulers = 0, trace = true, logger = "capture" }
      local pid = hl.spawn(function(host)
        local hl = require("heirloom")
        hl.register("echo", hl.self())
        hl.send(host, hl.receive())
      end, hl.self())
      hl.send(pid, "ping")
      assert.are.equal("ping", hl.receive(1000))
      local h, n = hl.trace_hash()
      assert.matches("^%x+$", h)
      assert.are.equal(16, #h)
      local lines = hl.trace()
      assert.are.equal(n, #lines)
      local text = table.concat(lines, "\n")
      for _, kind in ipairs{ "spawn", "slice", "deliver", "register 'echo'", "unregister 'echo'",
                             "exit <[%d.]+> normal" } do
        assert.matches(kind, text)
      end
      assert.are.equal(2, #hl.trace(2))
      assert.are.equal(lines[#lines], hl.trace(1)[1])
      assert.are.equal(0, #hl.trace(0))
      assert.are.equal("heirloom.trace: argument 1 (n) must be a non-negative integer",
                       err_of(hl.trace, -1))
      hl.sleep(10)
      local h2 = hl.trace_hash()
      assert.are_not.equal(h, h2)            -- the clock moved: an event
    end)
  end)

  -- six workers, random 1-3 ms sleeps, a link, a monitor, an ETS-TRANSFER
  -- and a supervisor restart; returns the trace's hash and its text
  local function scenario(seed, schedule)
    hl.start{ schedulers = 0, seed = seed, schedule = schedule, trace = true, logger = "capture" }
    local host = hl.self()
    hl.table.new("sim_flags", { named = true, access = "public" })
    local sup = assert(hl.supervisor.start_link{ intensity = 5, period = 1, children = {
      { id = "flaky", start = { "sim_worker", "start_link", host } } } })
    local pids = {}
    for i = 1, 6 do pids[i] = hl.spawn("sim_worker", "worker", host, i, 8) end
    for _ = 1, 6 do expect(tagged("up"), 5000, "up") end
    local ref = hl.monitor(pids[3])
    for i = 1, 6 do hl.send(pids[i], "go") end
    local seen = {}
    for _ = 1, 5 do seen[#seen + 1] = expect(tagged("done"), 5000, "done")[2] end
    expect(tagged("restarted"), 5000, "restarted")
    expect(function(m) return type(m) == "table" and m[1] == "DOWN" and m[2] == ref end, 5000)
    hl.supervisor.stop(sup)
    local h = hl.trace_hash()
    local text = table.concat(hl.trace(), "\n")
    hl.stop()
    return h, text, seen
  end

  describe("replay", function()
    it("the same seed gives the same trace, bit for bit, timers and all", function()
      local h1, text = scenario(42)
      local h2 = scenario(42)
      assert.are.equal(h1, h2)
      -- the scenario did what it says
      for _, kind in ipairs{ "timer", "transfer table", "signal", "exit <[%d.]+> other",
                             "register 'w1'", "clock" } do
        assert.matches(kind, text)
      end
    end)

    it("the same seed replays a random schedule too", function()
      assert.are.equal((scenario(7, "random")), (scenario(7, "random")))
    end)

    it("20 seeds under the random schedule give at least 10 different runs", function()
      local hashes, distinct = {}, 0
      for seed = 1, 20 do
        local h = scenario(seed, "random")
        if not hashes[h] then distinct = distinct + 1 end
        hashes[h] = true
      end
      assert.is_true(distinct >= 10, distinct .. " different hashes")
    end)

    it("pids are the same from run to run", function()
      local function pids()
        hl.start{ schedulers = 0, seed = 3 }
        local out = {}
        for i = 1, 3 do
          local p = hl.spawn(function() end)
          out[i] = tostring(p)
        end
        hl.run()
        out[4] = tostring(hl.spawn(function() end))
        hl.stop()
        return table.concat(out, " ")
      end
      assert.are.equal(pids(), pids())
    end)
  end)

  describe("the random schedule", function()
    it("keeps each sender's messages in order", function()
      for seed = 1, 10 do
        hl.start{ schedulers = 0, seed = seed, schedule = "random", logger = "capture" }
        local host = hl.self()
        local sink = hl.spawn(function(host, n)
          local hl = require("heirloom")
          local last = { a = 0, b = 0, c = 0 }
          for _ = 1, 3 * n do
            local m = hl.receive()
            if m[2] ~= last[m[1]] + 1 then hl.send(host, "out of order") end
            last[m[1]] = m[2]
          end
          hl.send(host, "in order")
        end, host, 50)
        for _, tag in ipairs{ "a", "b", "c" } do
          hl.spawn(function(to, tag, n)
            local hl = require("heirloom")
            for i = 1, n do
              hl.send(to, { tag, i })
              if i % 7 == 0 then hl.sleep(1) end
            end
          end, sink, tag, 50)
        end
        assert.are.equal("in order", hl.receive(10000))
        hl.stop()
      end
    end)

    it("fifo stays the default and gives the order processes were queued in", function()
      hl.start{ schedulers = 0, seed = 9, logger = "capture" }
      local host = hl.self()
      for i = 1, 5 do
        hl.spawn(function(host, i) require("heirloom").send(host, i) end, host, i)
      end
      hl.run()
      for i = 1, 5 do assert.are.equal(i, hl.receive(0)) end
    end)
  end)
end)
