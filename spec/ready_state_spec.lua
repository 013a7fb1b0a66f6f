-- ready_state_spec.lua — spawn without loading: once a module has been
-- spawned, the node prepares states in which its top level has already
-- run, and later spawns take one, and the process is like any other (a
-- coroutine its top level made included); a module whose top level needs its
-- process, fails, or runs too long is never prepared ahead and behaves as
-- it always did; an edited module is loaded afresh; a deterministic node
-- still runs the same way for a seed.
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local hl = S.hl
-- The modules note when their top level ran on this clock: the OS
-- process's CPU time, which only grows, whatever thread reads it.
local clock = os.clock
local expect, tagged = S.expect, S.tagged

-- Runs code in a child lua5.4 under `timeout 30`, after hlspec's
-- CHILD_HELPERS; returns its output.
local function child(code)
  return (S.run_child(S.CHILD_HELPERS .. code, 30))
end

local has = S.has

-- Spawns module.fn(self) and returns whether its top level ran before the
-- spawn (a ready state), with the message it sent back.
local function spawn_readytop(fn)
  local before = clock()
  local pid = hl.spawn("readytop", fn or "main", hl.self())
  local m = expect(tagged("readytop"))
  assert.are.equal(pid, m[4])
  assert.are.equal(m[2], m[3])      -- the global its top level set is there
  return m[2] < before, m, pid
end

-- Spawns until one gets a ready state; fails after ms (2000).
local function until_ahead(fn, ms)
  local found
  assert.is_true(S.wait_until(function()
    local ahead, m, pid = spawn_readytop(fn)
    if ahead then found = { m = m, pid = pid }
    elseif fn == "wait" then hl.send(pid, "go") end
    return ahead
  end, ms), "no spawn got a ready state")
  return found
end

