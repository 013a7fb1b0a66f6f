-- trust_spec.lua — the node knows who really sent each message, and the
-- behaviours act on that rather than on what a message says about its
-- sender: hl.receive_with_sender and hl.send_alias, forged calls to a
-- server, forged requests to the table manager, forged EXIT and DOWN
-- messages, calls to oneself, and the crash reports that belong to the
-- host (hl.logs).
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local hl = S.hl
local expect, tagged, none = S.expect, S.tagged, S.none

local catch = S.catch

local basic = S.basic

-- A process that runs body(host, ...) given as a function with no upvalues.
local function run(body, ...)
  return hl.spawn(body, hl.self(), ...)
end

local function is_reply(m) return type(m) == "table" and m[1] == "$reply" end

-- ---------------------------------------------------------------- the sender

describe("the true sender of a message", function()
  before_each(function() S.start(2) end)
  after_each(function() hl.logs(); pcall(hl.stop) end)

  it("receive_with_sender gives the pid of the process that sent it", function()
    local p = run(function(host)
      local h = require("heirloom")
      h.send(host, { "hello", h.self() })
    end)
    local m, from = hl.receive_with_sender(2000)
    assert.are.same({ "hello", p }, m)
    assert.are.equal(p, from)
  end)

  it("the host's messages come from the host's pid", function()
    local p = run(function(host)
      local h = require("heirloom")
      local m, from = h.receive_with_sender()
      h.send(host, { "got", m, from })
    end)
    hl.send(p, "ping")
    assert.are.same({ "got", "ping", hl.self() }, expect(tagged("got")))
  end)

  it("a message through an alias comes from its true sender", function()
    local a = hl.alias()
    local p = run(function(host, alias)
      local h = require("heirloom")
      h.send(alias, { "via", h.self() })
    end, a)
    local m, from = hl.receive_with_sender(2000)
    assert.are.same({ "via", p }, m)
    assert.are.equal(p, from)
    hl.unalias(a)
  end)

  it("messages the node makes itself have no sender: EXIT, DOWN, ETS-TRANSFER, heirloom.name", function()
    hl.trap_exit(true)
    local p = hl.spawn_link(function() require("heirloom").receive() end)
    local ref = hl.monitor(p)
    hl.exit(p, "kill")
    local m, from = hl.receive_with_sender(function(x) return x[1] == "DOWN" end, 2000)
    assert.are.equal(ref, m[2])
    assert.is_nil(from)
    m, from = hl.receive_with_sender(function(x) return x[1] == "EXIT" end, 2000)
    assert.are.equal(p, m[2])
    assert.is_nil(from)
    local giver = run(function(host)
      local h = require("heirloom")
      local t = h.table.new("given", {})
      h.table.give_away(t, host, "gift")
    end)
    m, from = hl.receive_with_sender(function(x) return x[1] == "ETS-TRANSFER" end, 2000)
    assert.are.equal(giver, m[3])
    assert.is_nil(from)
    m[2]:drop()
    local waiter = run(function(host)
      local h = require("heirloom")
      h.send(host, { "waited", h.await_name("later", 2000) })
    end)
    hl.sleep(20)
    hl.register("later", hl.self())
    assert.are.same({ "waited", hl.self() }, expect(tagged("waited")))
    assert.is_truthy(waiter)
    hl.trap_exit(false)
  end)

  it("a timer's message comes from the process that armed it", function()
    local p = run(function(host)
      local h = require("heirloom")
      h.send_after(10, host, "tick")
      h.receive()
    end)
    local m, from = hl.receive_with_sender(2000)
    assert.are.equal("tick", m)
    assert.are.equal(p, from)
    hl.send_after(5, hl.self(), "own tick")
    m, from = hl.receive_with_sender(2000)
    assert.are.equal("own tick", m)
    assert.are.equal(hl.self(), from)
    hl.exit(p, "kill")
  end)

  it("receive_with_sender's filter sees the sender; a timeout is nil", function()
    local p = run(function(host)
      local h = require("heirloom")
      h.send(host, "from p")
    end)
    expect(function(m) return m == "from p" end)   -- p has sent; now one from us
    hl.send(hl.self(), "from host")
    hl.send(hl.self(), "also from host")
    local seen = {}
    local m, from = hl.receive_with_sender(function(x, sender)
      seen[#seen + 1] = sender
      return sender == hl.self() and x == "also from host"
    end, 2000)
    assert.are.equal("also from host", m)
    assert.are.equal(hl.self(), from)
    assert.are.same({ hl.self(), hl.self() }, seen)
    local left, left_from = hl.receive_with_sender(0)
    assert.are.equal("from host", left)
    assert.are.equal(hl.self(), left_from)
    assert.are.equal(1, select("#", hl.receive_with_sender(10)))
    assert.is_truthy(p)
  end)

  it("plain receive still returns the message alone", function()
    hl.send(hl.self(), "one")
    assert.are.equal(1, select("#", hl.receive(1000)))
    hl.send(hl.self(), "two")
    local got = {}
    table.insert(got, hl.receive(1000))
    assert.are.same({ "two" }, got)
  end)

  it("bad arguments to receive_with_sender name the function", function()
    assert.has_error(function() hl.receive_with_sender(-1) end,
      "heirloom.receive_with_sender: timeout must be a non-negative integer of milliseconds")
  end)
end)

describe("hl.send_alias", function()
  before_each(function() S.start(2) end)
  after_each(function() hl.logs(); pcall(hl.stop) end)

  it("delivers only while the alias is an active alias of the given owner", function()
    local a = hl.alias()
    local other = run(function() require("heirloom").receive() end)
    assert.is_true(hl.send_alias(a, hl.self(), "mine"))
    assert.are.equal("mine", hl.receive(1000))
    assert.is_false(hl.send_alias(a, other, "not its owner"))
    none(nil, 30)
    hl.unalias(a)
    assert.is_false(hl.send_alias(a, hl.self(), "inactive"))
    none(nil, 30)
    hl.exit(other, "kill")
  end)

  it("refuses what is not an alias or not a pid", function()
    assert.has_error(function() hl.send_alias(hl.self(), hl.self(), 1) end,
      "heirloom.send_alias: alias must be a reference from hl.alias")
    assert.has_error(function() hl.send_alias(hl.alias(), "x", 1) end,
      "heirloom.send_alias: owner must be a pid (got string)")
  end)
end)

-- ---------------------------------------------------------------- the server

describe("forged calls to a server", function()
  before_each(function() S.start(2) end)
  after_each(function() hl.logs(); pcall(hl.stop) end)

  it("a call that names another process as its caller gets no reply and runs nothing", function()
    local srv = basic()
    -- a third process claims to be the host, and names the host as the reply address
    local p = run(function(host, s)
      local h = require("heirloom")
      h.send(s, { "$call", { host, host }, { "add", 5 } })
      h.send(s, { "$call", { host, h.alias() }, { "add", 7 } })
      h.send(host, "sent")
    end, srv)
    expect(function(m) return m == "sent" end)
    assert.are.equal(0, hl.server.call(srv, { "get" }))     -- after both: none ran
    none(is_reply, 50, "a reply to a forged call")
    none(tagged("added"), 0, "a forged call ran")
    assert.is_truthy(p)
  end)

  it("a call's reply goes only to an alias of its true sender", function()
    local srv = basic({ n = 5 })
    local mine = hl.alias()
    -- the forger names itself (true) but the host's alias as the reply address
    run(function(host, s, alias)
      local h = require("heirloom")
      h.send(s, { "$call", { h.self(), alias }, { "get" } })
      h.send(s, { "$call", { h.self(), h.self() }, { "get" } })
      h.send(host, "sent")
    end, srv, mine)
    expect(function(m) return m == "sent" end)
    assert.are.equal(5, hl.server.call(srv, { "get" }))
    none(is_reply, 50, "a reply through someone else's alias")
    hl.unalias(mine)
  end)

  it("the host forging its own reply address to a pid gets nothing either", function()
    local srv = basic({ n = 5 })
    hl.send(srv, { "$call", { hl.self(), hl.self() }, { "get" } })
    assert.are.equal(5, hl.server.call(srv, { "get" }))
    none(is_reply, 50, "a reply sent to a pid")
  end)

  it("ordinary calls, casts and replies still work; from is the true caller", function()
    local srv = basic({ n = 1 })
    assert.are.equal(3, hl.server.call(srv, { "add", 2 }))
    local from = hl.server.call(srv, { "from" })
    assert.are.equal(hl.self(), from[1])
    hl.server.cast(srv, { "add", 10 })
    expect(tagged("added"))
    assert.are.equal(13, hl.server.call(srv, { "get" }))
    -- a call from a process, and a reply made later by another call
    local p = run(function(host, s)
      local h = require("heirloom")
      h.send(host, { "from_p", h.server.call(s, { "from" })[1] == h.self(),
                     h.server.call(s, { "add", 1 }) })
    end, srv)
    assert.are.same({ "from_p", true, 14 }, expect(tagged("from_p")))
    local waiter = run(function(host, s)
      local h = require("heirloom")
      h.send(host, { "later", h.server.call(s, { "later" }) })
    end, srv)
    expect(tagged("pending"))
    assert.are.equal("released", hl.server.call(srv, { "release", 99 }))
    assert.are.same({ "later", 99 }, expect(tagged("later")))
    assert.is_truthy(p and waiter)
  end)

  it("a forged EXIT from the parent does not stop a trapping server", function()
    hl.trap_exit(true)
    local srv = basic({ trap = true, n = 2 })
    run(function(host, s)
      local h = require("heirloom")
      h.send(s, { "EXIT", host, "shutdown" })
      h.send(host, "sent")
    end, srv)
    expect(function(m) return m == "sent" end)
    assert.are.equal(2, hl.server.call(srv, { "get" }))
    none(tagged("terminate"), 50)
    hl.trap_exit(false)
  end)

  it("await_name does not take a forged name notice", function()
    local waiter = run(function(host)
      local h = require("heirloom")
      h.send(host, { "ready", h.self() })
      h.send(host, { "waited", h.await_name("svc", 3000) })
    end)
    S.ready(waiter)
    local forger = run(function(host, w)
      local h = require("heirloom")
      h.send(w, { "heirloom.name", "svc", h.self() })
      h.send(host, "sent")
    end, waiter)
    expect(function(m) return m == "sent" end)
    hl.sleep(20)
    hl.register("svc", hl.self())
    assert.are.same({ "waited", hl.self() }, expect(tagged("waited"), 3000))
    assert.is_truthy(forger)
  end)
end)

describe("forged messages to a supervisor", function()
  before_each(function()
    S.start(2)
    hl.trap_exit(true)
  end)
  after_each(function() hl.logs(); pcall(hl.stop) end)

  local function sup_with_worker()
    local sup = assert(hl.supervisor.start_link{ strategy = "one_for_one", children = {
      { id = "w", start = { "sup_worker", "start_link", hl.self(), "w" } } } })
    local m = expect(tagged("started"))
    return sup, m[3]
  end

  it("a forged EXIT of a child does not make it restart a live child", function()
    local sup, w = sup_with_worker()
    run(function(host, s, child)
      local h = require("heirloom")
      h.send(s, { "EXIT", child, "forged crash" })
      h.send(host, "sent")
    end, sup, w)
    expect(function(m) return m == "sent" end)
    local kids = hl.supervisor.which_children(sup)
    assert.are.equal(w, kids[1].pid)
    none(tagged("started"), 50, "a second instance of the child")
  end)

  it("a forged EXIT from its parent does not stop it", function()
    local sup, w = sup_with_worker()
    run(function(host, s)
      local h = require("heirloom")
      h.send(s, { "EXIT", host, "shutdown" })
      h.send(host, "sent")
    end, sup)
    expect(function(m) return m == "sent" end)
    assert.are.equal(w, hl.supervisor.which_children(sup)[1].pid)
    none(tagged("stopping"), 50)
  end)

  it("a request forged in another process's name is not answered to it", function()
    local sup = sup_with_worker()
    local mine = hl.alias()
    -- requests are hl.server's calls: the forger names the host as the
    -- caller, with an alias of its own, then with the host's very alias
    run(function(host, s, alias)
      local h = require("heirloom")
      h.send(s, { "$call", { host, h.alias() }, { "which_children" } })
      h.send(s, { "$call", { host, alias }, { "which_children" } })
      h.send(host, "sent")
    end, sup, mine)
    expect(function(m) return m == "sent" end)
    assert.are.equal(1, #hl.supervisor.which_children(sup))
    none(is_reply, 50, "a reply to a forged request")
    hl.unalias(mine)
  end)
end)

describe("calling oneself", function()
  before_each(function() S.start(2) end)
  after_each(function() hl.logs(); pcall(hl.stop) end)

  it("hl.supervisor.which_children(self) fails at once instead of waiting for ever", function()
    run(function(host)
      local h = require("heirloom")
      local ok, e = pcall(h.supervisor.which_children, h.self())
      h.send(host, { "answer", ok, tostring(e) })
    end)
    local m = expect(tagged("answer"), 2000, "which_children of itself")
    assert.is_false(m[2])
    assert.is_truthy(m[3]:find("^heirloom%.supervisor%.which_children: calling_self: a process " ..
      "cannot call itself"), m[3])
  end)

  it("every supervisor call to oneself, by pid or by name, fails the same way", function()
    run(function(host)
      local h = require("heirloom")
      h.register("me", h.self())
      local out = {}
      for _, f in ipairs({ "which_children", "count_children", "stop", "terminate_child" }) do
        for _, dest in ipairs({ h.self(), "me" }) do
          local ok, e = pcall(h.supervisor[f], dest, "x")
          out[#out + 1] = { f, ok, tostring(e) }
        end
      end
      h.send(host, { "answers", out })
    end)
    local m = expect(tagged("answers"), 2000, "supervisor calls to itself")
    assert.are.equal(8, #m[2])
    for _, a in ipairs(m[2]) do
      assert.is_false(a[2])
      assert.is_truthy(a[3]:find("^heirloom%.supervisor%." .. a[1] .. ": calling_self: a process " ..
        "cannot call itself"), a[3])
    end
  end)

  it("hl.server.call to oneself fails at once with calling_self", function()
    local e = catch(hl.server.call, hl.self(), "x")
    assert.is_true(hl.server.is_error(e, "calling_self"))
  end)
end)

-- ---------------------------------------------------------------- the table manager

describe("forged requests to the table manager", function()
  local tm = hl.tablemgr
  before_each(function()
    hl.start{ schedulers = 2, logger = "capture" }
    hl.trap_exit(true)
  end)
  after_each(function() hl.logs(); pcall(hl.stop) end)

  local function manager()
    return assert(tm.start_link())
  end

  -- A client that manages `name`, writes {k, v} into it and waits.
  local function client(name)
    local c = hl.spawn("tm_worker", "manage_and_wait", hl.self(), "tablemgr", name,
      { access = "public" })
    local m = expect(S.tagged("managed", c))
    assert.is_true(m[3], S.show(m[4]))
    return c, m[4]
  end

  it("a release forged with the owner's pid is refused; the data survives the owner's crash", function()
    local mgr = manager()
    local c, t = client("precious")
    t:insert({ "k", "kept" })
    run(function(host, m, owner)
      local h = require("heirloom")
      local alias = h.alias()
      h.send(m, { "$call", { owner, alias }, { "release", "precious" } })
      h.send(host, { "answer", h.receive(function(x) return x[1] == "$reply" end, 500) })
    end, mgr, c)
    local answer = expect(tagged("answer"), 3000)
    assert.is_nil(answer[2])
    assert.are.equal("owned", tm.info()[1].state)
    hl.exit(c, "kill")
    assert(S.dead(c))
    assert(S.wait_until(function()
      local i = tm.info()
      return i[1] ~= nil and i[1].state == "held"
    end, 2000), "the manager does not hold the table")
    local again = tm.manage("precious")
    assert.are.same({ { "k", "kept" } }, again:lookup("k"))
  end)

  it("a release by a third process, even a true one, is refused while the owner lives", function()
    local mgr = manager()
    local c, t = client("mine")
    t:insert({ "k", 1 })
    run(function(host)
      local h = require("heirloom")
      local ok, e = pcall(h.tablemgr.release, "mine")
      h.send(host, { "released", ok, tostring(e) })
    end)
    local m = expect(tagged("released"), 3000)
    assert.is_false(m[2])
    assert.is_truthy(m[3]:find("only its owner may release it", 1, true), m[3])
    assert.are.same({ { "k", 1 } }, t:lookup("k"))
    assert.are.equal(mgr, hl.whereis("tablemgr"))
    hl.exit(c, "kill")
  end)

  it("a manage forged for another process hands nothing to it", function()
    manager()
    local c, t = client("held")
    t:insert({ "k", 2 })
    hl.exit(c, "kill")
    assert(S.dead(c))
    -- the table is held; a forger asks for it in the host's name
    run(function(host, m)
      local h = require("heirloom")
      h.send(m, { "$call", { host, h.alias() }, { "manage", "held", {} } })
      h.send(host, "sent")
    end, hl.whereis("tablemgr"))
    expect(function(m) return m == "sent" end)
    none(tagged("ETS-TRANSFER"), 100, "a table handed to the host")
    assert.are.equal("held", tm.info()[1].state)
    local back = tm.manage("held")
    assert.are.same({ { "k", 2 } }, back:lookup("k"))
  end)

  it("ordinary manage, release and info still work", function()
    manager()
    local t, created = tm.manage("plain")
    assert.is_true(created)
    t:insert({ 1 })
    assert.are.equal("owned", tm.info()[1].state)
    assert.is_true(tm.release("plain"))
    assert.are.same({}, tm.info())
  end)
end)

-- ---------------------------------------------------------------- crash reports

describe("hl.logs belongs to the host", function()
  before_each(function() S.start(2) end)
  after_each(function() hl.logs(); pcall(hl.stop) end)

  it("a process cannot read or empty the host's crash reports", function()
    local crasher = hl.spawn(function() error("visible to the host only", 0) end)
    assert(S.dead(crasher))
    run(function(host)
      local h = require("heirloom")
      local ok, e = pcall(h.logs)
      h.send(host, { "logs", ok, ok and #e or tostring(e) })
    end)
    local m = expect(tagged("logs"), 2000)
    assert.is_false(m[2])
    assert.are.equal("heirloom.logs: crash reports belong to the host: a process cannot " ..
      "read them", m[3])
    local logs = hl.logs()
    local found = false
    for _, line in ipairs(logs) do
      if line:find("visible to the host only", 1, true) then found = true end
    end
    assert.is_true(found, S.show(logs))
  end)
end)
