-- signals_spec.lua — links, monitors, exit signals, kill, trap_exit,
-- runaway processes, and signals racing from several processes at once.
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local hl = S.hl
local expect, tagged, ready, none = S.expect, S.tagged, S.ready, S.none
local start, exit_from, dead = S.start, S.exit_from, S.dead

local function down_of(ref)
  return tagged("DOWN", ref)
end

local function ping(pid, tag, ms)
  hl.send(pid, { "ping", hl.self(), tag })
  return hl.receive(function(m) return type(m) == "table" and m[1] == "pong" and m[2] == tag end,
    ms or 2000)
end

describe("signals", function()
  before_each(function() start(2) end)
  after_each(function() pcall(hl.stop) end)

  -- ------------------------------------------------------------ links
  describe("links", function()
    it("spawn_link + error: the host gets EXIT with the error", function()
      local pid = hl.spawn_link("echo", "crash", "linked failure")
      local m = expect(exit_from(pid))
      assert.are.equal(pid, m[2])
      assert.are.equal("table", type(m[3]))
      assert.is_truthy(tostring(m[3].error):match("linked failure"))
    end)

    it("spawn_link + normal return: the host gets EXIT normal", function()
      local pid = hl.spawn_link("echo", "hello", hl.self(), 1)
      assert.are.equal("normal", expect(exit_from(pid))[3])
    end)

    it("spawn_link + hl.exit(reason): the reason arrives as given", function()
      local pid = hl.spawn_link("echo", "exit_later", hl.self(), { why = "custom" })
      ready(pid)
      hl.send(pid, "go")
      assert.are.same({ why = "custom" }, expect(exit_from(pid))[3])
    end)

    it("a normal exit of a linked process does not kill a non-trapping one", function()
      local survivor = hl.spawn("echo", "loop")
      local quitter = hl.spawn("echo", "exit_later", hl.self(), "normal")
      ready(quitter)
      hl.send(survivor, { "link", hl.self(), quitter })
      expect(tagged("linked"))
      local rq = hl.monitor(quitter)
      hl.send(quitter, "go")
      assert.are.equal("normal", expect(down_of(rq))[4])
      assert.is_not_nil(ping(survivor, "still here"))
    end)

    it("a 'shutdown' exit of a link kills a non-trapping process", function()
      local victim = hl.spawn("echo", "loop")
      local quitter = hl.spawn("echo", "exit_later", hl.self(), "shutdown")
      ready(quitter)
      hl.send(victim, { "link", hl.self(), quitter })
      expect(tagged("linked"))
      local rv = hl.monitor(victim)
      hl.send(quitter, "go")
      assert.are.equal("shutdown", expect(down_of(rv))[4])
    end)

    it("a crash propagates along a chain of three processes", function()
      -- c <- b <- a : a crashes, b and c die with a's reason
      local c = hl.spawn("echo", "wait", hl.self())
      ready(c)
      local a = hl.spawn("echo", "crash_later", hl.self(), "chain breaks")
      ready(a)
      local b = hl.spawn("echo", "chain_link", hl.self(), c, a)
      ready(b)
      local rb, rc, ra = hl.monitor(b), hl.monitor(c), hl.monitor(a)
      hl.send(a, "go")
      local da, db, dc = expect(down_of(ra)), expect(down_of(rb)), expect(down_of(rc))
      assert.are.equal("chain breaks", da[4].error)
      assert.are.equal("chain breaks", db[4].error)
      assert.are.equal("chain breaks", dc[4].error)
    end)

    it("a trapping middle link stops the chain", function()
      local c = hl.spawn("echo", "wait", hl.self())
      ready(c)
      local b = hl.spawn("echo", "loop")
      hl.send(b, { "link", hl.self(), c })
      expect(tagged("linked"))
      hl.send(b, { "trap", hl.self(), true })
      expect(tagged("trap"))
      local a = hl.spawn("echo", "crash_later", hl.self(), "stop here")
      ready(a)
      hl.send(b, { "link", hl.self(), a })
      expect(tagged("linked"))
      local ra = hl.monitor(a)
      hl.send(a, "go")
      expect(down_of(ra))
      assert.is_not_nil(ping(b, "b alive"))
      assert.is_not_nil(hl.process_info(c))
    end)

    it("unlink: a crash no longer propagates", function()
      local a = hl.spawn("echo", "crash_later", hl.self(), "unlinked crash")
      ready(a)
      hl.link(a)
      hl.unlink(a)
      local ra = hl.monitor(a)
      hl.send(a, "go")
      expect(down_of(ra))
      none(exit_from(a), 50)
    end)

    it("unlink from the other side: a process that unlinked survives a crash", function()
      local survivor = hl.spawn(function(to)
        local hl = require("heirloom")
        local a = hl.receive(2000)
        hl.link(a)
        hl.unlink(a)
        hl.send(to, { "unlinked" })
        while true do
          local m = hl.receive()
          if type(m) == "table" and m[1] == "ping" then hl.send(m[2], { "pong", m[3] }) end
        end
      end, hl.self())
      local a = hl.spawn("echo", "crash_later", hl.self(), "x")
      ready(a)
      hl.send(survivor, a)
      expect(tagged("unlinked"))
      local ra = hl.monitor(a)
      hl.send(a, "go")
      expect(down_of(ra))
      assert.is_not_nil(ping(survivor, "ok"))
    end)

    it("linking a dead pid: a trapping process gets EXIT noproc", function()
      local pid = hl.spawn("echo", "hello", hl.self(), 0)
      expect(tagged("hello"))
      assert.is_true(dead(pid))
      hl.link(pid)
      assert.are.equal("noproc", expect(exit_from(pid))[3])
      assert.are.same({}, hl.process_info(hl.self()).links)
    end)

    it("linking a dead pid kills a non-trapping process", function()
      local gone = hl.spawn("echo", "hello", hl.self(), 0)
      expect(tagged("hello"))
      assert.is_true(dead(gone))
      local linker = hl.spawn("echo", "loop")
      local r = hl.monitor(linker)
      hl.send(linker, { "link", hl.self(), gone })
      assert.are.equal("noproc", expect(down_of(r))[4])
    end)

    it("links are both ways and listed once", function()
      local pid = hl.spawn("echo", "loop")
      hl.link(pid)
      hl.link(pid)
      assert.are.same({ hl.self() }, hl.process_info(pid).links)
      assert.are.same({ pid }, hl.process_info(hl.self()).links)
      hl.send(pid, { "crash", "both ways" })
      assert.are.equal("both ways", expect(exit_from(pid))[3].error)
      assert.are.same({}, hl.process_info(hl.self()).links)
    end)

    it("linking to oneself does nothing", function()
      assert.has_no.errors(function() hl.link(hl.self()) end)
      assert.are.same({}, hl.process_info(hl.self()).links)
    end)

    it("link and unlink refuse a non-pid", function()
      assert.error_matches(function() hl.link("x") end, "^heirloom%.link: pid must be a pid")
      assert.error_matches(function() hl.unlink(1) end, "^heirloom%.unlink: pid must be a pid")
    end)
  end)

  -- ------------------------------------------------------------ monitors
  describe("monitors", function()
    it("DOWN carries the ref, the pid and the reason", function()
      local pid = hl.spawn("echo", "crash_later", hl.self(), "monitored")
      ready(pid)
      local ref = hl.monitor(pid)
      hl.send(pid, "go")
      local m = expect(tagged("DOWN"))
      assert.are.equal(ref, m[2])
      assert.are.equal(pid, m[3])
      assert.are.equal("monitored", m[4].error)
    end)

    it("DOWN normal for a normal exit, killed for a kill", function()
      local a = hl.spawn("echo", "loop")
      local b = hl.spawn("echo", "loop")
      local ra, rb = hl.monitor(a), hl.monitor(b)
      hl.send(a, "stop")
      hl.exit(b, "kill")
      assert.are.equal("normal", expect(down_of(ra))[4])
      assert.are.equal("killed", expect(down_of(rb))[4])
    end)

    it("monitoring a dead pid gives DOWN noproc at once", function()
      local pid = hl.spawn("echo", "hello", hl.self(), 0)
      expect(tagged("hello"))
      assert.is_true(dead(pid))
      local ref = hl.monitor(pid)
      local m = hl.receive(0)
      assert.is_not_nil(m, "DOWN noproc did not arrive at once")
      assert.are.same({ "DOWN", ref, pid, "noproc" }, m)
      assert.are.same({}, hl.process_info(hl.self()).monitors)
    end)

    it("monitoring by name", function()
      local pid = hl.spawn_opt({ name = "watched" }, "echo", "loop")
      local ref = hl.monitor("watched")
      hl.send("watched", "stop")
      local m = expect(down_of(ref))
      assert.are.equal(pid, m[3])
      assert.are.equal("normal", m[4])
    end)

    it("monitoring a name nobody holds gives DOWN noproc", function()
      local ref = hl.monitor("nobody_by_that_name")
      local m = hl.receive(down_of(ref), 100)
      assert.is_not_nil(m)
      assert.are.equal("noproc", m[4])
    end)

    it("demonitor stops the DOWN", function()
      local pid = hl.spawn("echo", "loop")
      local ref = hl.monitor(pid)
      assert.is_true(hl.demonitor(ref))
      assert.are.same({}, hl.process_info(hl.self()).monitors)
      local ref2 = hl.monitor(pid)
      hl.send(pid, { "crash", "unwatched" })
      expect(down_of(ref2))
      none(down_of(ref), 50)
    end)

    it("demonitor of an unknown or used ref is harmless", function()
      local pid = hl.spawn("echo", "loop")
      local ref = hl.monitor(pid)
      hl.send(pid, "stop")
      expect(down_of(ref))
      assert.has_no.errors(function() hl.demonitor(ref) end)
      assert.has_no.errors(function() hl.demonitor(ref) end)
      assert.error_matches(function() hl.demonitor(pid) end, "^heirloom%.demonitor: ")
      assert.error_matches(function() hl.demonitor("x") end, "^heirloom%.demonitor: ")
    end)

    it("two monitors give two DOWNs with different refs", function()
      local pid = hl.spawn("echo", "loop")
      local r1, r2 = hl.monitor(pid), hl.monitor(pid)
      assert.are_not.equal(r1, r2)
      hl.send(pid, "stop")
      expect(down_of(r1))
      expect(down_of(r2))
      none(tagged("DOWN"), 50)
    end)

    it("a monitor does not kill the monitoring process", function()
      local watcher = hl.spawn(function(to, target)
        local hl = require("heirloom")
        local ref = hl.monitor(target)
        hl.send(to, { "ready", hl.self() })
        local m = hl.receive(function(m) return type(m) == "table" and m[2] == ref end, 5000)
        hl.send(to, { "watcher saw", m and m[4] and m[4].error })
      end, hl.self(), hl.spawn("echo", "crash_later", hl.self(), "observed"))
      ready(watcher)
      local target = ready()
      hl.send(target, "go")
      assert.are.equal("observed", expect(tagged("watcher saw"))[2])
    end)

    it("a fired monitor is gone from the monitoring process's monitors", function()
      local pid = hl.spawn("echo", "loop")
      local ref = hl.monitor(pid)
      assert.are.same({ pid }, hl.process_info(hl.self()).monitors)
      hl.send(pid, "stop")
      expect(down_of(ref))
      assert.are.same({}, hl.process_info(hl.self()).monitors)
    end)

    it("monitors that fired do not pile up in a long-lived process", function()
      for i = 1, 200 do
        local pid = hl.spawn("echo", "hello", hl.self(), i)
        local ref = hl.monitor(pid)
        expect(down_of(ref))
      end
      S.drain()
      local n = #hl.process_info(hl.self()).monitors
      assert.are.equal(0, n, n .. " dead monitors are still recorded")
    end)
  end)

  -- ------------------------------------------------------------ exit and kill
  describe("exit and kill", function()
    it("hl.exit(pid, reason) ends a non-trapping process with that reason", function()
      local pid = hl.spawn("echo", "loop")
      local ref = hl.monitor(pid)
      assert.is_true(hl.exit(pid, "because"))
      assert.are.equal("because", expect(down_of(ref))[4])
    end)

    it("hl.exit(pid, 'normal') does not end another process", function()
      local pid = hl.spawn("echo", "loop")
      hl.exit(pid, "normal")
      assert.is_not_nil(ping(pid, "normal ignored"))
    end)

    it("hl.exit(pid, table) carries the table as the reason", function()
      local pid = hl.spawn("echo", "loop")
      local ref = hl.monitor(pid)
      hl.exit(pid, { code = 3, list = { 1, 2 } })
      assert.are.same({ code = 3, list = { 1, 2 } }, expect(down_of(ref))[4])
    end)

    it("hl.exit(reason) inside a process ends it, even inside pcall", function()
      local _, ref = hl.spawn_opt({ monitor = true }, function(to)
        local hl = require("heirloom")
        local ok = pcall(hl.exit, "from inside")
        hl.send(to, { "after pcall", ok })   -- must never run
        while true do end
      end, hl.self())
      assert.are.equal("from inside", expect(down_of(ref), 5000)[4])
      none(tagged("after pcall"), 20)
    end)

    it("the host cannot exit itself, and the reason is required", function()
      assert.error_matches(function() hl.exit("bye") end, "^heirloom%.exit: the host process cannot exit")
      assert.error_matches(function() hl.exit(hl.self()) end, "^heirloom%.exit: ")
      assert.error_matches(function() hl.exit(hl.self(), nil) end, "^heirloom%.exit: missing argument 'reason'")
      assert.error_matches(function() hl.exit(hl.self(), print) end, "^heirloom%.exit: reason")
    end)

    it("the host receives an exit signal as an EXIT message", function()
      local pid = hl.spawn(function(host)
        local hl = require("heirloom")
        hl.exit(host, "kill")
        hl.exit(host, "go away")
      end, hl.self())
      local m1 = expect(exit_from(pid))
      local m2 = expect(exit_from(pid))
      assert.are.equal("killed", m1[3])
      assert.are.equal("go away", m2[3])
    end)

    it("an exit to a dead pid is harmless", function()
      local pid = hl.spawn("echo", "hello", hl.self(), 0)
      expect(tagged("hello"))
      assert.is_true(dead(pid))
      assert.has_no.errors(function() hl.exit(pid, "kill") end)
    end)

    local runaways = {
      { "spin", "a process stuck in while true do end" },
      { "spin_pcall", "a process looping inside pcall" },
      { "spin_sort", "a process inside table.sort's comparator" },
    }
    for _, r in ipairs(runaways) do
      for _, n in ipairs({ 1, 2 }) do
        it("kill ends " .. r[2] .. " (schedulers = " .. n .. ")", function()
          hl.stop()
          start(n)
          local pid = hl.spawn("echo", r[1], hl.self(), 10)
          ready(pid)
          local ref = hl.monitor(pid)
          hl.exit(pid, "kill")
          local m = expect(down_of(ref), 5000)
          assert.are.equal("killed", m[4])
          assert.is_true(dead(pid))
        end)

        it("an ordinary exit signal also ends " .. r[2] .. " (schedulers = " .. n .. ")", function()
          hl.stop()
          start(n)
          local pid = hl.spawn("echo", r[1], hl.self(), 10)
          ready(pid)
          local ref = hl.monitor(pid)
          hl.exit(pid, "stop now")
          assert.are.equal("stop now", expect(down_of(ref), 5000)[4])
        end)
      end
    end

    for _, n in ipairs({ 1, 2 }) do
      it("a runaway does not starve others (schedulers = " .. n .. ")", function()
        hl.stop()
        start(n)
        local spinners = {}
        for i = 1, n + 1 do           -- more runaways than threads
          spinners[i] = hl.spawn("echo", "spin", hl.self())
          ready(spinners[i])
        end
        local echo = hl.spawn("echo", "loop")
        for i = 1, 10 do
          assert.is_not_nil(ping(echo, i, 5000), "ping " .. i .. " not answered")
        end
        -- and a freshly spawned process runs too
        hl.spawn("echo", "hello", hl.self(), "fresh")
        assert.are.equal("fresh", expect(tagged("hello"), 5000)[2])
        for _, s in ipairs(spinners) do
          local ref = hl.monitor(s)
          hl.exit(s, "kill")
          assert.are.equal("killed", expect(down_of(ref), 5000)[4])
        end
      end)
    end

    it("a runaway's linked partner dies when it is killed", function()
      local pid = hl.spawn("echo", "spin", hl.self())
      ready(pid)
      local partner = hl.spawn("echo", "loop")
      hl.send(partner, { "link", hl.self(), pid })
      expect(tagged("linked"))
      local rp = hl.monitor(partner)
      hl.exit(pid, "kill")
      assert.are.equal("killed", expect(down_of(rp), 5000)[4])
    end)

    it("hl.stop ends runaways looping in Lua and in pcall", function()
      ready(hl.spawn("echo", "spin", hl.self()))
      ready(hl.spawn("echo", "spin_pcall", hl.self()))
      hl.stop()
      start(2)
      assert.are.same({ hl.self() }, hl.processes())
    end)

    it("hl.stop ends a runaway inside table.sort's comparator promptly", function()
      -- the comparator gives up after 3 s of CPU, so a broken stop is slow, not hung
      ready(hl.spawn("echo", "spin_sort", hl.self(), 3))
      local t0 = os.time()
      hl.stop()
      local took = os.time() - t0
      start(2)
      assert.is_true(took <= 1, "hl.stop took " .. took .. " s: it waited for the runaway")
    end)

    -- Lua cannot yield across a C call such as table.sort, so a runaway
    -- comparator keeps its scheduler thread until it returns or is killed
    -- (docs/processes.md). The other schedulers go on serving everyone else.
    it("a runaway inside table.sort's comparator does not starve others (schedulers = 2)", function()
      hl.stop()
      start(2)
      local spinner = hl.spawn("echo", "spin_sort", hl.self(), 3)
      ready(spinner)
      local echo = hl.spawn("echo", "loop")
      local answered = ping(echo, "during sort", 1000)
      local ref = hl.monitor(spinner)
      hl.exit(spinner, "kill")
      expect(down_of(ref), 10000)
      assert.is_not_nil(answered, "a process waited while another spun inside table.sort")
    end)
  end)

  -- ------------------------------------------------------------ trap_exit
  describe("trap_exit", function()
    it("a trapping process receives EXIT instead of dying", function()
      local trapper = hl.spawn("echo", "trapper", hl.self())
      ready(trapper)
      hl.exit(trapper, "an exit signal")
      local m = expect(tagged("got"))
      assert.are.same({ "EXIT", hl.self(), "an exit signal" }, m[2])
      assert.is_not_nil(hl.process_info(trapper))
    end)

    it("a trapping process gets EXIT from a crashing link", function()
      local a = hl.spawn("echo", "crash_later", hl.self(), "link crash")
      ready(a)
      local trapper = hl.spawn(function(to, a)
        local hl = require("heirloom")
        hl.trap_exit(true)
        hl.link(a)
        hl.send(to, { "ready", hl.self() })
        local m = hl.receive(5000)
        hl.send(to, { "trapped", m })
      end, hl.self(), a)
      ready(trapper)
      hl.send(a, "go")
      local m = expect(tagged("trapped"))[2]
      assert.are.equal("EXIT", m[1])
      assert.are.equal(a, m[2])
      assert.are.equal("link crash", m[3].error)
    end)

    it("a trapping process gets EXIT normal from a link that returns", function()
      local trapper = hl.spawn_opt({ trap_exit = true }, function(to)
        local hl = require("heirloom")
        local child = hl.spawn_link("echo", "hello", to, "child")
        local m = hl.receive(5000)
        hl.send(to, { "trapped", m, child })
      end, hl.self())
      local t = expect(tagged("trapped"))
      assert.are.same({ "EXIT", t[3], "normal" }, t[2])
      assert.is_not_nil(trapper)
    end)

    it("kill still kills a trapping process", function()
      local trapper = hl.spawn("echo", "trapper", hl.self())
      ready(trapper)
      local ref = hl.monitor(trapper)
      hl.exit(trapper, "kill")
      assert.are.equal("killed", expect(down_of(ref))[4])
      none(tagged("got"), 30)
    end)

    it("a linked process's 'killed' reason is trappable", function()
      local victim = hl.spawn("echo", "wait", hl.self())
      ready(victim)
      local trapper = hl.spawn(function(to, v)
        local hl = require("heirloom")
        hl.trap_exit(true)
        hl.link(v)
        hl.send(to, { "ready", hl.self() })
        hl.send(to, { "trapped", hl.receive(5000) })
      end, hl.self(), victim)
      ready(trapper)
      hl.exit(victim, "kill")
      assert.are.same({ "EXIT", victim, "killed" }, expect(tagged("trapped"))[2])
    end)

    it("trap_exit returns the old flag and can be turned off", function()
      local pid = hl.spawn("echo", "loop")
      hl.send(pid, { "trap", hl.self(), true })
      assert.are.equal(false, expect(tagged("trap"))[2])
      assert.is_true(hl.process_info(pid).trap_exit)
      hl.send(pid, { "trap", hl.self(), false })
      assert.are.equal(true, expect(tagged("trap"))[2])
      local ref = hl.monitor(pid)
      hl.exit(pid, "not trapped now")
      assert.are.equal("not trapped now", expect(down_of(ref))[4])
    end)

    it("trap_exit refuses a non-boolean", function()
      assert.error_matches(function() hl.trap_exit(1) end, "^heirloom%.trap_exit: flag must be a boolean")
      assert.error_matches(function() hl.trap_exit() end, "^heirloom%.trap_exit: ")
    end)
  end)

  -- ------------------------------------------------------------ races
  describe("racing signals", function()
    it("50 non-trapping processes linked to one that is killed all die, once each", function()
      local hub = hl.spawn("echo", "wait", hl.self())
      ready(hub)
      local refs, pids = {}, {}
      for i = 1, 50 do
        pids[i] = hl.spawn("echo", "chain_link", hl.self(), hub)
        ready(pids[i])
        refs[i] = hl.monitor(pids[i])
      end
      assert.are.equal(50, #hl.process_info(hub).links)
      hl.exit(hub, "kill")
      local seen = {}
      for _ = 1, 50 do
        local m = expect(tagged("DOWN"), 5000)
        assert.is_nil(seen[m[2]], "two DOWNs for one monitor")
        seen[m[2]] = true
        assert.are.equal("killed", m[4])
      end
      for i = 1, 50 do assert.is_true(seen[refs[i]]) end
      none(tagged("DOWN"), 50)
    end)

    it("50 trapping processes linked to one that is killed get EXIT killed exactly once", function()
      local hub = hl.spawn("echo", "wait", hl.self())
      ready(hub)
      for i = 1, 50 do
        hl.spawn(function(to, hub, i)
          local hl = require("heirloom")
          hl.trap_exit(true)
          hl.link(hub)
          hl.send(to, { "ready", hl.self() })
          local got = {}
          local m = hl.receive(5000)
          while m ~= nil do
            got[#got + 1] = m
            m = hl.receive(200)
          end
          hl.send(to, { "report", i, got })
        end, hl.self(), hub, i)
        ready()
      end
      hl.exit(hub, "kill")
      local seen = {}
      for _ = 1, 50 do
        local m = expect(tagged("report"), 10000)
        assert.is_nil(seen[m[2]])
        seen[m[2]] = true
        assert.are.same({ { "EXIT", hub, "killed" } }, m[3])
      end
    end)

    it("links made while the target is being killed: each gets exactly one signal", function()
      for _ = 1, 5 do
        local hub = hl.spawn("echo", "loop")
        for i = 1, 50 do
          hl.spawn(function(to, hub, i)
            local hl = require("heirloom")
            hl.trap_exit(true)
            hl.link(hub)
            local got = {}
            local m = hl.receive(3000)
            while m ~= nil do
              got[#got + 1] = m
              m = hl.receive(100)
            end
            hl.send(to, { "report", i, got })
          end, hl.self(), hub, i)
        end
        hl.exit(hub, "kill")
        local seen = {}
        for _ = 1, 50 do
          local m = expect(tagged("report"), 10000)
          assert.is_nil(seen[m[2]])
          seen[m[2]] = true
          assert.are.equal(1, #m[3], "process " .. m[2] .. " got " .. S.show(m[3]))
          local sig = m[3][1]
          assert.are.equal("EXIT", sig[1])
          assert.are.equal(hub, sig[2])
          assert.is_true(sig[3] == "killed" or sig[3] == "noproc", "reason " .. S.show(sig[3]))
        end
      end
    end)

    it("monitors made while the target is being killed: each gets exactly one DOWN", function()
      for _ = 1, 5 do
        local hub = hl.spawn("echo", "loop")
        for i = 1, 50 do
          hl.spawn(function(to, hub, i)
            local hl = require("heirloom")
            local ref = hl.monitor(hub)
            local got = {}
            local m = hl.receive(3000)
            while m ~= nil do
              got[#got + 1] = m
              m = hl.receive(100)
            end
            hl.send(to, { "report", i, got, ref })
          end, hl.self(), hub, i)
        end
        hl.exit(hub, "kill")
        for _ = 1, 50 do
          local m = expect(tagged("report"), 10000)
          assert.are.equal(1, #m[3], "process " .. m[2] .. " got " .. S.show(m[3]))
          local d = m[3][1]
          assert.are.equal("DOWN", d[1])
          assert.are.equal(m[4], d[2])
          assert.is_true(d[4] == "killed" or d[4] == "noproc")
        end
      end
    end)

    it("several processes kill one target at once: it dies once", function()
      for _ = 1, 10 do
        local target = hl.spawn("echo", "trapper", hl.self())
        ready(target)
        local ref = hl.monitor(target)
        local go = {}
        for i = 1, 10 do
          go[i] = hl.spawn(function(t, i)
            local hl = require("heirloom")
            hl.receive(5000)
            hl.exit(t, i % 2 == 0 and "kill" or "other")
          end, target, i)
        end
        for i = 1, 10 do hl.send(go[i], "go") end
        local m = expect(down_of(ref), 5000)
        assert.is_true(m[4] == "killed", "reason " .. S.show(m[4]))
        none(down_of(ref), 50)
      end
      S.drain()
    end)

    it("mutually linked processes killed at once all die, with one DOWN each", function()
      for _ = 1, 5 do
        local pids, refs = {}, {}
        for i = 1, 20 do
          pids[i] = hl.spawn("echo", "loop")
          refs[i] = hl.monitor(pids[i])
        end
        for i = 1, 20 do      -- a full mesh of links
          for j = i + 1, 20 do hl.send(pids[i], { "link", hl.self(), pids[j] }) end
        end
        for _ = 1, 190 do expect(tagged("linked")) end
        local killers = {}
        for i = 1, 5 do
          killers[i] = hl.spawn(function(victim)
            local hl = require("heirloom")
            hl.receive(5000)
            hl.exit(victim, "kill")
          end, pids[i * 4])
        end
        for i = 1, 5 do hl.send(killers[i], "go") end
        local seen = {}
        for _ = 1, 20 do
          local m = expect(tagged("DOWN"), 5000)
          assert.is_nil(seen[m[2]])
          seen[m[2]] = true
          assert.are.equal("killed", m[4])
        end
        none(tagged("DOWN"), 50)
        assert.is_true(S.wait_until(function() return S.nprocs() == 1 end, 3000))
      end
    end)

    it("a crash storm leaves the node clean", function()
      local refs = {}
      for i = 1, 500 do
        local _, ref = hl.spawn_opt({ monitor = true, link = (i % 2 == 0) }, "echo", "crash", "storm")
        refs[ref] = true
      end
      local downs, exits = 0, 0
      while downs < 500 or exits < 250 do
        local m = expect(function(m) return m[1] == "DOWN" or m[1] == "EXIT" end, 5000)
        if m[1] == "DOWN" then
          assert.is_true(refs[m[2]])
          refs[m[2]] = nil
          downs = downs + 1
        else
          exits = exits + 1
        end
      end
      none(nil, 30)
      assert.are.equal(500, #hl.logs())
      assert.is_true(S.wait_until(function() return S.nprocs() == 1 end, 3000))
      assert.are.same({}, hl.process_info(hl.self()).links)
    end)
  end)
end)