describe("ready states", function()
  after_each(function() pcall(hl.stop) end)

  describe("on scheduler threads", function()
    before_each(function() S.start(2) end)

    it("a module's first spawn loads it; later ones find its top level already run", function()
      assert.is_false((spawn_readytop()))
      local got = until_ahead()
      assert.is_true(got.m[2] < clock())
      -- and more than one: the pool keeps a few, refilled behind the spawns
      until_ahead()
    end)

    it("a process from a ready state is like any other", function()
      spawn_readytop()
      local got = until_ahead("wait")
      local info = hl.process_info(got.pid)
      assert.are.equal("readytop:wait", info.initial_call)
      assert.is_true(info.memory > 0)
      hl.send(got.pid, "go")
      assert.is_true(S.dead(got.pid))
      -- its memory counts for it: the limit holds as for any process
      until_ahead()
      local _, ref = hl.spawn_opt({ monitor = true, memory_limit = 1 << 20 }, "readytop", "hog")
      assert.are.equal("memory_limit", expect(tagged("DOWN", ref), 5000)[4])
    end)

    it("a top level that needs its process is never run ahead; it sees what it always saw", function()
      for _ = 1, 5 do
        local before = clock()
        hl.spawn("readyself", "main", hl.self())
        local m = expect(tagged("readyself"))
        assert.is_true(m[2] >= before, "the top level ran before spawn")
        assert.is_false(m[3])
        assert.matches("^heirloom%.self: the process has not started yet", m[4])
        hl.sleep(20)    -- time for the pool to try
      end
    end)

    it("a module calling heirloom.self() at top level still fails to spawn the same way", function()
      for _ = 1, 3 do
        local ok, err = pcall(hl.spawn, "topself", "main")
        assert.is_false(ok)
        assert.matches("^heirloom%.spawn: cannot load module 'topself': [^\n]*heirloom%.self: " ..
          "the process has not started yet", err)
        hl.sleep(20)
      end
    end)

    it("a top level that errors gives the same spawn error every time", function()
      for _ = 1, 3 do
        local ok, err = pcall(hl.spawn, "readyerr", "main")
        assert.is_false(ok)
        assert.matches("^heirloom%.spawn: cannot load module 'readyerr': [^\n]*readyerr: no top " ..
          "level today", err)
        hl.sleep(20)
      end
    end)

    it("an edited module is loaded afresh by the next spawn", function()
      local base = os.tmpname()        -- no os.execute: its shell crashes under TSan
      local file = base .. "_readyedit.lua"
      local function write(version)
        local f = assert(io.open(file, "w"))
        f:write(([[
local hl = require("heirloom")
local loaded_at = os.clock()
return { main = function(to) hl.send(to, { "version", %q, loaded_at }) end }
]]):format(version))
        f:close()
      end
      local saved = package.path
      package.path = base .. "_?.lua;" .. package.path
      local ok, err = pcall(function()
        write("one")
        hl.spawn("readyedit", "main", hl.self())
        assert.are.equal("one", expect(tagged("version"))[2])
        assert.is_true(S.wait_until(function()     -- a ready state of version one
          local before = clock()
          hl.spawn("readyedit", "main", hl.self())
          local m = expect(tagged("version"))
          assert.are.equal("one", m[2])
          return m[3] < before
        end))
        hl.sleep(20)                               -- the pool refills
        write("number two")                        -- another size: another stamp
        for _ = 1, 3 do
          hl.spawn("readyedit", "main", hl.self())
          assert.are.equal("number two", expect(tagged("version"))[2])
        end
      end)
      package.path = saved
      os.remove(file)
      os.remove(base)
      assert(ok, err)
    end)

    -- These two could keep a core busy for ever if they failed: they run
    -- in a child lua5.4 under `timeout` (#child), as in kill_spec.
    it("a coroutine made ahead of time is preempted and killed with its process #child", function()
      local out = child([[
hl.start{ schedulers = 2, logger = 'silent' }
local ahead = false
for _ = 1, 200 do
  local before = os.clock()
  local pid, ref = hl.spawn_opt({ monitor = true }, "readycoro", "main", hl.self())
  local m = hl.receive(function(m) return type(m) == "table" and m[1] == "readycoro" end, 2000)
  hl.sleep(20)                       -- it spins in the coroutine meanwhile
  hl.exit(pid, "kill")
  local why = down(ref, 2000)
  if why ~= "killed" then say("why", why) break end
  if m[2] < before then ahead = true break end
  hl.sleep(5)
end
say("ahead", ahead)
-- killed by the hook, not taken over and left spinning on a thread that
-- stop would have to abandon
say("stop", hl.stop())
os.exit(0)
]])
      assert.is_truthy(has(out, "ahead\ttrue"), out)
      assert.is_truthy(has(out, "stop\ttrue"), out)
    end)

    it("a top level that loops for ever holds neither spawns nor stop #child", function()
      local out = child([[
hl.start{ schedulers = 2, logger = 'silent' }
for _ = 1, 2 do
  local pid, ref = hl.spawn_opt({ monitor = true }, "toploop", "main")
  hl.sleep(50)                               -- the pool tries it meanwhile
  hl.exit(pid, "kill")
  say("down", down(ref, 5000))
end
say("answers", answers())
local t0 = os.time()
say("stop", hl.stop())
say("quick", os.time() - t0 <= 2)
os.exit(0)
]])
      assert.is_falsy(has(out, "down\tnil"), out)
      assert.is_truthy(has(out, "answers\ttrue"), out)
      assert.is_truthy(has(out, "stop\ttrue"), out)
      assert.is_truthy(has(out, "quick\ttrue"), out)
    end)
  end)

  describe("on a deterministic node", function()
    -- Spawns readyseed and readytop a few times and returns the drawn
    -- numbers and the trace's hash.
    local function run(seed)
      hl.start{ schedulers = 0, seed = seed, trace = true, logger = "capture" }
      local drawn = {}
      for i = 1, 12 do
        hl.spawn("readyseed", "main", hl.self(), i)
        drawn[#drawn + 1] = expect(tagged("drawn"))[3]
        pcall(hl.spawn, "topself", "main")
        if i % 4 == 0 then hl.sleep(5) end
      end
      local h = hl.trace_hash()
      hl.stop()
      return drawn, h
    end

    it("a seed gives the same run twice, whichever states the pool had ready", function()
      local drawn1, h1 = run(7)
      local drawn2, h2 = run(7)
      assert.are.same(drawn1, drawn2)
      assert.are.equal(h1, h2)
    end)
  end)
end)
