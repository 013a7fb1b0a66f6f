-- console_spec.lua — the remote console, with child programs: `heirloom
-- run --console PATH` in the background, `heirloom remsh PATH` (and
-- `heirloom shell --attach PATH`) driven through a pipe or a fifo:
-- attach and evaluate, detach and attach again, two consoles at once,
-- Ctrl-C at a console, secrets, a socket in use, garbage on the socket,
-- and SIGTERM to the node with consoles attached.
local HERE = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local S = dofile(HERE .. "support/hlspec.lua")
local APPS = HERE .. "support/cli_app/"
local BUILD = os.getenv("HEIRLOOM_BUILD") or "build"
local HEIRLOOM = BUILD .. "/heirloom"

local quote = S.quote
local sleep, wait_for, assert_in_order = S.sleep, S.wait_for, S.assert_in_order
local read, write = S.read_file, S.write_file

local function has(text, s) return text:find(s, 1, true) ~= nil end

-- The command with args, stdin from input; killed after 30 s (137).
local function heirloom(args, input)
  return S.heirloom(args, input or "", 30)
end

-- What start_bg started, for after_each to stop and clean.
local started = {}

-- A command in the background (args: a shell string), reading from a fifo
-- that stays open (so only a signal or the node ends it); feed() writes
-- more input into it.
local function start_bg(args, env)
  local base = os.tmpname()
  os.remove(base)
  os.execute("mkfifo " .. base .. ".fifo")
  local script = string.format("exec 3<>%s; %s %s %s <%s >%s 2>&1 & echo $! >%s; wait $!; echo $? >%s",
                               base .. ".fifo", env or "", quote(HEIRLOOM), args, base .. ".fifo",
                               base .. ".out", base .. ".pid", base .. ".status")
  os.execute("sh -c " .. quote(script) .. " >/dev/null 2>&1 &")
  assert(wait_for(function() return (read(base .. ".pid") or ""):match("%d+") ~= nil end),
         "the command did not start")
  local p = {
    pid = read(base .. ".pid"):match("%d+"),
    output = function() return read(base .. ".out") or "" end,
    status = function() return tonumber((read(base .. ".status") or ""):match("%d+")) end,
  }
  function p.feed(text)
    local f = assert(io.open(base .. ".fifo", "w"))
    f:write(text)
    f:close()
  end
  function p.signal(sig) os.execute("kill -" .. sig .. " " .. p.pid .. " 2>/dev/null") end
  -- stops it (if it runs) and waits for its end; its output stays
  function p.stop()
    if p.status() == nil then
      p.signal("TERM")
      wait_for(function() return p.status() ~= nil end, 10)
    end
  end
  function p.clean()
    p.stop()
    for _, ext in ipairs({ ".fifo", ".out", ".pid", ".status" }) do os.remove(base .. ext) end
  end
  started[#started + 1] = p
  return p
end

-- `heirloom run APP --console SOCK [more]` with the console up; prefix:
-- what the command line starts with (an environment, setpriv).
local function start_node(sock, more, prefix)
  local node = start_bg("run " .. quote(APPS .. "app.lua") .. " --console " .. quote(sock) ..
                        " " .. (more or ""), prefix)
  assert(wait_for(function() return has(node.output(), "started (supervisor") end), node.output())
  assert(has(node.output(), "heirloom: console at " .. sock), node.output())
  return node
end

local function remsh(sock, input, more)
  return heirloom("remsh " .. quote(sock) .. " " .. (more or ""), input)
end

describe("remote console #child", function()
  local dir, sock
  before_each(function()
    dir = S.private_dir()
    sock = dir .. "/node.sock"
  end)
  after_each(function()
    for _, p in ipairs(started) do p.clean() end
    started = {}
    os.execute("rm -rf " .. quote(dir))
  end)

  it("attaches, evaluates lines in a process of the node, and prints as the local shell does", function()
    local node = start_node(sock)
    local out, err, status = remsh(sock, table.concat({
      "1 + 1",
      "x = 20",
      "x * 2, 'two'",
      "for i = 1, 3 do",
      "  io.write(i, ';')",
      "end",
      "print('')",
      "ps()",
      "tree()",
      "error('boom')",
      "x = = 1",
      "hl.whereis('second') ~= nil",
    }, "\n") .. "\n")
    assert.are.equal(0, status, err)
    assert_in_order(out, "heirloom console on cliapp", "2\n40\ttwo\n1;2;3;\n",
                    "pid", "name", "module", "status", "mailbox", "memory", "function")
    assert.is_truthy(out:find("cliapp_sup%s+heirloom.supervisor%s+waiting"), out)
    assert.is_truthy(out:find("<[%d.]+>%s+second%s+cli_worker%s+waiting"), out)
    assert.is_truthy(out:find("<[%d.]+>%s+%(shell%)%s+heirloom.console%s+running"), out)
    assert.is_truthy(out:find("cliapp  <[%d.]+>  supervisor  waiting\n|%-%- first  <[%d.]+>  worker  waiting\n"), out)
    assert.is_truthy(out:find("true\n$"), out)
    assert.is_truthy(has(err, "console:1: boom"), err)
    assert.is_truthy(has(err, "console:1: unexpected symbol near '='"), err)
    -- the node ran on; its log says who came and went (the detach a
    -- moment after remsh has ended)
    assert.is_nil(node.status())
    wait_for(function() return has(node.output(), "heirloom: console detached") end)
    assert_in_order(node.output(), "heirloom: console attached (" .. sock .. ")",
                    "heirloom: console detached (" .. sock .. ")")
    node.stop()
  end)

  it("leaving leaves the node running: attach again, the application still runs", function()
    local node = start_node(sock)
    local out, err, status = heirloom("shell --attach " .. quote(sock), "w = hl.whereis('second')\nw ~= nil\n")
    assert.are.equal(0, status, err)
    assert.is_truthy(out:find("true\n$"), out)
    sleep(0.2)
    assert.is_nil(node.status())
    out, err, status = remsh(sock, "w == nil\nhl.whereis('second') ~= nil\n")
    assert.are.equal(0, status, err)
    -- a fresh console: the first one's globals are gone, the application is not
    assert.is_truthy(out:find("true\ntrue\n$"), out)
    assert.is_nil(node.status())
    node.stop()
    assert_in_order(node.output(), "heirloom: SIGTERM: stopping cliapp", "heirloom: cliapp stopped")
  end)

  it("serves two consoles at once, each its own process", function()
    local node = start_node(sock)
    local a = start_bg("remsh " .. quote(sock))
    a.feed("print('A ' .. tostring(hl.self()))\n")
    assert.is_true(wait_for(function() return a.output():match("A <[%d.]+>") ~= nil end), a.output())
    local out, err, status = remsh(sock, "print('B ' .. tostring(hl.self()))\nps()\n")
    assert.are.equal(0, status, err)
    local pa, pb = a.output():match("A (<[%d.]+>)"), out:match("B (<[%d.]+>)")
    assert.is_truthy(pb, out)
    assert.are_not.equal(pa, pb)
    -- the first console, still attached, shows in the second's ps()
    assert.is_truthy(out:find(pa:gsub("%p", "%%%0") .. "%s+%-%s+heirloom.console"), out)
    a.feed("print('A again')\n")
    assert.is_true(wait_for(function() return has(a.output(), "A again") end), a.output())
    a.stop()
    node.stop()
  end)

  it("Ctrl-C at a console interrupts a blocked evaluation; the console goes on", function()
    local node = start_node(sock)
    local c = start_bg("remsh " .. quote(sock))
    c.feed("print('waiting')\nhl.receive()\n")
    assert.is_true(wait_for(function() return has(c.output(), "waiting") end), c.output())
    sleep(0.2)
    c.signal("INT")
    assert.is_true(wait_for(function() return has(c.output(), "interrupted") end), c.output())
    c.feed("print('after ' .. 6 * 7)\n")
    assert.is_true(wait_for(function() return has(c.output(), "after 42") end), c.output())
    assert.is_nil(c.status())
    assert.is_nil(node.status())
    c.stop()
    node.stop()
  end)

  it("Ctrl-C at a console ends a sleep and a busy loop too; help() says Ctrl-D detaches", function()
    local node = start_node(sock)
    local c = start_bg("remsh " .. quote(sock))
    c.feed("help()\nprint('sleeping')\nhl.sleep(600000)\n")
    assert.is_true(wait_for(function() return has(c.output(), "sleeping") end), c.output())
    assert.is_truthy(has(c.output(), "Ctrl-D leaves (detaching; the node runs on)."), c.output())
    sleep(0.2)
    c.signal("INT")
    assert.is_true(wait_for(function() return has(c.output(), "interrupted") end), c.output())
    c.feed("print('looping')\nwhile true do end\n")
    assert.is_true(wait_for(function() return has(c.output(), "looping") end), c.output())
    sleep(0.2)
    c.signal("INT")
    assert.is_true(wait_for(function()
      local _, n = c.output():gsub("interrupted", "")
      return n == 2
    end), c.output())
    c.feed("print('after ' .. 6 * 7)\n")
    assert.is_true(wait_for(function() return has(c.output(), "after 42") end), c.output())
    assert.is_nil(node.status())
    c.stop()
    node.stop()
  end)

  it("SIGTERM to the node closes attached consoles with a message and removes the socket", function()
    local node = start_node(sock)
    local a = start_bg("remsh " .. quote(sock))
    local b = start_bg("remsh " .. quote(sock))
    -- b is in the middle of an evaluation
    b.feed("print('b waits')\nhl.receive()\n")
    assert.is_true(wait_for(function() return has(a.output(), "heirloom console on cliapp") end), a.output())
    assert.is_true(wait_for(function() return has(b.output(), "b waits") end), b.output())
    node.signal("TERM")
    assert.is_true(wait_for(function() return node.status() ~= nil end, 10), node.output())
    assert.are.equal(0, node.status())
    for _, c in ipairs({ a, b }) do
      assert.is_true(wait_for(function() return c.status() ~= nil end, 10), c.output())
      assert.is_truthy(has(c.output(), "heirloom: the node is stopping"), c.output())
      c.stop()
    end
    assert.is_nil(read(sock))
    assert.is_nil(io.open(sock, "r"))
    assert_in_order(node.output(), "heirloom: SIGTERM: stopping cliapp", "heirloom: cliapp stopped")
    node.stop()
  end)

  it("refuses a wrong or missing secret with a clear message; the right one attaches", function()
    local secret, wrong = dir .. "/secret", dir .. "/wrong"
    write(secret, "correct horse\n")
    write(wrong, "battery staple\n")
    os.execute("chmod 600 " .. quote(secret) .. " " .. quote(wrong))
    local node = start_node(sock, "--console-secret " .. quote(secret))
    local out, err, status = remsh(sock, "1 + 1\n", "--secret " .. quote(wrong))
    assert.are.equal(1, status)
    assert.are.equal("", out)
    assert.are.equal("heirloom: console refused: wrong secret\n", err)
    out, err, status = remsh(sock, "1 + 1\n")
    assert.are.equal(1, status)
    assert.are.equal("heirloom: console refused: wrong secret\n", err)
    out, err, status = remsh(sock, "1 + 1\n", "--secret " .. quote(secret))
    assert.are.equal(0, status, err)
    assert.is_truthy(out:find("2\n$"), out)
    assert.is_truthy(has(node.output(), "heirloom: console refused: wrong secret"), node.output())
    node.stop()
  end)

  it("refuses a user who is not the node's owner, with a clear message and a line in the log", function()
    local f = io.popen("id -u")
    local uid = f:read("l")
    f:close()
    if uid ~= "0" or not os.execute("command -v setpriv >/dev/null 2>&1") then
      pending("needs root and setpriv, to run the node as another user")
      return
    end
    os.execute("chown 65534 " .. quote(dir))
    local node = start_node(sock, nil, "setpriv --reuid=65534 --regid=65534 --clear-groups")
    local out, err, status = remsh(sock, "1 + 1\n")
    assert.are.equal(1, status)
    assert.are.equal("", out)
    assert.are.equal("heirloom: console refused: user 0 is not the node's owner (uid 65534)\n", err)
    assert.is_truthy(has(node.output(), "heirloom: console refused: user 0 is not the node's owner (uid 65534)"),
                     node.output())
    assert.is_nil(node.status())
  end)

  it("a secret file that others can read is refused at start, naming the file", function()
    local secret = dir .. "/secret"
    write(secret, "s3cret\n")
    os.execute("chmod 644 " .. quote(secret))
    local out, err, status = heirloom("run " .. quote(APPS .. "app.lua") .. " --console " ..
                                      quote(sock) .. " --console-secret " .. quote(secret))
    assert.are.equal(1, status)
    assert.are.equal("", out)
    assert.is_truthy(has(err, "heirloom: console refused to start: secret file " .. secret ..
                          ": it must be a file of yours that nobody else can read or write"), err)
    assert.is_nil(err:find("started", 1, true))
    -- and a client will not send one either
    local _, cerr, cstatus = remsh(sock, "", "--secret " .. quote(secret))
    assert.are.equal(1, cstatus)
    assert.is_truthy(has(cerr, "secret file " .. secret), cerr)
  end)

  it("a socket in use makes the start fail; a stale one (a killed node's) is replaced", function()
    local node = start_node(sock)
    local out, err, status = heirloom("run " .. quote(APPS .. "solo.lua") .. " --console " .. quote(sock))
    assert.are.equal(1, status)
    assert.are.equal("", out)
    assert.are.equal("heirloom: --console " .. sock .. ": another node is listening there\n", err)
    -- kill -9: the socket file stays behind
    node.signal("KILL")
    assert.is_true(wait_for(function() return node.status() ~= nil end, 10))
    node.stop()
    local again = start_node(sock)
    out, err, status = remsh(sock, "1 + 2\n")
    assert.are.equal(0, status, err)
    assert.is_truthy(out:find("3\n$"), out)
    again.stop()
  end)

  it("garbage on the socket closes that connection and does not hurt the node", function()
    local node = start_node(sock)
    local py = [[
import socket, sys
def talk(data):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    try:
        s.sendall(data)
    except OSError:
        pass
    s.settimeout(10)
    got = b""
    try:
        while True:
            b = s.recv(4096)
            if not b: break
            got += b
    except OSError:
        pass
    s.close()
    print(repr(got))
talk(b"GET / HTTP/1.0\r\n\r\n")
talk(b"S\x00\x00\x00\x00L\x7f\xff\xff\xff" + b"x" * 100000)
talk(b"S\x00\x00\x00\x00Q\x00\x00\x00\x01z")
talk(b"S\x00\x00\x00\x00L\x00\x00")
]]
    write(dir .. "/garbage.py", py)
    local f = io.popen("timeout 30 python3 " .. quote(dir .. "/garbage.py") .. " " .. quote(sock) .. " 2>&1")
    local said = f:read("a")
    f:close()
    assert.is_truthy(has(said, "console refused: not a console client"), said)
    assert.is_truthy(has(said, "not the console's protocol, or a line longer than 1 MiB"), said)
    local out, err, status = remsh(sock, "hl.whereis('second') ~= nil\n")
    assert.are.equal(0, status, err)
    assert.is_truthy(out:find("true\n$"), out)
    assert.is_nil(node.status())
    node.stop()
    assert.are.equal(0, node.status())
  end)

  it("node.console = true opens the socket at the default path, owner only", function()
    local env = "XDG_RUNTIME_DIR=" .. quote(dir)
    local node = start_bg("run " .. quote(APPS .. "console_app.lua"), env)
    local path = dir .. "/heirloom/consoleapp.sock"
    assert.is_true(wait_for(function() return has(node.output(), "consoleapp started") end), node.output())
    assert.is_truthy(has(node.output(), "heirloom: console at " .. path), node.output())
    local f = io.popen("stat -c '%a %F' " .. quote(dir .. "/heirloom") .. " " .. quote(path))
    local modes = f:read("a")
    f:close()
    assert.are.equal("700 directory\n600 socket\n", modes)
    local out, err, status = remsh(path, "hl.whereis('console_worker') ~= nil\n")
    assert.are.equal(0, status, err)
    assert.is_truthy(out:find("true\n$"), out)
    node.stop()
  end)

  it("restart() at a console starts the application again after its top supervisor exited", function()
    local node = start_node(sock)
    local out, err, status = remsh(sock, table.concat({
      "restart()",
      "old = hl.whereis('cliapp_sup')",
      "kill('cliapp_sup')",
      "repeat hl.sleep(10) until hl.whereis('cliapp_sup') == nil",
      "restart()",
      "hl.await_name('second', 5000) ~= nil",
      "hl.whereis('cliapp_sup') ~= old",
      "restart()",
    }, "\n") .. "\n")
    assert.are.equal(0, status, err)
    assert.is_truthy(out:find("cliapp started again %(<[%d.]+>%)\ntrue\ntrue\n"), out)
    local _, refused = err:gsub("restart: cliapp is running %(<[%d.]+>%)", "")
    assert.are.equal(2, refused, err)
    -- the node ran on while the application was down, and says what happened
    assert_in_order(node.output(), "heirloom: cliapp: the top supervisor <",
                    "exited on its own: killed",
                    "heirloom: cliapp is down; the node runs on for its console",
                    "heirloom: cliapp started again (<")
    assert.is_nil(node.status())
    node.stop()
    assert.are.equal(0, node.status())
    assert_in_order(node.output(), "heirloom: SIGTERM: stopping cliapp", "heirloom: cliapp stopped")
  end)

  it("a node whose application is down, stopped by SIGTERM, exits 1; restart() works there too", function()
    local node = start_bg("run " .. quote(APPS .. "giveup.lua") .. " --console " .. quote(sock))
    assert.is_true(wait_for(function() return has(node.output(), "the node runs on for its console") end),
                   node.output())
    local out, err, status = remsh(sock, "restart()\n")
    assert.are.equal(0, status, err)
    assert.is_truthy(out:find("\ngiveup started again %(<[%d.]+>%)\n"), out)
    -- it gives up again: the node says so and runs on
    assert.is_true(wait_for(function()
      local _, n = node.output():gsub("the node runs on for its console", "")
      return n == 2
    end), node.output())
    assert.is_nil(node.status())
    node.stop()
    assert.are.equal(1, node.status())
  end)

  it("restart() at the console of a shell's node says where it works", function()
    local node = start_bg("shell " .. quote(APPS .. "app.lua") .. " --console " .. quote(sock))
    assert.is_true(wait_for(function() return has(node.output(), "heirloom: console at") end), node.output())
    local _, err, status = remsh(sock, "restart()\n")
    assert.are.equal(0, status, err)
    assert.is_truthy(has(err, "restart: this node is a shell's: restart() is at its own prompt, not at a console"), err)
    node.stop()
  end)

  -- owner-only secret files: right and wrong
  local function secrets()
    local right, wrong = dir .. "/secret", dir .. "/wrong"
    write(right, "correct horse\n")
    write(wrong, "battery staple\n")
    os.execute("chmod 600 " .. quote(right) .. " " .. quote(wrong))
    return right, wrong
  end

  -- the address a tcp console with port 0 got, from the node's log
  local function tcp_address(node)
    assert(wait_for(function() return has(node.output(), "started") end), node.output())
    local addr = node.output():match("heirloom: console at (tcp:127%.0%.0%.1:%d+) %(with a secret%)")
    assert.is_truthy(addr, node.output())
    return addr
  end

  it("a tcp console on 127.0.0.1 attaches with the right secret and refuses a wrong or missing one", function()
    local right, wrong = secrets()
    local node = start_bg("run " .. quote(APPS .. "app.lua") .. " --console tcp:127.0.0.1:0 --console-secret " ..
                          quote(right))
    local addr = tcp_address(node)
    local out, err, status = remsh(addr, "hl.whereis('second') ~= nil\n", "--secret " .. quote(right))
    assert.are.equal(0, status, err)
    assert.is_truthy(out:find("heirloom console on cliapp", 1, true), out)
    assert.is_truthy(out:find("true\n$"), out)
    out, err, status = heirloom("shell --attach " .. addr .. " --secret " .. quote(right), "1 + 1\n")
    assert.are.equal(0, status, err)
    assert.is_truthy(out:find("2\n$"), out)
    out, err, status = remsh(addr, "1 + 1\n", "--secret " .. quote(wrong))
    assert.are.equal(1, status)
    assert.are.equal("", out)
    assert.are.equal("heirloom: console refused: wrong secret\n", err)
    out, err, status = remsh(addr, "1 + 1\n")
    assert.are.equal(1, status)
    assert.are.equal("heirloom: console refused: wrong secret\n", err)
    assert.is_truthy(has(node.output(), "heirloom: console refused: wrong secret"), node.output())
    assert.is_nil(node.status())
    node.stop()
    assert.are.equal(0, node.status())
  end)

  it("node.console = 'tcp::PORT' listens on 127.0.0.1, with node.console_secret", function()
    local right = secrets()
    write(dir .. "/tcp_worker.lua", "return { loop = function() require('heirloom').receive() end }\n")
    write(dir .. "/tcpapp.lua", ("return { name = 'tcpapp', main = { 'tcp_worker', 'loop' }, " ..
                                 "node = { console = 'tcp::0', console_secret = %q } }\n"):format(right))
    local node = start_bg("run " .. quote(dir .. "/tcpapp.lua"))
    local addr = tcp_address(node)
    local out, err, status = remsh(addr, "6 * 7\n", "--secret " .. quote(right))
    assert.are.equal(0, status, err)
    assert.is_truthy(out:find("42\n$"), out)
    node.stop()
  end)

  it("a tcp console without a secret is refused at start, saying why; so is a bad address", function()
    local out, err, status = heirloom("run " .. quote(APPS .. "app.lua") .. " --console tcp:127.0.0.1:0")
    assert.are.equal(1, status)
    assert.are.equal("", out)
    assert.are.equal("heirloom: --console tcp:127.0.0.1:0: a console on a network port needs a secret " ..
                     "(--console-secret FILE or node.console_secret: a file only you can read)\n", err)
    local right = secrets()
    for _, bad in ipairs({ "tcp:127.0.0.1", "tcp:127.0.0.1:http", "tcp:127.0.0.1:70000", "tcp:example.com:0" }) do
      out, err, status = heirloom("run " .. quote(APPS .. "app.lua") .. " --console " .. bad ..
                                  " --console-secret " .. quote(right))
      assert.are.equal(1, status, bad)
      assert.is_truthy(has(err, "heirloom: --console " .. bad .. ": "), err)
      assert.is_nil(err:find("started", 1, true))
    end
    _, err, status = remsh("tcp:127.0.0.1:http", "")
    assert.are.equal(1, status)
    assert.is_truthy(has(err, "heirloom: --attach tcp:127.0.0.1:http: "), err)
  end)

  it("usage: remsh needs a path; --secret only with --attach; no console there is an error", function()
    local _, err, status = heirloom("remsh")
    assert.are.equal(2, status)
    assert.is_truthy(has(err, "remsh: which console?"), err)
    _, err, status = heirloom("shell --secret x")
    assert.are.equal(2, status)
    assert.is_truthy(has(err, "--secret: only with --attach"), err)
    _, err, status = remsh(sock, "1\n")
    assert.are.equal(1, status)
    assert.is_truthy(has(err, "heirloom: --attach " .. sock .. ": no console there"), err)
    local out = heirloom("--help")
    assert_in_order(out, "heirloom shell --attach PATH", "heirloom remsh PATH", "--console [PATH]",
                    "--console-secret FILE", "--secret FILE")
  end)
end)
