-- kill_spec.lua — kill, preemption and stop always work: a process that
-- tries to remove the scheduler's hook, sits in a C call or a finalizer, or
-- loops in its module's top level is still killed, and the others keep
-- running; hl.stop finishes and says what it had to abandon; a process that
-- is no longer alive can do nothing; memory_limit holds inside pcall and
-- while a message is encoded; only the host starts and stops its node.
--
-- What could hang or keep a core busy for ever runs in a child lua5.4
-- under `timeout` (tagged #child); the cases that get stuck for a few
-- seconds only run in this process, so that the sanitizers watch the
-- threads the node leaves behind.
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local hl = S.hl
local expect, tagged = S.expect, S.tagged

-- Runs code in a child lua5.4 under `timeout 30`, after hlspec's
-- CHILD_HELPERS; returns its output.
local function child(code)
  return (S.run_child(S.CHILD_HELPERS .. code, 30))
end

local has = S.has

-- Bodies that keep their scheduler thread, as source text for the child.
local STUCK = {
  ["debug.sethook() then a loop"] = [[function(to)
    local hl = require("heirloom")
    hl.send(to, "started")
    pcall(debug.sethook)
    while true do end
  end]],
  ["a coroutine whose hook was cleared"] = [[function(to)
    local hl = require("heirloom")
    hl.send(to, "started")
    local co = coroutine.create(function() while true do end end)
    pcall(debug.sethook, co)
    coroutine.resume(co)
  end]],
  ["a looping __gc"] = [[function(to)
    local hl = require("heirloom")
    hl.send(to, "started")
    setmetatable({}, { __gc = function() while true do end end })
    collectgarbage()
  end]],
  ["a backtracking string.match"] = [[function(to)
    local hl = require("heirloom")
    hl.send(to, "started")
    return string.rep("a", 24):match(string.rep("a*", 24) .. "b")
  end]],
  ["a module whose top level loops"] = "toploop",
}

-- The cases the hook can end: deterministic mode handles them too.
local PREEMPTIBLE = {
  ["debug.sethook() then a loop"] = true,
  ["a coroutine whose hook was cleared"] = true,
  ["a module whose top level loops"] = true,
}

local function spawn_stuck(body)
  if body == "toploop" then
    return [[local pid, ref = hl.spawn_opt({ monitor = true }, "toploop", "main")
]]
  end
  return "local pid, ref = hl.spawn_opt({ monitor = true }, " .. body .. [[, hl.self())
say("started", hl.receive(function(m) return m == "started" end, 2000))
]]
end

