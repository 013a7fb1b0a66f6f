-- dist_spec.lua — a heirloom node in an Erlang cluster (docs/distribution.md):
-- joining through epmd, messages both ways between registered names, the
-- term mapping both ways, a wrong cookie refused, and leaving at stop.
--
-- The Erlang side is an `erl -sname` node on localhost running
-- spec/support/dist_peer.erl. Nothing is skipped: without erl, erlc or
-- epmd (Makefile DEPS installs them with erlang-dev) these specs fail. The
-- Erlang node listens on loopback only, and so does an epmd this spec
-- starts (it stops it again); one already running is left alone.
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local hl = S.hl
local HERE = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"

-- Child programs run without a sanitizer's runtime preloaded: they are not
-- ours, and make check-asan preloads it into this Lua.
local sh = dofile(HERE .. "helpers.lua").sh

local function sleep(s) sh("sleep " .. s) end

-- names unique to this run: other runs may share epmd
math.randomseed(os.time(), math.floor(os.clock() * 1e6))
local TAG = tostring(math.random(1, 1e9))
local HL_NODE = "hl" .. TAG .. "@localhost"
local PEER = "peer" .. TAG .. "@localhost"
local COOKIE = "dist-spec-cookie"

local function epmd_lists(alive)
  local out = sh("epmd -names")
  return out:find("name " .. alive .. " ", 1, true) ~= nil
end

local function until_true(cond, seconds)
  for _ = 1, seconds * 10 do
    if cond() then return true end
    sleep(0.1)
  end
  return cond()
end

local function is_tagged(tag) return function(m) return type(m) == "table" and m[1] == tag end end

describe("Erlang distribution: options, without a cluster", function()
  after_each(function() pcall(hl.logs); pcall(hl.stop) end)

  it("refuses a bad dist option with a clear error", function()
    local function start_err(dist, schedulers)
      local ok, err = pcall(hl.start, { logger = "capture", schedulers = schedulers, dist = dist })
      assert.is_false(ok)
      return err
    end
    assert.matches("heirloom.start: opts.dist must be a table", start_err("app@localhost"), 1, true)
    assert.matches("opts.dist.cookie must be a non-empty string", start_err({ name = "a@localhost", cookie = "" }), 1, true)
    assert.matches("opts.dist.name must be a non-empty string", start_err({ cookie = "c" }), 1, true)
    assert.matches("unknown option dist.port", start_err({ name = "a", cookie = "c", port = 1 }), 1, true)
    assert.matches("dist.name must be", start_err({ name = "bad name@localhost", cookie = "c" }), 1, true)
    assert.matches("dist.name must be", start_err({ name = "@localhost", cookie = "c" }), 1, true)
    assert.matches("dist.name must be \"name@host\" with a host", start_err({ name = "a@", cookie = "c" }), 1, true)
    assert.matches("dist.cookie must be printable ASCII", start_err({ name = "a@localhost", cookie = "a b" }), 1, true)
    assert.matches("opts.dist needs scheduler threads", start_err({ name = "a@localhost", cookie = "c" }, 0), 1, true)
  end)

  it("a node started without dist cannot send to another node, and says so", function()
    S.start(1)
    local ok, err = pcall(hl.send, { "echo", "x@localhost" }, 1)
    assert.is_false(ok)
    assert.matches("heirloom.send: this node is not distributed", err, 1, true)
    ok, err = pcall(hl.send, { "echo" }, 1)
    assert.is_false(ok)
    assert.matches("heirloom.send: destination must be a pid, a registered name, or {name, \"node@host\"}", err, 1, true)
  end)
end)

