-- timers_spec.lua — send_after, cancel_timer, sleep, receive timeouts,
-- and the deterministic node (schedulers = 0).
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local hl = S.hl
local expect, tagged, ready, none = S.expect, S.tagged, S.ready, S.none

local function is(v) return function(m) return m == v end end

describe("timers", function()
  before_each(function() hl.start{ schedulers = 2, logger = "capture" } end)
  after_each(function() pcall(hl.stop) end)

  describe("send_after", function()
    it("delivers the message after the delay, not before", function()
      -- measured on the node's clock, not with a short receive: a host
      -- descheduled by a loaded machine would see both at once
      local t0 = hl.now()
      local ref = hl.send_after(300, hl.self(), "tick")
      assert.is_truthy(tostring(ref):match("^#Ref<"))
      assert.are.equal("tick", hl.receive(3000))
      assert.is_true(hl.now() - t0 >= 300, "arrived after " .. (hl.now() - t0) .. " ms")
    end)

    it("a zero delay delivers at once", function()
      hl.send_after(0, hl.self(), "now")
      assert.are.equal("now", hl.receive(1000))
    end)

    it("fires timers in the order of their deadlines", function()
      hl.send_after(150, hl.self(), "c")
      hl.send_after(10, hl.self(), "a")
      hl.send_after(80, hl.self(), "b")
      assert.are.same({ "a", "b", "c" }, { hl.receive(2000), hl.receive(2000), hl.receive(2000) })
    end)

    it("copies the message at the call", function()
      local msg = { n = 1 }
      hl.send_after(10, hl.self(), msg)
      msg.n = 2
      assert.are.same({ n = 1 }, hl.receive(1000))
    end)

    it("resolves a name when the timer fires, not when it is set", function()
      hl.send_after(150, "late_holder", "for the holder")
      local pid = hl.spawn("echo", "named_forwarder", hl.self(), "late_holder")
      ready(pid)
      local m = expect(tagged("got"), 3000)
      assert.are.equal("late_holder", m[2])
      assert.are.equal("for the holder", m[3])
    end)

    it("drops a message to a name nobody holds when it fires", function()
      hl.send_after(10, "nobody_at_all", "lost")
      assert.is_nil(hl.receive(60))
      -- the node still works
      hl.send_after(0, hl.self(), "after")
      assert.are.equal("after", hl.receive(1000))
    end)

    it("drops a message to a pid that died", function()
      local pid = hl.spawn("echo", "loop")
      local ref = hl.monitor(pid)
      hl.send_after(50, pid, { "echo", hl.self(), "too late" })
      hl.send(pid, "stop")
      expect(tagged("DOWN", ref))
      none(tagged("echo"), 120)
    end)

    it("reaches a process waiting in receive", function()
      local pid = hl.spawn(function(to)
        local hl = require("heirloom")
        hl.send(to, { "got", hl.receive(5000) })
      end, hl.self())
      hl.send_after(30, pid, "wake up")
      assert.are.equal("wake up", expect(tagged("got"))[2])
    end)

    it("a timer set by a process fires after the process exited", function()
      local _, ref = hl.spawn_opt({ monitor = true }, function(to)
        local hl = require("heirloom")
        hl.send_after(80, to, "from beyond")
      end, hl.self())
      assert.are.equal("normal", expect(tagged("DOWN", ref))[4])
      assert.are.equal("from beyond", hl.receive(is("from beyond"), 3000))
    end)

    it("1,000 timers all fire, each once", function()
      for i = 1, 1000 do hl.send_after(i % 50, hl.self(), { "t", i }) end
      local seen = {}
      for _ = 1, 1000 do
        local m = expect(tagged("t"), 3000)
        assert.is_nil(seen[m[2]])
        seen[m[2]] = true
      end
      for i = 1, 1000 do assert.is_true(seen[i]) end
      none(nil, 60)
    end)

    it("raises for bad arguments", function()
      assert.error_matches(function() hl.send_after(-1, hl.self(), "x") end,
        "^heirloom%.send_after: timeout must be a non%-negative integer")
      assert.error_matches(function() hl.send_after(nil, hl.self(), "x") end,
        "^heirloom%.send_after: missing argument 'ms'")
      assert.error_matches(function() hl.send_after(1.5, hl.self(), "x") end, "^heirloom%.send_after: ")
      assert.error_matches(function() hl.send_after(10, 42, "x") end, "^heirloom%.send_after: ")
      assert.error_matches(function() hl.send_after(10, hl.self(), { print }) end,
        "^heirloom%.send_after: message.*: cannot encode a function")
      assert.is_nil(hl.receive(30))
    end)
  end)

  describe("cancel_timer", function()
    it("returns the milliseconds left and the message never arrives", function()
      local ref = hl.send_after(500, hl.self(), "cancelled")
      local left = hl.cancel_timer(ref)
      assert.are.equal("integer", math.type(left))
      assert.is_true(left > 0 and left <= 500, "left = " .. tostring(left))
      assert.is_nil(hl.receive(600))
    end)

    it("returns false for a timer already cancelled or fired", function()
      local ref = hl.send_after(300, hl.self(), "x")
      assert.is_truthy(hl.cancel_timer(ref))
      assert.is_false(hl.cancel_timer(ref))
      local fired = hl.send_after(0, hl.self(), "fired")
      assert.are.equal("fired", hl.receive(1000))
      assert.is_false(hl.cancel_timer(fired))
    end)

    it("cancels only the timer it names", function()
      local a = hl.send_after(40, hl.self(), "a")
      hl.send_after(60, hl.self(), "b")
      hl.cancel_timer(a)
      assert.are.equal("b", hl.receive(2000))
      assert.is_nil(hl.receive(50))
    end)

    it("a process can cancel a timer another process set", function()
      local ref = hl.send_after(200, hl.self(), "never")
      hl.spawn(function(to, ref)
        local hl = require("heirloom")
        hl.send(to, { "cancel", hl.cancel_timer(ref) })
      end, hl.self(), ref)
      local left = expect(tagged("cancel"))[2]
      assert.is_truthy(left)
      assert.is_nil(hl.receive(is("never"), 300))
    end)

    it("refuses what is not a timer reference", function()
      assert.error_matches(function() hl.cancel_timer("x") end,
        "^heirloom%.cancel_timer: timer must be a reference")
      assert.error_matches(function() hl.cancel_timer(hl.self()) end, "^heirloom%.cancel_timer: ")
    end)

    it("a monitor ref is not a timer", function()
      local pid = hl.spawn("echo", "loop")
      local mref = hl.monitor(pid)
      assert.is_false(hl.cancel_timer(mref))
      hl.send(pid, "stop")
      expect(tagged("DOWN", mref))
    end)
  end)

  describe("sleep and receive timeouts", function()
    it("sleep leaves the mailbox alone", function()
      hl.send(hl.self(), "kept")
      hl.send_after(5, hl.self(), "kept too")
      hl.sleep(40)
      -- on a loaded machine the timer may fire during a later sleep
      assert.is_true(S.wait_until(function() return hl.process_info(hl.self()).message_queue_len == 2 end, 5000))
      assert.are.equal("kept", hl.receive(0))
      assert.are.equal("kept too", hl.receive(0))
    end)

    it("sleep in a process waits and keeps its mail in order", function()
      local pid = hl.spawn(function(to)
        local hl = require("heirloom")
        hl.send(to, { "ready", hl.self() })
        hl.sleep(100)
        -- the three arrive while it sleeps, however loaded the machine
        require("heirloom.test").eventually(function()
          return hl.process_info(hl.self()).message_queue_len == 3
        end, 5000, 50)
        local got = {}
        for i = 1, 3 do got[i] = hl.receive(0) end
        hl.send(to, { "after sleep", got })
      end, hl.self())
      ready(pid)
      for _, x in ipairs({ 1, 2, 3 }) do hl.send(pid, x) end
      assert.are.same({ 1, 2, 3 }, expect(tagged("after sleep"))[2])
    end)

    it("sleep ends at its time although mail keeps arriving", function()
      local noise = hl.spawn(function(to)
        local hl = require("heirloom")
        for _ = 1, 300 do hl.send(to, "noise"); hl.sleep(5) end
      end, hl.self())
      hl.send_after(900, hl.self(), "marker")
      hl.sleep(100)
      assert.is_nil(hl.receive(is("marker"), 0), "sleep(100) lasted past a 900 ms marker")
      hl.exit(noise, "kill")
    end)

    it("a selective receive times out although other mail keeps arriving", function()
      local noise = hl.spawn(function(to)
        local hl = require("heirloom")
        for _ = 1, 300 do hl.send(to, "noise"); hl.sleep(5) end
      end, hl.self())
      hl.send_after(900, hl.self(), "marker")
      assert.is_nil(hl.receive(is("wanted"), 100))
      assert.is_nil(hl.receive(is("marker"), 0), "receive(100) lasted past a 900 ms marker")
      hl.exit(noise, "kill")
    end)

    it("a process's selective receive times out although other mail keeps arriving", function()
      local waiter = hl.spawn(function(to)
        local hl = require("heirloom")
        hl.send(to, { "ready", hl.self() })
        local r = hl.receive(function(m) return m == "wanted" end, 100)
        hl.send(to, { "timed out", r == nil })
      end, hl.self())
      ready(waiter)
      local noise = hl.spawn(function(w)
        local hl = require("heirloom")
        for _ = 1, 300 do hl.send(w, "noise"); hl.sleep(5) end
      end, waiter)
      hl.send_after(900, hl.self(), "marker")
      local m = expect(tagged("timed out"), 3000)
      assert.is_true(m[2])
      assert.is_nil(hl.receive(is("marker"), 0), "receive(100) lasted past a 900 ms marker")
      hl.exit(noise, "kill")
    end)

    it("sleep refuses a missing or negative time", function()
      assert.error_matches(function() hl.sleep() end, "^heirloom%.sleep: missing argument 'ms'")
      assert.error_matches(function() hl.sleep(-3) end, "^heirloom%.sleep: ")
    end)

    it("await_name refuses a negative timeout", function()
      assert.error_matches(function() hl.await_name("n", -1) end, "^heirloom%.await_name: timeout")
    end)
  end)
end)

