-- server_spec.lua — the server behaviour (hl.server) and the process
-- aliases under it: start and the init ack, call/cast/reply, stop,
-- terminate, timeouts, call errors, late replies, and call_retry while a
-- server restarts. The core runs with scheduler threads and in
-- deterministic mode.
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local hl = S.hl
local expect, tagged, none = S.expect, S.tagged, S.none
local start, exit_from = S.start, S.exit_from

-- The error fn raises (it must raise).
local catch = S.catch

local function result(tag, ms)
  return expect(function(m) return type(m) == "table" and m[1] == "result" and m[2] == tag end,
    ms or 5000, "result " .. tostring(tag))
end

local function down_of(ref) return tagged("DOWN", ref) end

-- After its DOWN a process may still be listed for a moment, as exiting.
local function gone(pid)
  return S.dead(pid, 2000)
end

-- Messages of the host's mailbox that a call might have left behind.
local function call_leftovers()
  local left = {}
  for _, m in ipairs(S.drain()) do
    if type(m) == "table" and (m[1] == "$reply" or m[1] == "DOWN") then left[#left + 1] = m end
  end
  return left
end

local function count(msgs, tag)
  local n = 0
  for _, m in ipairs(msgs) do
    if type(m) == "table" and m[1] == tag then n = n + 1 end
  end
  return n
end

local basic = S.basic

-- ---------------------------------------------------------------- aliases

describe("aliases", function()
  before_each(function() start(2) end)
  after_each(function() pcall(hl.stop) end)

  it("a message sent to an active alias reaches its owner", function()
    local a = hl.alias()
    assert.are.equal("#Ref<", tostring(a):sub(1, 5))
    hl.send(a, { "hello", 1 })
    assert.are.same({ "hello", 1 }, expect(1000))
  end)

  it("unalias deactivates: later messages are dropped, a second unalias is false", function()
    local a = hl.alias()
    assert.is_true(hl.unalias(a))
    assert.is_false(hl.unalias(a))
    assert.are.same({ "x" }, hl.send(a, { "x" }))   -- no error, like a send to a dead pid
    none(nil, 50, "after unalias")
  end)

  it("an alias made by another process delivers to that process, not the sender", function()
    local pid = hl.spawn(function(host)
      local h = require("heirloom")
      local a = h.alias()
      h.send(host, { "alias", a })
      local m = h.receive()
      h.send(host, { "got", m })
      h.unalias(a)
      h.send(host, { "unaliased" })
      h.send(host, { "after", h.receive(200) })
    end, hl.self())
    local a = expect(tagged("alias"))[2]
    assert.is_false(hl.unalias(a))                  -- not ours: nothing happens
    hl.send(a, "first")
    assert.are.same({ "got", "first" }, expect(tagged("got")))
    expect(tagged("unaliased"))
    hl.send(a, "second")
    assert.are.same({ "after" }, expect(tagged("after")))
    assert.is_truthy(pid)
  end)

  it("an alias of a process that exited drops messages without error", function()
    local pid, ref = hl.spawn_opt({ monitor = true }, function(host)
      local h = require("heirloom")
      h.send(host, { "alias", h.alias() })
    end, hl.self())
    local a = expect(tagged("alias"))[2]
    expect(down_of(ref))
    hl.send(a, "into the void")
    assert.is_true(gone(pid))
  end)

  it("unalias rejects what is not a reference", function()
    local e = catch(hl.unalias, "x")
    assert.is_truthy(tostring(e):find("heirloom.unalias: alias must be a reference", 1, true))
    catch(hl.unalias, hl.self())
  end)

  it("hl.now is an integer count of milliseconds that does not go back", function()
    local a = hl.now()
    hl.sleep(20)
    local b = hl.now()
    assert.are.equal("integer", math.type(a))
    assert.is_true(b >= a + 20)
  end)

  it("after demonitor returns no DOWN for it arrives, even when the target dies at once", function()
    for i = 1, 200 do
      local pid = hl.spawn(function() end)
      local ref = hl.monitor(pid)
      hl.demonitor(ref)
      hl.receive(down_of(ref), 0)                    -- a DOWN queued before demonitor
      none(down_of(ref), i % 50 == 0 and 20 or 0, "DOWN after demonitor")
    end
  end)
end)

-- ---------------------------------------------------------------- the core, both modes

local function core(schedulers)
  describe("with schedulers = " .. schedulers, function()
    before_each(function() start(schedulers) end)
    after_each(function() pcall(hl.stop) end)

    it("start_link returns the pid after init has run; call, cast and info reach the callbacks", function()
      local pid = basic({ n = 10 }, { name = "basic" })
      assert.are.equal(pid, hl.whereis("basic"))
      assert.is_true(hl.process_info(pid).links[1] == hl.self())
      assert.are.equal(15, hl.server.call("basic", { "add", 5 }))
      assert.are.same({ "added", 5, 15 }, expect(tagged("added")))
      assert.are.equal(15, hl.server.call(pid, { "get" }))
      assert.is_true(hl.server.cast("basic", { "add", 1 }))
      assert.are.same({ "cast_added", 16 }, expect(tagged("cast_added")))
      hl.send(pid, { "plain", 1 })
      assert.are.same({ "info", { "plain", 1 } }, expect(tagged("info")))
      assert.are.equal(16, hl.server.call(pid, { "get" }))
    end)

    it("stop with a reply: terminate runs first, then the caller gets the reply", function()
      local pid = basic({ n = 3 })
      local ref = hl.monitor(pid)
      assert.are.equal("bye", hl.server.call(pid, { "stop_reply", "normal", "bye" }))
      assert.are.same({ "terminate", "normal", 3 }, hl.receive(tagged("terminate"), 0))
      assert.are.equal("normal", expect(down_of(ref))[4])
      assert.are.equal("normal", expect(exit_from(pid))[3])
    end)

    it("a failing init: start_link returns nil and the reason, the process is gone", function()
      local pid, why = hl.server.start_link("srv_basic", { mode = "error", observer = hl.self() },
        { name = "bad_init" })
      assert.is_nil(pid)
      assert.are.equal("init failed on purpose", why.error)
      assert.is_string(why.traceback)
      local child = expect(tagged("init"))[2]
      assert.is_true(gone(child))
      assert.is_nil(hl.whereis("bad_init"))
      none(exit_from(child), 50, "no EXIT: the starter had its answer")
    end)

    it("a call that times out raises, and the late reply never reaches the mailbox", function()
      local pid = basic()
      local e = catch(hl.server.call, pid, { "block", "late" }, 30)
      assert.are.equal("timeout", e.kind)
      hl.send(pid, "go")                              -- now it replies, too late
      assert.are.equal(1, hl.server.call(pid, { "get" }))   -- after the late reply; ran once
      assert.are.same({}, call_leftovers())
    end)

    it("reply later: handle_call keeps from, another call releases it", function()
      local pid = basic()
      hl.spawn("srv_tools", "caller", hl.self(), "later", pid, { "later" }, 5000)
      expect(tagged("pending"))
      assert.are.equal("released", hl.server.call(pid, { "release", 42 }))
      local r = result("later")
      assert.is_true(r[3])
      assert.are.equal(42, r[4])
    end)

    it("a server that dies during the call: the caller gets an exit error, terminate ran", function()
      local pid = basic()
      local e = catch(hl.server.call, pid, { "crash", "boom" })
      assert.are.equal("exit", e.kind)
      assert.are.equal("boom", e.reason.error)
      local t = expect(tagged("terminate"))
      assert.are.equal("boom", t[2].error)
      assert.are.equal("boom", expect(exit_from(pid))[3].error)
      assert.are.same({}, call_leftovers())
    end)

    it("a long exit reason reaches the caller's message whole, not cut", function()
      local pid = basic()
      local long = "the reason is long: " .. string.rep("x", 200) .. " and ends here"
      local e = catch(hl.server.call, pid, { "crash", long })
      assert.are.equal(long, e.reason.error)
      assert.is_truthy(tostring(e.message):find(long .. '"', 1, true), e.message)
    end)

    it("call_retry waits for a restarted server and does the request once", function()
      hl.spawn("srv_tools", "restarter", hl.self(), "srv_basic", "core_r", { observer = hl.self() }, 20)
      local first = expect(tagged("started"))[2]
      hl.server.call("core_r", { "add", 5 })
      hl.exit(first, "kill")
      assert.are.equal(1, hl.server.call_retry("core_r", { "add", 1 }, { retry_for = 3000 }))
      local second = expect(tagged("started"))[2]
      assert.are_not.equal(first, second)
      local msgs = S.drain()
      local adds = 0
      for _, m in ipairs(msgs) do
        if m[1] == "added" and m[2] == 1 then adds = adds + 1 end
      end
      assert.are.equal(1, adds)
    end)

    it("timeouts: after init, after a reply, and cancelled by a message", function()
      local pid = basic({ timeout = 20 })
      assert.are.same({ "timeout", 0 }, expect(tagged("timeout")))
      none(tagged("timeout"), 60, "a timeout fires once")
      assert.are.equal("armed", hl.server.call(pid, { "timeout", 10 }))
      expect(tagged("timeout"))
      hl.server.cast(pid, { "timeout", 500 })
      hl.send(pid, "poke")
      assert.are.same({ "info", "poke" }, expect(tagged("info")))
      none(tagged("timeout"), 600, "cancelled by the message")
    end)
  end)
end

describe("server", function()
  core(2)
  core(0)

  -- -------------------------------------------------------------- starting
  describe("start", function()
    before_each(function() start(2) end)
    after_each(function() pcall(hl.stop) end)

    it("returns only once init has returned", function()
      local pid = hl.server.start_link("srv_basic", { mode = "sleep", ms = 60, observer = hl.self() })
      assert.is_truthy(pid)
      assert.is_not_nil(hl.receive(tagged("init_done"), 0))
    end)

    it("init returning stop, ignore or something else", function()
      local pid, why = hl.server.start_link("srv_basic", { mode = "stop", reason = { "nope", 1 } })
      assert.is_nil(pid)
      assert.are.same({ "nope", 1 }, why)
      pid, why = hl.server.start("srv_basic", { mode = "ignore" })
      assert.is_nil(pid)
      assert.are.equal("ignore", why)
      pid, why = hl.server.start_link("srv_basic", { mode = "bad" })
      assert.is_nil(pid)
      assert.is_truthy(why.error:find('srv_basic.init returned ("fine, thanks")', 1, true))
      none(tagged("EXIT"), 50)
    end)

    it("init that exits: nil and the exit reason, and no EXIT left behind", function()
      local pid, why = hl.server.start_link("srv_basic", { mode = "exit", reason = "gone" })
      assert.is_nil(pid)
      assert.are.equal("gone", why)
      none(tagged("EXIT"), 50)
    end)

    it("a non-trapping starter whose child fails init is not taken down", function()
      local starter = hl.spawn("srv_tools", "starter", hl.self(), "srv_basic", { mode = "error" })
      local m = expect(tagged("started"))
      assert.is_nil(m[2])
      assert.are.equal("init failed on purpose", m[3].error)
      hl.sleep(30)
      assert.is_not_nil(hl.process_info(starter))
    end)

    it("init that takes longer than opts.timeout: killed, nil and \"timeout\"", function()
      local pid, why = hl.server.start_link("srv_basic",
        { mode = "sleep", ms = 2000, observer = hl.self() }, { timeout = 50 })
      assert.is_nil(pid)
      assert.are.equal("timeout", why)
      local child = expect(tagged("init"))[2]
      assert.is_true(gone(child))
      none(tagged("EXIT"), 30)
    end)

    it("a name already taken: nil and {\"already_started\", holder}", function()
      local pid = basic({}, { name = "taken" })
      local again, why = hl.server.start("srv_basic", {}, { name = "taken" })
      assert.is_nil(again)
      assert.are.same({ "already_started", pid }, why)
    end)

    it("a module that cannot be loaded, or has no init", function()
      local pid, why = hl.server.start_link("no_such_module_here", {})
      assert.is_nil(pid)
      assert.is_truthy(why.error:find("cannot load module 'no_such_module_here'", 1, true))
      pid, why = hl.server.start_link("hlspec", {})
      assert.is_nil(pid)
      assert.is_truthy(why.error:find("module 'hlspec' has no init", 1, true))
    end)

    it("bad arguments are the caller's error", function()
      local e = catch(hl.server.start_link, 42)
      assert.is_truthy(tostring(e):find("heirloom.server.start_link: module must be a module name", 1, true))
      e = catch(hl.server.start, "srv_basic", {}, { nmae = "x" })
      assert.is_truthy(tostring(e):find('heirloom.server.start: unknown option "nmae"', 1, true))
      e = catch(hl.server.start, "srv_basic", {}, { name = "" })
      assert.is_truthy(tostring(e):find("opts.name must be a non-empty string", 1, true))
      e = catch(hl.server.start, "srv_basic", { f = print })
      assert.is_truthy(tostring(e):find("heirloom.server.start:", 1, true))
    end)

    it("optional callbacks may be left out", function()
      local pid = assert(hl.server.start("srv_minimal", 7))
      hl.send(pid, "ignored")                         -- no handle_info: dropped
      assert.are.equal(7, hl.server.call(pid, "get"))
      local ref = hl.monitor(pid)
      hl.server.cast(pid, "x")                        -- no handle_cast: a crash
      local why = expect(down_of(ref))[4]
      assert.is_truthy(why.error:find("module 'srv_minimal' has no handle_cast", 1, true))
    end)
  end)

  -- -------------------------------------------------------------- calls
  describe("call", function()
    before_each(function() start(2) end)
    after_each(function() pcall(hl.stop) end)

    it("to an unregistered name or a dead pid: noproc, naming the call and the dest", function()
      local e = catch(hl.server.call, "nobody", { "get" })
      assert.are.equal("noproc", e.kind)
      assert.are.equal("nobody", e.dest)
      assert.is_true(hl.server.is_error(e, "noproc"))
      assert.are.equal('heirloom.server.call: noproc: no process is registered as "nobody"; ' ..
        'request {"get"} not sent', tostring(e))
      local pid, ref = hl.spawn_opt({ monitor = true }, function() end)
      expect(down_of(ref))
      e = catch(hl.server.call, pid, { "get" }, 100)
      assert.are.equal("noproc", e.kind)
      assert.is_truthy(tostring(e):find(tostring(pid), 1, true))
      assert.are.same({}, call_leftovers())
    end)

    it("the timeout error names dest, request and timeout", function()
      local pid = basic({}, { name = "slow" })
      local e = catch(hl.server.call, "slow", { "block", 1 }, 10)
      assert.are.equal('heirloom.server.call: timeout: no reply from "slow" to request ' ..
        '{"block", 1} within 10 ms', tostring(e))
      assert.are.equal("timeout", e.reason)
      assert.are.same({ "block", 1 }, e.request)
      hl.send(pid, "go")
    end)

    it("a late reply stays out of a calling process's mailbox too", function()
      local pid = basic()
      local caller = hl.spawn("srv_tools", "late_reply_caller", hl.self(), 1, pid, { "block", "late" }, 20)
      assert.are.same({ "timed_out", 1, false, "timeout" }, expect(tagged("timed_out")))
      hl.send(pid, "go")
      hl.send(caller, "drain")
      assert.are.same({ "mailbox", 1, {} }, expect(tagged("mailbox")))
    end)

    it("a late reply stays out of a calling server's mailbox", function()
      local a = basic()
      local b = basic()
      local r = hl.server.call(a, { "call", b, { "block", "late" }, 20 })
      assert.is_false(r[1])
      assert.are.equal("timeout", r[2])
      hl.send(b, "go")
      assert.are.equal(1, hl.server.call(b, { "get" }))   -- b has sent its late reply
      assert.are.same({}, hl.server.call(a, { "drain" }))
    end)

    it("replies racing timeouts from four callers: none misdelivered, none left over", function()
      local pid = basic()
      for tag = 1, 4 do
        hl.spawn("srv_tools", "race_caller", hl.self(), tag, pid, 40, 3, 4)
      end
      local timeouts = 0
      for _ = 1, 4 do
        local m = expect(tagged("race"), 20000)
        assert.are.equal(40, m[3] + m[4])
        assert.are.equal(0, m[5])
        assert.are.same({}, m[6])
        timeouts = timeouts + m[4]
      end
      assert.is_true(timeouts > 0)
    end)

    it("a server exiting during the call with reason \"noproc\" is an exit, not a noproc", function()
      local pid = basic()
      local e = catch(hl.server.call, pid, { "exit_after", "noproc" })
      assert.are.equal("exit", e.kind)
      assert.are.equal("noproc", e.reason)
    end)

    it("a server that exits normally without replying: an exit error with reason normal", function()
      local pid = basic()
      local e = catch(hl.server.call, pid, { "stop_noreply", "normal" })
      assert.are.equal("exit", e.kind)
      assert.are.equal("normal", e.reason)
      assert.are.same({ "terminate", "normal", 0 }, expect(tagged("terminate")))
    end)

    it("a call error crosses to another process as a table is_error still knows", function()
      hl.spawn("srv_tools", "caller", hl.self(), "x", "nobody_here", { "get" }, 100)
      local r = result("x")
      assert.is_false(r[3])
      assert.is_true(hl.server.is_error(r[4], "noproc"))
      assert.is_false(hl.server.is_error(r[4], "timeout"))
      assert.is_false(hl.server.is_error("noproc"))
    end)

    it("a server calling itself gets calling_self", function()
      local pid = basic()
      local r = hl.server.call(pid, { "call", pid, { "get" } })
      assert.are.same("calling_self", r[2])
    end)

    it("the reply of a reply later can come from another process", function()
      local pid = basic()
      assert.are.equal("from elsewhere", hl.server.call(pid, { "delegate", "from elsewhere", 10 }))
      local from = hl.server.call(pid, { "from" })
      assert.are.equal(hl.self(), from[1])
    end)

    it("timeout \"infinity\" and 0", function()
      local pid = basic()
      assert.are.equal(2, hl.server.call(pid, { "sleep", 10, 2 }, "infinity"))
      local e = catch(hl.server.call, pid, { "block", 3 }, 0)
      assert.are.equal("timeout", e.kind)
      hl.send(pid, "go")
      assert.are.equal(2, hl.server.call(pid, { "get" }))
      assert.are.same({}, call_leftovers())
    end)

    it("bad arguments", function()
      local e = catch(hl.server.call, 42, "x")
      assert.are.equal("heirloom.server.call: dest must be a pid or a registered name (got number)",
        (tostring(e):gsub("^.-:%d+: ", "")))
      e = catch(hl.server.call, "x", "y", -1)
      assert.is_truthy(tostring(e):find("heirloom.server.call: timeout must be a non-negative integer", 1, true))
      e = catch(hl.server.reply, { 1, 2 }, "v")
      assert.is_truthy(tostring(e):find("heirloom.server.reply: from must be the 'from'", 1, true))
      e = catch(hl.server.cast, {}, "v")
      assert.is_truthy(tostring(e):find("heirloom.server.cast: dest must be", 1, true))
    end)

    it("cast to nobody is fine, as in OTP", function()
      assert.is_true(hl.server.cast("nobody", "x"))
    end)
  end)

  -- -------------------------------------------------------------- callbacks and terminate
  describe("callbacks and terminate", function()
    before_each(function() start(2) end)
    after_each(function() pcall(hl.stop) end)

    it("a crash in handle_cast: terminate gets the reason, links get the same", function()
      local pid = basic()
      hl.server.cast(pid, { "crash", "cast boom" })
      assert.are.equal("cast boom", expect(tagged("terminate"))[2].error)
      assert.are.equal("cast boom", expect(exit_from(pid))[3].error)
    end)

    it("a crash in handle_info: terminate and the error as exit reason", function()
      local pid = basic()
      local ref = hl.monitor(pid)
      hl.send(pid, { "stop", { "custom", 1 } })
      assert.are.same({ "terminate", { "custom", 1 }, 0 }, expect(tagged("terminate")))
      assert.are.same({ "custom", 1 }, expect(down_of(ref))[4])
    end)

    it("a bad return value is a crash that names the callback; terminate runs", function()
      local pid = basic()
      local e = catch(hl.server.call, pid, { "bad" })
      assert.are.equal("exit", e.kind)
      assert.is_truthy(e.reason.error:find('srv_basic.handle_call returned ("nonsense", ', 1, true))
      assert.is_truthy(expect(tagged("terminate"))[2].error:find("handle_call returned", 1, true))
      pid = basic()
      e = catch(hl.server.call, pid, { "bad_timeout" })
      assert.is_truthy(e.reason.error:find("returned", 1, true))
      pid = basic()
      local ref = hl.monitor(pid)
      hl.server.cast(pid, { "bad" })
      assert.is_truthy(expect(down_of(ref))[4].error:find("srv_basic.handle_cast returned", 1, true))
    end)

    it("a terminate that fails replaces the exit reason", function()
      local pid = basic()
      hl.server.call(pid, { "fail_terminate" })
      local ref = hl.monitor(pid)
      hl.server.cast(pid, { "stop", "normal" })
      expect(tagged("terminate"))
      assert.are.equal("terminate failed", expect(down_of(ref))[4].error)
    end)

    it("hl.server.stop: terminate with the reason, returns once the server is gone", function()
      local pid = basic({}, { name = "stoppable" })
      assert.is_true(hl.server.stop("stoppable", "shutdown"))
      assert.are.same({ "terminate", "shutdown", 0 }, hl.receive(tagged("terminate"), 0))
      assert.is_nil(hl.whereis("stoppable"))
      assert.is_true(gone(pid))
      local e = catch(hl.server.stop, "stoppable")
      assert.are.equal("noproc", e.kind)
    end)

    it("a supervisor's shutdown when trapping exits: terminate(\"shutdown\")", function()
      local parent = hl.spawn("srv_tools", "parent", hl.self(), "srv_basic", { observer = hl.self(), trap = true }, true)
      local pid = expect(tagged("child"))[2]
      local ref = hl.monitor(pid)
      hl.send(parent, { "shutdown", "shutdown" })
      assert.are.same({ "terminate", "shutdown", 0 }, expect(tagged("terminate")))
      assert.are.equal("shutdown", expect(down_of(ref))[4])
    end)

    it("the same shutdown without trapping exits: killed at once, no terminate", function()
      local parent = hl.spawn("srv_tools", "parent", hl.self(), "srv_basic", { observer = hl.self() }, true)
      local pid = expect(tagged("child"))[2]
      local ref = hl.monitor(pid)
      hl.send(parent, { "shutdown", "shutdown" })
      assert.are.equal("shutdown", expect(down_of(ref))[4])
      none(tagged("terminate"), 50)
    end)

    it("the parent dying takes a trapping server down through terminate", function()
      local parent = hl.spawn("srv_tools", "parent", hl.self(), "srv_basic",
        { observer = hl.self(), trap = true }, true)
      local pid = expect(tagged("child"))[2]
      local ref = hl.monitor(pid)
      hl.send(parent, { "die", "parent gone" })
      assert.are.same({ "terminate", "parent gone", 0 }, expect(tagged("terminate")))
      assert.are.equal("parent gone", expect(down_of(ref))[4])
    end)

    it("an EXIT from a process other than the parent goes to handle_info", function()
      local pid = basic({ trap = true })
      local other = hl.spawn(function(srv)
        local h = require("heirloom")
        h.link(srv)
        h.exit("bye")
      end, pid)
      assert.are.same({ "info", { "EXIT", other, "bye" } }, expect(tagged("info")))
      assert.are.equal(0, hl.server.call(pid, { "get" }))
    end)

    it("kill: no terminate, reason killed", function()
      local pid = basic({ trap = true })
      local ref = hl.monitor(pid)
      hl.exit(pid, "kill")
      assert.are.equal("killed", expect(down_of(ref))[4])
      none(tagged("terminate"), 50)
    end)

    it("a message shaped like a call but malformed goes to handle_info", function()
      local pid = basic()
      hl.send(pid, { "$call", "junk", 1 })
      assert.are.same({ "info", { "$call", "junk", 1 } }, expect(tagged("info")))
      assert.are.equal(0, hl.server.call(pid, { "get" }))
    end)

    it("a forged call whose reply address is not an alias cannot crash the server", function()
      local pid = basic()
      local t = hl.table.new("not_an_alias", {})
      local ref = hl.monitor(pid)
      hl.send(pid, { "$call", { hl.self(), t }, { "get" } })
      hl.send(pid, { "$call", { hl.self(), hl.self() }, { "get" } })
      assert.are.equal(0, hl.server.call(pid, { "get" }))   -- answered after both
      none(down_of(ref), 50)
      t:drop()
    end)

    it("a reply that cannot be sent ends the server with that error", function()
      local pid = basic()
      local ok, e = pcall(hl.server.call, pid, { "unsendable" }, 2000)
      assert.is_false(ok)
      assert.is_true(hl.server.is_error(e, "exit"))
      assert.is_truthy(tostring(e):find("cannot encode a function", 1, true), tostring(e))
    end)

    it("a timeout of 0 fires at once", function()
      local pid = basic()
      hl.server.cast(pid, { "timeout", 0 })
      expect(tagged("timeout"))
    end)
  end)

  -- -------------------------------------------------------------- call_retry
  describe("call_retry", function()
    before_each(function() start(2) end)
    after_each(function() pcall(hl.stop) end)

    it("with the server there, it is a call", function()
      basic({ n = 4 }, { name = "here" })
      assert.are.equal(4, hl.server.call_retry("here", { "get" }))
    end)

    it("waits for a name registered later, within retry_for", function()
      hl.spawn("srv_tools", "delayed_start", hl.self(), "srv_basic", "later", { n = 9 }, 80)
      assert.are.equal(9, hl.server.call_retry("later", { "get" }, { retry_for = 3000, timeout = 1000 }))
      assert.is_truthy(expect(tagged("started"))[2])
    end)

    it("gives up with noproc once retry_for has passed, and not before", function()
      local t0 = hl.now()
      local e = catch(hl.server.call_retry, "never", { "get" }, { retry_for = 100 })
      local elapsed = hl.now() - t0
      assert.are.equal("noproc", e.kind)
      assert.is_truthy(tostring(e):find('heirloom.server.call_retry: noproc: no live process ' ..
        'registered as "never" within 100 ms', 1, true))
      assert.is_true(elapsed >= 100)
      assert.is_true(elapsed < 100 + 2000)
    end)

    it("a restart slower than retry_for: noproc, and the request was never run", function()
      hl.spawn("srv_tools", "restarter", hl.self(), "srv_basic", "slowr", { observer = hl.self() }, 400)
      local first = expect(tagged("started"))[2]
      hl.exit(first, "kill")
      local e = catch(hl.server.call_retry, "slowr", { "add", 1 }, { retry_for = 50 })
      assert.are.equal("noproc", e.kind)
      expect(tagged("started"), 3000)
      assert.are.equal(0, hl.server.call("slowr", { "get" }))
      none(tagged("added"), 0)
    end)

    it("not retried after the server crashed while handling the request", function()
      hl.spawn("srv_tools", "restarter", hl.self(), "srv_basic", "crashy", { observer = hl.self() }, 0)
      expect(tagged("started"))
      local e = catch(hl.server.call_retry, "crashy", { "crash", "mid-call" }, { retry_for = 2000 })
      assert.are.equal("exit", e.kind)
      assert.are.equal("mid-call", e.reason.error)
      expect(tagged("started"))                        -- restarted meanwhile
      hl.server.call("crashy", { "get" })
      assert.are.equal(1, count(S.drain(), "crashing"))
    end)

    it("not retried after a timeout: the request ran once", function()
      local pid = basic({}, { name = "slowpoke" })
      local e = catch(hl.server.call_retry, "slowpoke", { "block", "x" }, { timeout = 20, retry_for = 2000 })
      assert.are.equal("timeout", e.kind)
      hl.send(pid, "go")
      assert.are.equal(1, hl.server.call(pid, { "get" }))
    end)

    it("not retried when the server exits with reason noproc after taking the request", function()
      hl.spawn("srv_tools", "restarter", hl.self(), "srv_basic", "np", { observer = hl.self() }, 0)
      expect(tagged("started"))
      local e = catch(hl.server.call_retry, "np", { "exit_after", "noproc" }, { retry_for = 2000 })
      assert.are.equal("exit", e.kind)
      expect(tagged("started"))
      hl.server.call("np", { "get" })
      assert.are.equal(1, count(S.drain(), "exiting"))
    end)

    it("calls made while the server is down all succeed, once each, after the restarts", function()
      hl.spawn("srv_tools", "restarter", hl.self(), "srv_basic", "churn", { observer = hl.self() }, 5)
      local pid = expect(tagged("started"))[2]
      for i = 1, 5 do
        hl.exit(pid, "kill")                          -- the name is free when exit returns
        hl.spawn("srv_tools", "retrier", hl.self(), i, "churn", { "add", i }, { retry_for = 3000 })
        local r = result(i)
        assert.is_true(r[3], S.show(r[4]))
        assert.are.equal(i, r[4])                     -- a fresh server did it
        pid = expect(tagged("started"))[2]
        assert.are.equal(pid, hl.whereis("churn"))
      end
      local added = {}
      for _, m in ipairs(S.drain()) do
        if m[1] == "added" then added[#added + 1] = m[2] end
      end
      table.sort(added)
      assert.are.same({ 1, 2, 3, 4, 5 }, added)
    end)

    it("bad options", function()
      local e = catch(hl.server.call_retry, "x", "y", { retry = 5 })
      assert.is_truthy(tostring(e):find('heirloom.server.call_retry: unknown option "retry"', 1, true))
      e = catch(hl.server.call_retry, "x", "y", { retry_for = -1 })
      assert.is_truthy(tostring(e):find("opts.retry_for must be a non-negative integer", 1, true))
    end)
  end)
end)