describe("Erlang distribution with an erl node #child", function()
  local started_epmd, beam_dir, peer_pid = false, nil, nil

  lazy_setup(function()
    for _, tool in ipairs({ "erl", "erlc", "epmd" }) do
      local _, rc = sh("command -v " .. tool)
      assert(rc == 0, tool .. " is missing: install erlang-dev (make deps)")
    end
    local _, rc = sh("epmd -names")
    if rc ~= 0 then
      assert(select(2, sh("ERL_EPMD_ADDRESS=127.0.0.1 epmd -daemon")) == 0, "cannot start epmd")
      started_epmd = true
      assert(until_true(function() return select(2, sh("epmd -names")) == 0 end, 5), "epmd does not answer")
    end
    beam_dir = os.tmpname()
    os.remove(beam_dir)
    local out
    out, rc = sh("mkdir -p " .. beam_dir .. " && erlc -o " .. beam_dir .. " " .. HERE .. "support/dist_peer.erl")
    assert(rc == 0, "erlc failed: " .. out)
    -- the Erlang node listens on loopback only; it halts when told, or is killed at teardown
    out = sh("erl -sname " .. PEER .. " -setcookie " .. COOKIE .. " -noshell -pa " .. beam_dir ..
       " -kernel inet_dist_use_interface '{127,0,0,1}' -eval 'dist_peer:start()' >/dev/null 2>&1 & echo $!")
    peer_pid = tonumber(out:match("(%d+)"))
    assert(until_true(function() return epmd_lists("peer" .. TAG) end, 15), "the erl node did not start")
    hl.start{ schedulers = 2, logger = "capture", dist = { name = HL_NODE, cookie = COOKIE } }
    hl.register("me", hl.self())
    -- epmd lists the erl node before its -eval has registered echo: until
    -- echo answers, what is sent to it is dropped (as Erlang drops it)
    local ready = false
    for _ = 1, 50 do
      hl.send({ "echo", PEER }, { hl.self(), "ready?" })
      if hl.receive(function(m) return type(m) == "table" and m[2] == "ready?" end, 200) then
        ready = true
        break
      end
    end
    assert(ready, "the erl node's echo does not answer")
    hl.logs()
  end)

  lazy_teardown(function()
    pcall(hl.send, { "echo", PEER }, { "halt" })
    pcall(hl.stop)
    sleep(0.3)
    -- if it did not halt: by its pid, once sure that pid is still our erl
    local f = peer_pid and io.open("/proc/" .. peer_pid .. "/cmdline", "rb")
    if f then
      if f:read("a"):find(PEER, 1, true) then sh("kill " .. peer_pid) end
      f:close()
    end
    if beam_dir then sh("rm -rf " .. beam_dir) end
    if started_epmd then sh("epmd -kill >/dev/null") end
  end)

  it("joins: epmd lists the node under its name", function()
    assert.is_true(epmd_lists("hl" .. TAG))
  end)

  it("heirloom -> Erlang: a message reaches a registered Erlang process, which answers our pid", function()
    hl.send({ "echo", PEER }, { hl.self(), { "hello", 42 } })
    local m = S.expect(is_tagged("echo"), 5000, "the echo")
    assert.same({ "echo", { "hello", 42 } }, m)
  end)

  it("Erlang -> heirloom: {me, Node} ! Msg reaches the process registered as me, with no sender", function()
    hl.send({ "echo", PEER }, { "to", "me", HL_NODE, { "from erlang" } })
    local m, sender = hl.receive_with_sender(is_tagged("echo"), 5000)
    assert.same({ "echo", { "from erlang" } }, m)
    assert.is_nil(sender)
  end)

  it("Erlang -> heirloom: a message to a name nobody holds is dropped and logged", function()
    hl.logs()
    hl.send({ "echo", PEER }, { "to", "nobody_here", HL_NODE, 1 })
    assert.is_true(until_true(function()
      return table.concat(hl.logs(), "\n"):find("a message from " .. PEER .. " to nobody_here was dropped: "
        .. "no process has that name", 1, true) ~= nil
    end, 3))
  end)

  it("a name epmd already has is refused at start", function()
    local out = S.run_child([[
      local hl = require("heirloom")
      print(pcall(hl.start, { schedulers = 1, logger = "capture", dist = { name = "]] .. HL_NODE ..
        [[", cookie = "c" } }))
    ]], 20)
    assert.matches("false%s+heirloom.start: epmd refused the name \"" .. HL_NODE:gsub("%p", "%%%0") .. "\"", out)
  end)

  it("round-trips every supported type through Erlang and back", function()
    local values = {
      true, false, 0, 1, -1, 42, math.maxinteger, math.mininteger, 1.5, -0.25, 1e300,
      "", "text", "zero\0byte and \255", { 1, 2, 3 }, {}, { { 1 }, { "a", { true } } },
      { a = 1, b = { 2, 3 } }, { [1.5] = "x", [7] = "y", s = "z" }, hl.self(),
    }
    for i, v in ipairs(values) do
      hl.send({ "echo", PEER }, { hl.self(), { i, v } })
      local m = S.expect(function(x) return type(x) == "table" and x[1] == "echo" and x[2][1] == i end,
        5000, "value " .. i)
      assert.same(v, m[2][2])
    end
    -- nil travels as the atom nil: inside an array it is a hole, as in Lua
    hl.send({ "echo", PEER }, { hl.self(), { "nil", nil, 3 } })
    local m = S.expect(is_tagged("echo"), 5000, "nil")
    assert.equal("nil", m[2][1])
    assert.is_nil(m[2][2])
    assert.equal(3, m[2][3])
    -- the lossy direction: an integral float comes back an integer, as heirloom holds it
    hl.send({ "echo", PEER }, { hl.self(), 2.0 })
    m = S.expect(is_tagged("echo"), 5000, "2.0")
    assert.equal("integer", math.type(m[2]))
  end)

  it("round-trips lists: Erlang's lists and strings come and go back as lists, tuples as tuples", function()
    local show = require("heirloom.shell").show
    hl.send({ "echo", PEER }, { "lists", "me", HL_NODE })
    local v = S.expect(is_tagged("lists"), 5000, "the lists")[2]
    assert.equal(5, #v)
    assert.is_nil(hl.kind(v))
    assert.equal("[1, [2], [97, 98]]", show(v[1]))
    assert.equal("[]", show(v[2]))
    assert.equal("[]", show(v[3]))
    assert.equal("{[1], {}}", show(v[4]))
    assert.equal("list", hl.kind(v[5]))
    assert.equal("{[]}", show(v[5][1]))
    local keys = {}   -- a list key and a tuple key alike are two keys
    for k, val in pairs(v[5][2]) do keys[val] = show(k) end
    assert.same({ list = "[1]", tuple = "{1}" }, keys)
    hl.send({ "echo", PEER }, { "lists_back", v, "me", HL_NODE })
    assert.same({ "lists_back", true }, S.expect(is_tagged("lists_back"), 5000, "Erlang's check"))
  end)

  it("round-trips hl.list values through Erlang and back, apart from arrays", function()
    local show = require("heirloom.shell").show
    local values = {
      hl.list{ 1, 2, 3 }, hl.list(), hl.list{ hl.list(), { 1, hl.list{ "x" } } },
      { hl.list{ 1 }, { 1 } }, { [hl.list{ 1 }] = "list", [{ 1 }] = "array" },
      hl.list{ hl.atom("ok"), "text", 1.5, true },
    }
    for i, v in ipairs(values) do
      hl.send({ "echo", PEER }, { hl.self(), { i, v } })
      local m = S.expect(function(x) return type(x) == "table" and x[1] == "echo" and x[2][1] == i end,
        5000, "value " .. i)
      assert.equal(show(v), show(m[2][2]))
    end
    -- and through an Erlang gen_server call
    local r = hl.server.call({ "gs", PEER }, { hl.atom("echo"), hl.list{ 1, hl.list{ 2 } } }, 2000)
    assert.equal("{ok, [1, [2]]}", show(r))
  end)

  it("maps what Erlang sends: lists and strings as lists, binaries as strings, atoms, pids, refs; refuses the rest, logged", function()
    hl.logs()
    hl.send({ "echo", PEER }, { "samples", "me", HL_NODE })
    local got = {}
    for _ = 1, 10 do
      local m = S.expect(is_tagged("sample"), 5000, "a sample")
      got[m[2]] = m[3]
    end
    assert.same({ 1, 2, 3 }, got[1])
    assert.same({ 97, 98, 99 }, got[2])
    assert.same({}, got[3])
    for i = 1, 3 do assert.equal("list", hl.kind(got[i])) end
    assert.is_nil(hl.kind(got[6]))   -- a tuple
    assert.same({ a = 1, [2] = "b" }, got[4])
    assert.equal(1.5, got[5])
    assert.same({ true, false }, got[6])   -- and nil
    assert.same({ -5, 1 << 62, "\0\255" }, got[7])
    assert.equal(hl.atom("foo"), got[9])
    assert.equal("pid", hl.kind(got[10]))
    assert.matches("^<" .. PEER:gsub("%p", "%%%0") .. "%.%d+%.%d+>$", tostring(got[10]))
    assert.equal("ref", hl.kind(got[11]))
    assert.matches("^#Ref<" .. PEER:gsub("%p", "%%%0") .. "%.%d+%.%d+%.%d+>$", tostring(got[11]))
    S.none(is_tagged("sample"), 300, "a sample Erlang sent that has no heirloom form")
    local logs = table.concat(hl.logs(), "\n")
    for _, why in ipairs({ "an integer bigger than 64 bits", "a map with two keys that are one heirloom term" }) do
      assert.matches("a message from " .. PEER .. " to me was dropped: " .. why, logs, 1, true)
    end
  end)

  it("round-trips atoms (also as map keys), Erlang's pids and refs, and this node's refs", function()
    local function echo(v)
      hl.send({ "echo", PEER }, { hl.self(), { "rt", v } })
      return S.expect(function(x) return type(x) == "table" and x[1] == "echo" and x[2][1] == "rt" end,
        5000, "the echo of " .. tostring(v))[2][2]
    end
    local ok = hl.atom("ok")
    assert.equal(ok, echo(ok))
    assert.equal(hl.atom("caf\xc3\xa9"), echo(hl.atom("caf\xc3\xa9")))
    assert.equal(hl.atom(""), echo(hl.atom("")))
    local m = echo({ [ok] = 1, ok = 2, [hl.atom("error")] = { ok } })
    assert.same({ [ok] = 1, ok = 2, [hl.atom("error")] = { ok } }, m)
    assert.equal(1, m[ok])
    -- a ref of this node goes out as one of Erlang's refs and comes back the same
    local ref = hl.alias()
    assert.equal(ref, echo(ref))
    hl.unalias(ref)
    local mref = hl.monitor(hl.self())
    assert.equal(mref, echo({ mref })[1])
    -- Erlang's own pid and ref, out and back
    hl.send({ "echo", PEER }, { "samples", "me", HL_NODE })
    local got = {}
    for _ = 1, 10 do
      local s = S.expect(is_tagged("sample"), 5000, "a sample")
      got[s[2]] = s[3]
    end
    assert.equal(got[10], echo(got[10]))
    assert.equal(got[11], echo(got[11]))
    hl.send(hl.self(), { "local", got[10], got[11] })   -- in a message between local processes
    local l = S.expect(is_tagged("local"), 1000, "the local message")
    assert.is_true(l[2] == got[10] and l[3] == got[11])
    local t = hl.table.new("dist_remote_values")
    t:insert({ got[10], got[11], ok })      -- tables hold them, as keys too
    assert.equal(ok, t:lookup(got[10])[1][3])
    t:drop()
  end)

  it("hl.send to an Erlang process's pid: it sent its own pid, and gets the reply", function()
    hl.send({ "echo", PEER }, { "ask", "me", HL_NODE })
    local m = S.expect(is_tagged("ask"), 5000, "the question")
    assert.equal("pid", hl.kind(m[2]))
    hl.send(m[2], { "reply", 42, hl.atom("done") })
    local a = S.expect(is_tagged("answered"), 5000, "the answer's receipt")
    assert.same({ "answered", { "reply", 42, hl.atom("done") } }, a)
  end)

  -- an Erlang process that sends its pid to me, then waits for a message
  local function erlang_pid()
    hl.send({ "echo", PEER }, { "ask", "me", HL_NODE })
    return S.expect(is_tagged("ask"), 5000, "an Erlang pid")[2]
  end

  it("hl.monitor, hl.link and hl.exit of an Erlang process: DOWN and EXIT with its reason", function()
    local p = erlang_pid()
    local ref = hl.monitor(p)
    assert.equal("ref", hl.kind(ref))
    hl.send(p, "bye")                       -- it answers, then ends: normal
    S.expect(is_tagged("answered"), 5000, "the answer")
    local down = S.expect(function(m) return type(m) == "table" and m[1] == "DOWN" and m[2] == ref end,
      5000, "DOWN")
    assert.same({ "DOWN", ref, p, "normal" }, down)

    local old = hl.trap_exit(true)
    local q = erlang_pid()
    hl.link(q)
    hl.exit(q, "kill")
    local exit = S.expect(function(m) return type(m) == "table" and m[1] == "EXIT" and m[2] == q end,
      5000, "EXIT")
    assert.same({ "EXIT", q, "killed" }, exit)

    -- after demonitor and unlink, nothing comes
    local r = erlang_pid()
    local rref = hl.monitor(r)
    hl.demonitor(rref)
    hl.link(r)
    hl.unlink(r)
    hl.exit(r, "boom")
    assert.is_nil(hl.receive(function(m)
      return type(m) == "table" and (m[1] == "EXIT" or m[1] == "DOWN") and (m[2] == r or m[2] == rref)
    end, 300))
    hl.trap_exit(old)
  end)

  it("hl.monitor({name, node}): DOWN noproc at once for a name nobody holds there", function()
    local ref = hl.monitor({ "nobody", PEER })
    local down = S.expect(function(m) return type(m) == "table" and m[1] == "DOWN" and m[2] == ref end,
      5000, "DOWN")
    assert.equal("noproc", down[4])
    local okc, e = pcall(hl.server.call, { "nobody", PEER }, 1, 2000)
    assert.is_false(okc)
    assert.equal("noproc", e.kind)
    assert.matches('no process is registered as "nobody" on ' .. PEER, e.message, 1, true)
    local bad = select(2, pcall(hl.monitor, { "nobody" }))
    assert.matches("heirloom.monitor: target must be a pid, a registered name, or {name, \"node@host\"}",
      bad, 1, true)
  end)

  it("hl.server.call and cast reach an Erlang gen_server; timeout and nodedown as call errors", function()
    local ok = hl.atom("ok")
    assert.same({ ok, "x" }, hl.server.call({ "gs", PEER }, { hl.atom("echo"), "x" }))
    assert.same({ ok, { 1, ok } }, hl.server.call({ "gs", PEER }, { hl.atom("echo"), { 1, ok } }, 2000))
    assert.is_true(hl.server.cast({ "gs", PEER }, "c1"))
    assert.same({ "c1" }, hl.server.call({ "gs", PEER }, hl.atom("casts")))
    local okc, e = pcall(hl.server.call, { "gs", PEER }, { hl.atom("sleep"), 600 }, 100)
    assert.is_false(okc)
    assert.equal("timeout", e.kind)
    assert.matches('no reply from {"gs", "' .. PEER .. '"} to request', e.message, 1, true)
    -- the late reply stays in the mailbox, as {tag, reply}
    local late = S.expect(function(x) return type(x) == "table" and hl.kind(x[1]) == "ref" end, 3000, "the late reply")
    assert.equal(hl.atom("slept"), late[2])
    okc, e = pcall(hl.server.call, { "gs", "nobody" .. TAG .. "@localhost" }, 1)
    assert.is_false(okc)
    assert.equal("nodedown", e.kind)
    assert.matches("cannot be reached; request 1 not sent", e.message, 1, true)
    okc, e = pcall(hl.server.call, { "gs" }, 1)
    assert.is_false(okc)
    assert.matches("heirloom.server.call: dest must be a pid or a registered name (got table); a server on " ..
      "another node is {name, \"node@host\"}", e, 1, true)
  end)

  it("Erlang's gen_server:call reaches a heirloom server, its [alias | Ref] tag returned unchanged; a timeout there", function()
    local pid = assert(hl.server.start("srv_dist", nil, { name = "hlgs" }))
    local function erl_call(req, timeout)
      hl.send({ "echo", PEER }, { "gen_call", "hlgs", HL_NODE, req, timeout, "me" })
      return S.expect(is_tagged("gen_call"), 5000, "the call's result")[2]
    end
    local ok, exit = hl.atom("ok"), hl.atom("exit")
    assert.same({ ok, { ok, "hi" } }, erl_call({ hl.atom("echo"), "hi" }, 2000))
    assert.same({ ok, { ok, 7, "later" } }, erl_call({ hl.atom("later"), 7 }, 2000))
    assert.same({ exit, hl.atom("timeout") }, erl_call({ hl.atom("sleep"), 800 }, 100))
    assert.same({ ok, { ok, "again" } }, erl_call({ hl.atom("echo"), "again" }, 2000))
    hl.server.stop(pid)
  end)

  it("a message with no Erlang form is refused at the sender", function()
    local function send_err(msg)
      local ok, err = pcall(hl.send, { "echo", PEER }, msg)
      assert.is_false(ok)
      return err
    end
    assert.matches("heirloom.send: the message has no Erlang form: NaN and infinities", send_err({ 0 / 0 }), 1, true)
    assert.matches("no Erlang form: NaN and infinities", send_err(math.huge), 1, true)
    assert.matches("no Erlang form: the atom 'true' is Lua's true on the other side", send_err({ hl.atom("true") }), 1, true)
    assert.matches("no Erlang form: an atom whose name is not UTF-8", send_err(hl.atom("\255")), 1, true)
    local t = hl.table.new("dist_spec_t")
    assert.matches("no Erlang form: a table handle cannot leave its node", send_err({ t }), 1, true)
    t:drop()
    assert.matches("heirloom.send: the node must be \"name@host\"", select(2, pcall(hl.send, { "echo", "nohost" }, 1)), 1, true)
  end)

  it("refuses a node with the wrong cookie, and logs it", function()
    hl.logs()
    local out = sh("erl -sname bad" .. TAG .. "@localhost -setcookie wrong -noshell " ..
      "-kernel inet_dist_use_interface '{127,0,0,1}' " ..
      "-eval 'io:format(\"~p~n\", [net_adm:ping(list_to_atom(\"" .. HL_NODE .. "\"))]), halt().'")
    assert.matches("pang", out, 1, true)
    assert.is_true(until_true(function()
      return table.concat(hl.logs(), "\n"):find("heirloom.dist: refused a connection", 1, true) ~= nil
    end, 3))
  end)

  it("a message to a node that cannot be reached is dropped and logged, as in Erlang", function()
    hl.logs()
    -- the send does not wait for the connection: the logger is told when
    -- the attempt fails
    hl.send({ "echo", "nobody" .. TAG .. "@localhost" }, "lost")
    assert.is_true(until_true(function()
      return table.concat(hl.logs(), "\n"):find("cannot connect to nobody" .. TAG .. "@localhost", 1, true) ~= nil
    end, 5))
  end)

  -- Starts a second heirloom node, "<alive><TAG>@localhost", running body
  -- (Lua source) after it has joined, in a lua5.4 of its own (the
  -- sanitizer's runtime, if any, stays preloaded); waits until epmd lists
  -- it. Returns its name, expect() and finish(), which waits for it to
  -- leave and returns what it printed.
  local function other_node(alive, body)
    local other = alive .. TAG .. "@localhost"
    local script, out = os.tmpname(), os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write("package.path = ", string.format("%q", package.path), "\n",
            "package.cpath = ", string.format("%q", package.cpath), "\n", [[
      local hl = require("heirloom")
      hl.start{ schedulers = 1, logger = "capture",
                dist = { name = "]] .. other .. [[", cookie = "]] .. COOKIE .. [[" } }
    ]], body, "\nhl.stop()\n")
    f:close()
    local p = io.popen("timeout 20 lua5.4 " .. script .. " >" .. out .. " 2>&1 & echo $!")
    p:close()
    assert.is_true(until_true(function() return epmd_lists(alive .. TAG) end, 10), "the other node did not start")
    -- expect(pred, ms, what): S.expect, whose error, if nothing comes,
    -- shows what the other node has printed so far
    local function expect(pred, ms, what)
      local ok, m = pcall(S.expect, pred, ms, what)
      if ok then return m end
      error(tostring(m) .. "\nthe other node printed:\n" .. (io.open(out):read("a")), 2)
    end
    return other, expect, function()
      assert.is_true(until_true(function() return not epmd_lists(alive .. TAG) end, 5))
      local printed = io.open(out):read("a")
      os.remove(script)
      os.remove(out)
      return printed
    end
  end

  it("two heirloom nodes message each other's registered names", function()
    local other, expect, finish = other_node("hlb", [[
      hl.register("b", hl.self())
      hl.send({ "me", "]] .. HL_NODE .. [[" }, { "b ready" })
      local m = hl.receive(10000)
      if m then hl.send({ "me", "]] .. HL_NODE .. [[" }, { "from b", m }) end
      hl.receive(500)   -- the answer leaves before the node stops
    ]])
    -- epmd lists the node before its body has registered b: a message to
    -- a name nobody holds yet is dropped, as Erlang drops it
    expect(is_tagged("b ready"), 5000, "the other node's b")
    hl.send({ "b", other }, { "hello", 7 })
    local m = expect(is_tagged("from b"), 5000, "the other node's answer")
    assert.same({ "from b", { "hello", 7 } }, m)
    assert.equal("", finish())
  end)

  it("two heirloom nodes call each other's servers (gen_server's protocol between heirloom nodes)", function()
    local host_srv = assert(hl.server.start("srv_dist", nil, { name = "hlgs2" }))
    local other, expect, finish = other_node("hlg", [[
      -- b first: once b_srv answers, "go" has someone to reach
      hl.register("b", hl.self())
      assert(hl.server.start("srv_dist", nil, { name = "b_srv" }))
      local m = hl.receive(10000)      -- "go": call the first node's server, tell it the answer
      if m then
        local r = hl.server.call({ "hlgs2", "]] .. HL_NODE .. [[" }, { hl.atom("echo"), "from b" }, 5000)
        hl.send({ "me", "]] .. HL_NODE .. [[" }, { "b called", r })
      end
      hl.receive(1000)   -- the answer leaves, and the first node's calls are served, before the node stops
    ]])
    local ok = hl.atom("ok")
    local r
    -- b_srv is registered a moment after the node joins: until then a
    -- call ends at once, noproc
    assert.is_true(until_true(function()
      local good, v = pcall(hl.server.call, { "b_srv", other }, { hl.atom("echo"), { 1, ok } }, 300)
      r = v
      return good
    end, 10), "b_srv does not answer: " .. tostring(r and r.message or r))
    assert.same({ ok, { 1, ok } }, r)
    hl.send({ "b", other }, "go")
    local m = expect(is_tagged("b called"), 5000, "the other node's call")
    assert.same({ "b called", { ok, "from b" } }, m)
    assert.equal("", finish())
    hl.server.stop(host_srv)
  end)

  it("without a cookie, uses ~/.erlang.cookie, made 0400 with a random one when missing, as Erlang does", function()
    local home = os.tmpname()
    os.remove(home)
    sh("mkdir -p " .. home)
    local code = [[
      local hl = require("heirloom")
      local ok, err = pcall(hl.start, { schedulers = 1, logger = "capture", dist = { name = "hlc]] .. TAG .. [[@localhost" } })
      print(ok, err)
      if ok then hl.stop() end
    ]]
    local out = S.run_child(code, 20, "HOME=" .. home)
    assert.matches("^true", out)
    local mode = sh("stat -c %a " .. home .. "/.erlang.cookie")
    assert.equal("400", mode:match("%d+"))
    local cookie = io.open(home .. "/.erlang.cookie"):read("a")
    assert.matches("^[A-Z]+$", cookie)
    assert.equal(20, #cookie)
    -- one that others can read is refused, as Erlang refuses it
    sh("chmod 644 " .. home .. "/.erlang.cookie")
    out = S.run_child(code, 20, "HOME=" .. home)
    assert.matches("false%s+heirloom.start: .*%.erlang%.cookie must be accessible by its owner only", out)
    sh("rm -rf " .. home)
  end)

  it("heirloom run --name --cookie joins the cluster, and leaves it on SIGTERM", function()
    local bin = (os.getenv("HEIRLOOM_BUILD") or "build") .. "/heirloom"
    local base = os.tmpname()
    local name = "hlrun" .. TAG
    -- the command is ours (built with the sanitizer, if any): run as the specs are
    local p = io.popen(bin .. " run --name " .. name .. "@localhost --cookie " .. COOKIE .. " " ..
      HERE .. "support/cli_app/solo.lua >" .. base .. " 2>&1 </dev/null & echo $!")
    local pid = p:read("a"):match("%d+")
    p:close()
    assert.is_true(until_true(function() return epmd_lists(name) end, 10), "heirloom run did not join")
    os.execute("kill -TERM " .. pid)
    assert.is_true(until_true(function() return not epmd_lists(name) end, 10), "heirloom run did not leave")
    local out, rc
    out, rc = sh(bin .. " run --cookie c " .. HERE .. "support/cli_app/solo.lua")
    assert.equal(2, rc)
    assert.matches("--cookie: only with --name", out, 1, true)
    out, rc = sh(bin .. " run --name 'bad name' " .. HERE .. "support/cli_app/solo.lua")
    assert.equal(1, rc)
    assert.matches("cannot start the node: hl_node_start: dist.name must be", out, 1, true)
    os.remove(base)
  end)

  it("the etscounter example's client runs on an Erlang node, against the counter server on this node", function()
    local dir = HERE .. "../examples/etscounter/"
    if not package.path:find(dir .. "?.lua", 1, true) then
      package.path = dir .. "?.lua;" .. package.path    -- the app's processes inherit it
    end
    local etscounter = require("etscounter")
    local sup = assert(etscounter.start())
    local out, rc = sh("erlc -o " .. beam_dir .. " " .. dir .. "etscounter_client.erl")
    assert.equal(0, rc, out)
    local node = "'" .. HL_NODE .. "'"
    out = sh("erl -sname client" .. TAG .. "@localhost -setcookie " .. COOKIE .. " -noshell -pa " .. beam_dir ..
      " -kernel inet_dist_use_interface '{127,0,0,1}' -eval '" ..
      "C = etscounter_client, N = " .. node .. ", A = C:count(N), B = C:count(N), K = C:check(N), " ..
      "ok = C:die(N), D = C:count_when_back(N), " ..
      "io:format(\"~p~n\", [{A, B, K, D, C:check(N)}]), halt().'")
    -- the count survives the server's death, as in the example's story
    assert.matches('{1,2,{{<<"count">>,2}},3,{{<<"count">>,3}}}', out, 1, true)
    assert.equal(3, etscounter.read())
    etscounter.stop(sup)
  end)

  -- a heirloom process that waits for {"exit", reason} and exits with it
  local function waiter()
    return hl.spawn(function()
      local hl = require("heirloom")
      local m = hl.receive()
      if type(m) == "table" and m[1] == "exit" then hl.exit(m[2]) end
      hl.receive()
    end)
  end

  local function down_of(ref, ms)
    local m = S.expect(function(x) return type(x) == "table" and x[1] == "DOWN" and x[2] == ref end,
      ms or 5000, "DOWN")
    return m[4]
  end

  it("links and monitors from Erlang: EXIT and DOWN carry the heirloom process's reason, atoms by name", function()
    for _, why in ipairs({ "shutdown", "normal", "custom reason" }) do
      local w = waiter()
      hl.send({ "echo", PEER }, { "link", w, "me", HL_NODE })
      S.expect(is_tagged("linked"), 5000, "linked")
      hl.send({ "echo", PEER }, { "monitor", w, "me", HL_NODE })
      S.expect(is_tagged("monitoring"), 5000, "monitoring")
      hl.send(w, { "exit", why })
      -- "shutdown" and "normal" arrive as atoms (the peer sends their names
      -- back), "custom reason" as a binary
      assert.same({ "exit", why }, S.expect(is_tagged("exit"), 5000, "EXIT at Erlang"))
      assert.same({ "down", why }, S.expect(is_tagged("down"), 5000, "DOWN at Erlang"))
    end
  end)

  it("a monitor from Erlang of a name: DOWN when it exits; of a name nobody holds or a dead pid: noproc at once", function()
    local w = waiter()
    hl.register("dist_spec_named", w)
    hl.send({ "echo", PEER }, { "monitor", { "dist_spec_named", HL_NODE }, "me", HL_NODE })
    S.expect(is_tagged("monitoring"), 5000, "monitoring")
    hl.send(w, { "exit", "bye" })
    assert.same({ "down", "bye" }, S.expect(is_tagged("down"), 5000, "DOWN of the name"))
    hl.send({ "echo", PEER }, { "monitor", { "nobody_here", HL_NODE }, "me", HL_NODE })
    assert.same({ "down", "noproc" }, S.expect(is_tagged("down"), 5000, "noproc of a name"))
    assert.is_true(S.dead(w))
    hl.send({ "echo", PEER }, { "monitor", w, "me", HL_NODE })
    assert.same({ "down", "noproc" }, S.expect(is_tagged("down"), 5000, "noproc of a dead pid"))
    hl.send({ "echo", PEER }, { "link", w, "me", HL_NODE })
    assert.same({ "exit", "noproc" }, S.expect(is_tagged("exit"), 5000, "noproc of a link"))
  end)

  it("gen_server:call from Erlang to a name nobody holds fails with noproc at once", function()
    hl.send({ "echo", PEER }, { "call", "nobody_here", HL_NODE, "me", HL_NODE })
    assert.same({ "call", "noproc" }, S.expect(is_tagged("call"), 1500, "the call's failure"))
  end)

  it("exit signals from Erlang: exit/2 kills with its reason, normal is ignored, kill kills; a linked process's exit kills", function()
    local w = waiter()
    local ref = hl.monitor(w)
    hl.send({ "echo", PEER }, { "exit", w, "normal" })
    S.none(function(x) return type(x) == "table" and x[1] == "DOWN" and x[2] == ref end, 300, "normal kills nobody")
    hl.send({ "echo", PEER }, { "exit", w, "foo" })
    assert.equal("foo", down_of(ref))
    w = waiter()
    ref = hl.monitor(w)
    hl.send({ "echo", PEER }, { "exit", w, "kill" })
    assert.equal("killed", down_of(ref))
    -- a trapping process gets a message instead: its sender is the Erlang
    -- process's pid, which test/test_dist.c reads
    -- links: an Erlang process that dies takes its linked heirloom process along
    w = waiter()
    ref = hl.monitor(w)
    hl.send({ "echo", PEER }, { "link_exit", w, "crash", "me", HL_NODE })
    S.expect(is_tagged("linked"), 5000, "linked")
    assert.equal("crash", down_of(ref))
    w = waiter()
    ref = hl.monitor(w)
    hl.send({ "echo", PEER }, { "link_exit", w, "normal", "me", HL_NODE })
    S.expect(is_tagged("linked"), 5000, "linked")
    S.none(function(x) return type(x) == "table" and x[1] == "DOWN" and x[2] == ref end, 400, "a normal exit of a link")
    hl.send({ "echo", PEER }, { "link_unlink", w, "me", HL_NODE })
    S.expect(is_tagged("unlinked"), 5000, "unlinked")
    S.none(function(x) return type(x) == "table" and x[1] == "DOWN" and x[2] == ref end, 400, "an unlinked crash")
    hl.exit(w, "kill")
    assert.equal("killed", down_of(ref))
  end)

  it("net_adm:ping of the heirloom node answers pong", function()
    hl.send({ "echo", PEER }, { "ping", "me", HL_NODE, HL_NODE })
    assert.same({ "ping", true }, S.expect(is_tagged("ping"), 5000, "ping"))
  end)

  it("a lost connection: a process linked to a process of the killed Erlang node gets noconnection", function()
    local other = "peerk" .. TAG .. "@localhost"
    local out = sh("erl -sname " .. other .. " -setcookie " .. COOKIE .. " -noshell -pa " .. beam_dir ..
       " -kernel inet_dist_use_interface '{127,0,0,1}' -eval 'dist_peer:start()' >/dev/null 2>&1 & echo $!")
    local pid = tonumber(out:match("(%d+)"))
    assert(until_true(function() return epmd_lists("peerk" .. TAG) end, 15), "the erl node did not start")
    local ok = false
    for _ = 1, 50 do
      hl.send({ "echo", other }, { hl.self(), "ready?" })
      if hl.receive(function(m) return type(m) == "table" and m[2] == "ready?" end, 200) then ok = true break end
    end
    assert(ok, "the second erl node's echo does not answer")
    local w = waiter()
    local ref = hl.monitor(w)
    hl.send({ "echo", other }, { "link", w, "me", HL_NODE })
    S.expect(is_tagged("linked"), 5000, "linked")
    -- and this process monitors and links to a process there
    hl.send({ "echo", other }, { "ask", "me", HL_NODE })
    local there = S.expect(is_tagged("ask"), 5000, "a pid there")[2]
    local tref = hl.monitor(there)
    local old = hl.trap_exit(true)
    hl.link(there)
    sh("kill -9 " .. pid)
    assert.equal("noconnection", down_of(ref))
    assert.same({ "DOWN", tref, there, "noconnection" }, S.expect(function(m)
      return type(m) == "table" and m[1] == "DOWN" and m[2] == tref end, 5000, "DOWN noconnection"))
    assert.same({ "EXIT", there, "noconnection" }, S.expect(function(m)
      return type(m) == "table" and m[1] == "EXIT" and m[2] == there end, 5000, "EXIT noconnection"))
    hl.trap_exit(old)
  end)

  it("stop leaves the cluster: epmd forgets the name, even while a program the host ran lives on", function()
    -- a child started while the node is up inherits no socket of its
    -- distribution: the epmd one would keep the name registered
    local p = io.popen("sleep 6 >/dev/null 2>&1 & echo $!")
    local child = p:read("a"):match("%d+")
    p:close()
    hl.send({ "echo", PEER }, { "halt" })
    hl.stop()
    local forgotten = until_true(function() return not epmd_lists("hl" .. TAG) end, 3)
    os.execute("kill " .. child .. " 2>/dev/null")
    assert.is_true(forgotten)
  end)
end)