-- ---------------------------------------------------------------- deterministic

-- A small program with interleaving workers; returns the trace of what the
-- host saw, as strings.
local function program()
  local trace = {}
  local pids = {}
  for w = 1, 4 do
    pids[w] = hl.spawn(function(to, w)
      local hl = require("heirloom")
      for k = 1, 5 do
        local x = 0
        for i = 1, 15000 * w do x = x + i end    -- work spanning several slices
        hl.send(to, { "step", w, k })
      end
      return w
    end, hl.self(), w)
    trace[#trace + 1] = "spawn " .. w .. " " .. tostring(pids[w])
    hl.monitor(pids[w])
  end
  local echo = hl.spawn("echo", "loop")
  trace[#trace + 1] = "echo " .. tostring(echo)
  hl.send(echo, { "echo", hl.self(), "e1" })
  hl.send_after(0, hl.self(), "timer")
  for _ = 1, 4 * 5 + 4 + 2 do
    local m = hl.receive(5000)
    if m == nil then trace[#trace + 1] = "timeout"; break end
    if m == "timer" then trace[#trace + 1] = "timer"
    elseif m[1] == "step" then trace[#trace + 1] = "step " .. m[2] .. "." .. m[3]
    elseif m[1] == "DOWN" then trace[#trace + 1] = "down " .. tostring(m[3]) .. " " .. tostring(m[4])
    elseif m[1] == "echo" then trace[#trace + 1] = "echo " .. m[2]
    else trace[#trace + 1] = "other" end
  end
  return trace
end

describe("deterministic node (schedulers = 0)", function()
  before_each(function() hl.start{ schedulers = 0, logger = "capture" } end)
  after_each(function() pcall(hl.stop) end)

  it("nothing runs until the host drives it; hl.run() drives it", function()
    local pid = hl.spawn("echo", "hello", hl.self(), "det")
    assert.are.equal("runnable", hl.process_info(pid).status)
    assert.is_nil(hl.receive(0))     -- a zero timeout does not drive the node
    local steps = hl.run()
    assert.are.equal("integer", math.type(steps))
    assert.is_true(steps >= 1)
    local m = hl.receive(0)
    assert.is_not_nil(m)
    assert.are.equal("det", m[2])
    assert.are.equal(0, hl.run())
  end)

  it("hl.run(n) takes at most n steps, so a test can act between them", function()
    for i = 1, 3 do hl.spawn("echo", "hello", hl.self(), i) end
    assert.are.equal(0, hl.run(0))
    assert.are.equal(1, hl.run(1))
    assert.are.equal(1, expect(tagged("hello"), 0)[2])
    assert.is_nil(hl.receive(0))
    assert.are.equal(2, hl.run(5))
    assert.are.equal(2, expect(tagged("hello"), 0)[2])
    assert.are.equal(3, expect(tagged("hello"), 0)[2])
    assert.are.equal(0, hl.run(5))
  end)

  it("hl.run refuses a negative or fractional step count, naming the argument", function()
    local ok, err = pcall(hl.run, -1)
    assert.is_false(ok)
    assert.matches("heirloom.run: argument 1", err)
    ok, err = pcall(hl.run, 1.5)
    assert.is_false(ok)
    assert.matches("heirloom.run: argument 1", err)
  end)

  it("a process waiting in receive is 'waiting' after a run", function()
    local pid = hl.spawn("echo", "loop")
    hl.run()
    assert.are.equal("waiting", hl.process_info(pid).status)
    hl.send(pid, { "ping", hl.self(), 1 })
    assert.are.equal("runnable", hl.process_info(pid).status)
    hl.run()
    assert.are.equal(1, expect(tagged("pong"), 0)[2])
  end)

  it("a host receive drives the node while it waits", function()
    hl.spawn("echo", "hello", hl.self(), "driven")
    assert.are.equal("driven", expect(tagged("hello"), 1000)[2])
  end)

  it("a host receive with no possible message raises 'the node is idle'", function()
    assert.error_matches(function() hl.receive() end,
      "^heirloom%.receive: the node is idle and no message can arrive")
    local pid = hl.spawn("echo", "loop")       -- waits for ever, sends nothing
    assert.error_matches(function() hl.receive() end, "the node is idle")
    assert.is_not_nil(hl.process_info(pid))
  end)

  it("a host receive with a timeout on an idle node returns nil", function()
    assert.is_nil(hl.receive(30))
  end)

  it("a pending timer is not idleness: receive waits for it", function()
    hl.send_after(30, hl.self(), "timer")
    assert.are.equal("timer", hl.receive())
  end)

  it("a process's receive timeout fires while the host waits", function()
    hl.spawn(function(to)
      local hl = require("heirloom")
      local m = hl.receive(40)
      hl.send(to, { "timed out", m == nil })
    end, hl.self())
    assert.is_true(expect(tagged("timed out"), 2000)[2])
  end)

  it("a host sleep drives the node", function()
    hl.spawn("echo", "hello", hl.self(), "while sleeping")
    hl.sleep(10)
    assert.are.equal("while sleeping", expect(tagged("hello"), 0)[2])
  end)

  it("run refuses a node with scheduler threads", function()
    hl.stop()
    hl.start{ schedulers = 1, logger = "capture" }
    assert.error_matches(function() hl.run() end, "^heirloom%.run: the node has scheduler threads")
  end)

  -- Here the hook counts every slice's instructions, so that it ends at the
  -- same one in every run; with scheduler threads a process runs with no
  -- hook until a tick has passed (test_preempt.c), but in a build with
  -- ThreadSanitizer, which holds signals back (src/procs/preempt.h).
  it("a process counts its slice with the hook here, and runs hook-free on threads", function()
    local counts_on_threads = os.getenv("HEIRLOOM_SAN") == "tsan"
    local function hooked()
      hl.spawn(function(to)
        local hl = require("heirloom")
        hl.send(to, { "hooked", debug.gethook() ~= nil })
      end, hl.self())
      return expect(tagged("hooked"), 2000)[2]
    end
    assert.is_true(hooked())
    hl.stop()
    hl.start{ schedulers = 1, logger = "capture" }
    assert.are.equal(counts_on_threads, hooked())
  end)

  it("a runaway is preempted: others run between its slices", function()
    local spinner = hl.spawn("echo", "spin")
    local echo = hl.spawn("echo", "loop")
    hl.send(echo, { "ping", hl.self(), "between slices" })
    assert.are.equal("between slices", expect(tagged("pong"), 2000)[2])
    local ref = hl.monitor(spinner)
    hl.exit(spinner, "kill")
    assert.are.equal("killed", expect(tagged("DOWN", ref), 2000)[4])
  end)

  it("workers' long computations interleave", function()
    local trace = program()
    local order = {}
    for _, e in ipairs(trace) do
      local w = e:match("^step (%d)%.")
      if w then order[#order + 1] = tonumber(w) end
    end
    assert.are.equal(20, #order)
    -- not one worker after another: some worker reports between two
    -- reports of another
    local sequential = true
    local done = {}
    for i = 2, #order do
      if order[i] ~= order[i - 1] then
        if done[order[i]] then sequential = false end
        done[order[i - 1]] = true
      end
    end
    assert.is_false(sequential, "no interleaving: " .. table.concat(order, ","))
  end)

  it("the same program run twice gives the same sequence of events", function()
    local first = program()
    hl.stop()
    hl.start{ schedulers = 0, logger = "capture" }
    local second = program()
    assert.are.equal(31, #first)
    for _, e in ipairs(first) do assert.are_not.equal("timeout", e) end
    assert.are.same(first, second)
  end)

  it("links, monitors and kills are deterministic too", function()
    local function run()
      local trace = {}
      local a = hl.spawn("echo", "wait")
      local b = hl.spawn("echo", "chain_link", hl.self(), a)
      local c = hl.spawn("echo", "trapper", hl.self())
      for _, p in ipairs({ a, b, c }) do hl.monitor(p) end
      hl.run()                                   -- all three set up
      hl.send(c, { "x" })
      hl.exit(c, "signal")
      hl.exit(a, "kill")
      for _ = 1, 6 do
        local m = hl.receive(2000)
        if m == nil then break end
        trace[#trace + 1] = S.show(m):gsub("#Ref<[^>]*>", "ref")
      end
      return trace
    end
    local first = run()
    hl.stop()
    hl.start{ schedulers = 0, logger = "capture" }
    local second = run()
    assert.are.equal(6, #first, table.concat(first, "\n"))
    assert.are.same(first, second)
  end)

  it("10,000 processes in a deterministic node", function()
    for i = 1, 10000 do hl.spawn("echo", "hello", hl.self(), i) end
    hl.run()
    local n = 0
    while hl.receive(0) ~= nil do n = n + 1 end
    assert.are.equal(10000, n)
    assert.are.same({ hl.self() }, hl.processes())
  end)
end)