describe("kill, preemption and stop", function()
  after_each(function() pcall(hl.stop) end)

  describe("kill ends what the hook cannot reach #child", function()
    for what, body in pairs(STUCK) do
      for _, n in ipairs({ 1, 2, 0 }) do
        if n > 0 or PREEMPTIBLE[what] then
          it(what .. " (schedulers = " .. n .. ")", function()
            local out = child("hl.start{ schedulers = " .. n .. ", logger = 'silent' }\n" ..
              spawn_stuck(body) .. [[
hl.sleep(100)
say("others before", answers())
hl.exit(pid, "kill")
say("down", down(ref))
-- after its DOWN a pid may be listed as exiting for a moment
local t = hl.now() + 1000
while hl.process_info(pid) ~= nil and hl.now() < t do hl.sleep(5) end
say("dead", hl.process_info(pid) == nil)
say("others after", answers())
local ok, report = hl.stop()
say("stopped", ok, report)
os.exit(0)
]])
            assert.is_truthy(has(out, "down\tkilled"), out)
            assert.is_truthy(has(out, "dead\ttrue"), out)
            assert.is_truthy(has(out, "others before\ttrue"), out)
            assert.is_truthy(has(out, "others after\ttrue"), out)
            assert.is_truthy(has(out, "stopped\t"), out)
            assert.is_truthy(has(out, "rc=0"), out)
          end)
        end
      end
    end

    for _, n in ipairs({ 1, 2 }) do
      it("a process stuck in a finalizer, not killed, does not starve the others " ..
         "(schedulers = " .. n .. ")", function()
        local out = child("hl.start{ schedulers = " .. n .. ", logger = 'silent' }\n" ..
          spawn_stuck(STUCK["a looping __gc"]) .. [[
hl.sleep(100)
local all = true
for i = 1, 5 do all = all and answers() end
say("others", all)
say("alive", hl.process_info(pid) ~= nil)
os.exit(0)
]])
        assert.is_truthy(has(out, "others\ttrue"), out)
        assert.is_truthy(has(out, "alive\ttrue"), out)
      end)
    end
  end)

  describe("the hook stays", function()
    before_each(function() S.start(2) end)

    it("debug.sethook is refused in a process, with a clear error", function()
      hl.spawn(function(to)
        local hl = require("heirloom")
        local ok, err = pcall(debug.sethook)
        local ok2, err2 = pcall(debug.sethook, function() end, "l")
        hl.send(to, { "sethook", ok, err, ok2, err2 })
      end, hl.self())
      local m = expect(tagged("sethook"))
      assert.is_false(m[2])
      assert.matches("^debug%.sethook: ", m[3])
      assert.is_false(m[4])
      assert.matches("^debug%.sethook: ", m[5])
    end)

  end)

  describe("a module's top level", function()
    before_each(function() S.start(2) end)

    it("runs before the process exists: the engine says so instead of crashing #child", function()
      local out = child([[
hl.start{ schedulers = 2, logger = 'silent' }
local ok, err = pcall(hl.spawn, "topself", "main")
say("spawn", ok, err)
say("others", answers())
hl.stop()
os.exit(0)
]])
      assert.is_truthy(out:find("spawn\tfalse\theirloom%.spawn: cannot load module 'topself': " ..
        "[^\n]*heirloom%.self: "), out)
      assert.is_truthy(has(out, "others\ttrue"), out)
    end)

    it("a top level longer than spawn runs it goes on in the process", function()
      local _, ref = hl.spawn_opt({ monitor = true }, "toplong", "main", hl.self())
      assert.are.equal(4500001500000, expect(tagged("toplong"), 10000)[2])
      assert.are.equal("normal", expect(tagged("DOWN", ref), 5000)[4])
      -- there, a missing function is the process's exit reason
      _, ref = hl.spawn_opt({ monitor = true }, "toplong", "no_such_function")
      local why = expect(tagged("DOWN", ref), 10000)[4]
      assert.are.equal("module 'toplong' has no function 'no_such_function'", why.error)
    end)

    it("the engine refuses a top level still loading in its process #child", function()
      local out = child([[
hl.start{ schedulers = 2, logger = 'silent' }
local _, ref = hl.spawn_opt({ monitor = true }, "toplate", "main")
local m = hl.receive(function(m) return type(m) == "table" and m[1] == "DOWN" and m[2] == ref end,
  10000)
say("why", m and m[4].error)
hl.stop()
os.exit(0)
]])
      assert.is_truthy(out:find("why\tcannot load module 'toplate': [^\n]*heirloom%.self: the " ..
        "process has not started yet"), out)
    end)

    it("errors in the module still reach the spawner at once", function()
      assert.error_matches(function() hl.spawn("echo", "no_such_function") end,
        "^heirloom%.spawn: module 'echo' has no function 'no_such_function'$")
      assert.error_matches(function() hl.spawn("no_such_module_xyz", "f") end,
        "^heirloom%.spawn: cannot load module 'no_such_module_xyz': ")
    end)
  end)

  -- Stuck for a few seconds only, in this process: the sanitizers see the
  -- abandoned thread come back.
  describe("a finalizer that runs for seconds", function()
    -- The finalizer loops 2 to 3 s, then tries to send "late". The process
    -- owns a table whose heir is `to`.
    local function stuck_in_gc(to)
      local hl = require("heirloom")
      hl.table.new("stuck_table", { heir = to, heir_data = "inherited" })
      hl.send(to, { "started", hl.self() })
      setmetatable({}, { __gc = function()
        local t = os.time() + 3
        while os.time() < t do end
        pcall(hl.send, to, "late")
      end })
      collectgarbage()
    end

    for _, n in ipairs({ 1, 2 }) do
      it("kill ends the process while it runs; it sends nothing after (schedulers = " .. n .. ")",
        function()
          S.start(n)
          local pid, ref = hl.spawn_opt({ monitor = true, link = true }, stuck_in_gc, hl.self())
          expect(tagged("started"))
          hl.sleep(50)
          hl.exit(pid, "kill")
          -- its table goes to its heir, then its links and monitors fire
          local m = expect(tagged("ETS-TRANSFER"), 4000)
          assert.are.equal("inherited", m[4])
          assert.are.equal(hl.self(), m[2]:info("owner"))
          assert.are.equal("killed", expect(S.exit_from(pid), 1000)[3])
          m = expect(tagged("DOWN", ref), 1000)
          assert.are.equal("killed", m[4])
          assert.is_true(S.dead(pid, 1000))
          -- the others keep running, on a replacement thread with 1 scheduler
          local echo = hl.spawn("echo", "loop")
          hl.send(echo, { "ping", hl.self(), 1 })
          expect(tagged("pong"))
          -- the finalizer ends and its send fails: the process is dead
          assert.is_nil(hl.receive(function(x) return x == "late" end, 3500))
          local ok = hl.stop()
          assert.is_true(ok)
        end)
    end

    it("hl.stop abandons a process stuck in a finalizer and says so", function()
      S.start(2)
      local pid = hl.spawn(stuck_in_gc, hl.self())
      expect(tagged("started"))
      hl.sleep(50)
      local ok, report = hl.stop()
      assert.is_false(ok)
      assert.is_truthy(report:find("heirloom.stop: abandoned 1 process state (" .. tostring(pid) .. ")", 1,
        true) == 1, report)
      -- the thread comes back while no node runs: it must touch nothing freed
      hl.start{ schedulers = 1 }
      hl.sleep(3500)
    end)

    it("hl.stop abandons a state whose finalizer runs when it is closed, and says so", function()
      S.start(2)
      local pid, ref = hl.spawn_opt({ monitor = true }, function(to)
        local hl = require("heirloom")
        setmetatable({}, { __gc = function()
          local t = os.time() + 3
          while os.time() < t do end
        end })
        hl.send(to, "started")
      end, hl.self())
      expect(function(m) return m == "started" end)
      assert.are.equal("normal", expect(tagged("DOWN", ref))[4])
      -- the state's closer is replaced: later exits still close their states
      hl.sleep(400)
      for _ = 1, 3 do
        local _, r = hl.spawn_opt({ monitor = true }, "echo", "hello", hl.self(), 1)
        expect(tagged("DOWN", r))
      end
      local ok, report = hl.stop()
      assert.is_false(ok)
      assert.matches("^heirloom%.stop: abandoned 1 closing state", report)
      assert.is_nil(report:find(tostring(pid), 1, true))   -- it was no process any more
      hl.start{ schedulers = 1 }
      hl.sleep(3500)
    end)
  end)

  describe("stop finishes #child", function()
    for _, n in ipairs({ 1, 2 }) do
      it("with a process looping in a finalizer (schedulers = " .. n .. ")", function()
        local out = child("hl.start{ schedulers = " .. n .. ", logger = 'silent' }\n" ..
          spawn_stuck(STUCK["a looping __gc"]) .. [[
hl.sleep(100)
local ok, report = hl.stop()
say("stopped", ok, report)
os.exit(0)
]])
        assert.is_truthy(out:find("stopped\tfalse\theirloom%.stop: abandoned 1 process state %(<0%.%d+%.%d+>%)"),
          out)
      end)
    end

    for _, n in ipairs({ 0, 1, 2 }) do
      it("with a finalizer that loops when the node closes a state (schedulers = " .. n .. ")",
        function()
          local out = child("hl.start{ schedulers = " .. n .. ", logger = 'silent' }\n" .. [[
local pid, ref = hl.spawn_opt({ monitor = true }, function(to)
  local hl = require("heirloom")
  setmetatable({}, { __gc = function() while true do end end })
  hl.send(to, "started")
end, hl.self())
say("down", down(ref))
hl.sleep(50)
local ok, report = hl.stop()
say("stopped", ok, report)
os.exit(0)
]])
          assert.is_truthy(has(out, "down\tnormal"), out)
          assert.is_truthy(out:find("stopped\tfalse\theirloom%.stop: abandoned 1 closing state"), out)
        end)
    end

    it("with a finalizer that loops in a process that is still waiting", function()
      local out = child([[
hl.start{ schedulers = 2, logger = 'silent' }
local pid = hl.spawn(function(to)
  local hl = require("heirloom")
  setmetatable({}, { __gc = function() while true do end end })
  hl.send(to, "started")
  hl.receive()
end, hl.self())
hl.receive(function(m) return m == "started" end, 2000)
local ok, report = hl.stop()
say("stopped", ok, report)
os.exit(0)
]])
      assert.is_truthy(out:find("stopped\tfalse\theirloom%.stop: abandoned 1 closing state"), out)
    end)
  end)

  describe("a process that is no longer alive can do nothing", function()
    before_each(function() S.start(2) end)

    it("its finalizers, run when its state is closed, cannot send, spawn or write", function()
      local file = os.tmpname()
      local t = hl.table.new("ghosts", { access = "public" })
      local before = #hl.processes()
      local _, ref = hl.spawn_opt({ monitor = true }, function(to, tab, path)
        local hl = require("heirloom")
        setmetatable({}, { __gc = function()
          local out = {}
          local function try(what, f)
            local ok, err = pcall(f)
            out[#out + 1] = what .. "\t" .. tostring(ok) .. "\t" .. tostring(err)
          end
          try("send", function() return hl.send(to, "ghost") end)
          try("spawn", function() return hl.spawn(function() end) end)
          try("insert", function() return tab:insert({ "ghost", 1 }) end)
          try("new", function() return hl.table.new("ghost_table") end)
          try("register", function() return hl.register("ghost", to) end)
          try("self", function() return hl.self() end)
          local f = io.open(path .. ".part", "w")
          f:write(table.concat(out, "\n"), "\n")
          f:close()
          os.rename(path .. ".part", path)
        end })
      end, hl.self(), t, file)
      assert.are.equal("normal", expect(tagged("DOWN", ref))[4])
      local text
      S.wait_until(function()
        local f = io.open(file)
        text = f and f:read("a")
        if f then f:close() end
        return text ~= nil and text ~= ""
      end, 3000)
      os.remove(file)
      assert.is_truthy(text and text ~= "", "the finalizer did not run")
      for _, what in ipairs({ "send", "spawn", "insert", "new", "register", "self" }) do
        assert.is_truthy(text:find(what .. "\tfalse\t[^\n]*heirloom%.[%w_.]+: the calling process " ..
          "is no longer alive"), text)
      end
      assert.is_nil(hl.receive(function(m) return m == "ghost" end, 100))
      assert.is_nil(t:lookup("ghost")[1])
      assert.is_nil(hl.whereis("ghost"))
      assert.are.equal(before, #hl.processes())
    end)

    it("the host keeps working as before", function()
      local t = hl.table.new("host_table")
      t:insert({ "k", 1 })
      hl.send(hl.self(), "to me")
      assert.are.equal("to me", hl.receive(100))
      assert.are.equal(1, t:lookup("k")[1][2])
    end)
  end)

  describe("memory_limit", function()
    before_each(function() S.start(2) end)

    it("ends a process that goes over it even inside pcall", function()
      local _, ref = hl.spawn_opt({ monitor = true, memory_limit = 1024 * 1024 }, function(to)
        local hl = require("heirloom")
        for _ = 1, 50 do
          pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end)
        end
        hl.send(to, "survived")
      end, hl.self())
      assert.are.equal("memory_limit", expect(tagged("DOWN", ref), 10000)[4])
      assert.is_nil(hl.receive(function(m) return m == "survived" end, 0))
    end)

    it("ends a process whose string allocations fail inside pcall", function()
      local _, ref = hl.spawn_opt({ monitor = true, memory_limit = 1024 * 1024 }, function(to)
        local hl = require("heirloom")
        for _ = 1, 50 do pcall(string.rep, "x", 4 * 1024 * 1024) end
        hl.send(to, "survived")
      end, hl.self())
      assert.are.equal("memory_limit", expect(tagged("DOWN", ref), 10000)[4])
      assert.is_nil(hl.receive(function(m) return m == "survived" end, 0))
    end)

    it("encoding a message counts against the sender's limit #child", function()
      local out = child([[
hl.start{ schedulers = 2, logger = 'silent' }
local pid, ref = hl.spawn_opt({ monitor = true, memory_limit = 1024 * 1024 }, function(to)
  local hl = require("heirloom")
  local t = {}
  for _ = 1, 27 do t = { t, t } end
  pcall(hl.send, to, t)
  hl.send(to, "survived")
end, hl.self())
say("down", down(ref, 20000))
say("message", hl.receive(0))
hl.stop()
os.exit(0)
]])
      assert.is_truthy(has(out, "down\tmemory_limit"), out)
      assert.is_truthy(has(out, "message\tnil"), out)
    end)

    it("a process encoding a huge message can be killed #child", function()
      local out = child([[
hl.start{ schedulers = 2, logger = 'silent' }
local pid, ref = hl.spawn_opt({ monitor = true }, function(to)
  local hl = require("heirloom")
  local t = {}
  for _ = 1, 27 do t = { t, t } end
  hl.send(to, "started")
  hl.send(to, t)
end, hl.self())
hl.receive(function(m) return m == "started" end, 2000)
hl.sleep(200)
hl.exit(pid, "kill")
say("down", down(ref, 2000))
say("others", answers())
hl.stop()
os.exit(0)
]])
      assert.is_truthy(has(out, "down\tkilled"), out)
      assert.is_truthy(has(out, "others\ttrue"), out)
    end)
  end)

  describe("only the host starts and stops its node", function()
    before_each(function() S.start(2) end)

    it("hl.stop and hl.start in a process raise, and the process stays on the node", function()
      local pid = hl.spawn(function(to)
        local hl = require("heirloom")
        local ok, err = pcall(hl.stop)
        local ok2, err2 = pcall(hl.start, {})
        hl.send(to, { "tried", ok, err, ok2, err2, hl.self() })
      end, hl.self())
      local m = expect(tagged("tried"))
      assert.is_false(m[2])
      assert.matches("^heirloom%.stop: only the host", m[3])
      assert.is_false(m[4])
      assert.matches("^heirloom%.start: only the host", m[5])
      assert.are.equal(pid, m[6])
    end)
  end)
end)
