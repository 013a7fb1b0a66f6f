-- cli_spec.lua — layer 9: the heirloom command, run as a child program
-- (build/heirloom, or $HEIRLOOM_BUILD/heirloom): --help and --version,
-- application files that do not compile or do not describe an
-- application, `run` stopped by a signal or by its own crash, and the
-- shell driven through a pipe.
local hl = require("heirloom")

local HERE = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local S = dofile(HERE .. "support/hlspec.lua")
local APPS = HERE .. "support/cli_app/"
local BUILD = os.getenv("HEIRLOOM_BUILD") or "build"
local HEIRLOOM = BUILD .. "/heirloom"

local quote = S.quote
local sleep, wait_for, assert_in_order = S.sleep, S.wait_for, S.assert_in_order
local heirloom = S.heirloom

local read, write = S.read_file, S.write_file

-- A fresh path for an application file: the command wants its ".lua".
-- The file os.tmpname() made goes at once, so that nothing is left behind.
local function temp_lua_path()
  local base = os.tmpname()
  os.remove(base)
  return base .. ".lua"
end

-- `heirloom run APP` in the background: its output file, pid and the
-- file its exit status will be written to.
local function start_run(app)
  local base = os.tmpname()
  local script = string.format("%s run %s >%s 2>&1 </dev/null & echo $! >%s; wait $!; echo $? >%s",
                               quote(HEIRLOOM), quote(app), base .. ".out", base .. ".pid",
                               base .. ".status")
  os.execute("sh -c " .. quote(script) .. " >/dev/null 2>&1 &")
  assert(wait_for(function() return (read(base .. ".pid") or ""):match("%d+") ~= nil end),
         "heirloom run did not start")
  return {
    base = base,
    pid = read(base .. ".pid"):match("%d+"),
    output = function() return read(base .. ".out") or "" end,
    status = function() return tonumber((read(base .. ".status") or ""):match("%d+")) end,
    clean = function()
      for _, ext in ipairs({ "", ".out", ".pid", ".status" }) do os.remove(base .. ext) end
    end,
  }
end

-- `heirloom shell APP` in the background, reading from a fifo that stays
-- open (so only a signal ends it), with input written into it first.
local function start_shell(app, input)
  local base = os.tmpname()
  os.remove(base)
  os.execute("mkfifo " .. base .. ".fifo")
  local script = string.format(
    "exec 3<>%s; printf '%%s' %s >&3; %s shell %s <%s >%s 2>&1 & echo $! >%s; wait $!; echo $? >%s",
    base .. ".fifo", quote(input), quote(HEIRLOOM), quote(app), base .. ".fifo", base .. ".out",
    base .. ".pid", base .. ".status")
  os.execute("sh -c " .. quote(script) .. " >/dev/null 2>&1 &")
  assert(wait_for(function() return (read(base .. ".pid") or ""):match("%d+") ~= nil end),
         "heirloom shell did not start")
  return {
    pid = read(base .. ".pid"):match("%d+"),
    output = function() return read(base .. ".out") or "" end,
    status = function() return tonumber((read(base .. ".status") or ""):match("%d+")) end,
    clean = function()
      for _, ext in ipairs({ ".fifo", ".out", ".pid", ".status" }) do os.remove(base .. ext) end
    end,
  }
end

local function signal(run, sig)
  os.execute("kill -" .. sig .. " " .. run.pid .. " 2>/dev/null")
end

describe("heirloom command #child", function()
  it("exists (make builds it)", function()
    assert.is_truthy(read(HEIRLOOM), "no " .. HEIRLOOM)
  end)

  describe("--help and --version", function()
    it("--help prints the usage on stdout and exits 0", function()
      local out, err, status = heirloom("--help")
      assert.are.equal(0, status)
      assert.are.equal("", err)
      assert_in_order(out, "usage: heirloom run", "heirloom shell", "--schedulers", "--data-dir")
    end)

    it("--version prints HL_VERSION", function()
      local out, _, status = heirloom("--version")
      assert.are.equal(0, status)
      assert.are.equal("heirloom " .. hl.version, out:match("^(heirloom %S+)"))
      assert.is_truthy(hl.version:match("^%d+%.%d+%.%d+$"))
    end)

    it("an unknown command prints the usage on stderr and exits 2", function()
      local out, err, status = heirloom("frobnicate")
      assert.are.equal(2, status)
      assert.are.equal("", out)
      assert_in_order(err, "unknown command 'frobnicate'", "usage: heirloom run")
    end)

    it("an unknown option prints the usage on stderr and exits 2", function()
      local out, err, status = heirloom("run --bogus " .. quote(APPS .. "solo.lua"))
      assert.are.equal(2, status)
      assert.are.equal("", out)
      assert_in_order(err, "unknown option '--bogus'", "usage:")
    end)

    it("a bad --schedulers and a missing application are usage errors", function()
      local _, err, status = heirloom("run --schedulers lots " .. quote(APPS .. "solo.lua"))
      assert.are.equal(2, status)
      assert.is_truthy(err:find("--schedulers: expected an integer from 1 to 1024, got 'lots'", 1, true))
      _, err, status = heirloom("run")
      assert.are.equal(2, status)
      assert.is_truthy(err:find("run: which application?", 1, true))
      _, _, status = heirloom("")
      assert.are.equal(2, status)
    end)
  end)

  describe("application files", function()
    it("a syntax error is reported with the file and line, status 1", function()
      local out, err, status = heirloom("run " .. quote(APPS .. "syntax_error.lua"))
      assert.are.equal(1, status)
      assert.are.equal("", out)
      assert.is_truthy(err:find("syntax_error.lua:5: unexpected symbol near '='", 1, true), err)
    end)

    it("the shell refuses an application file that does not compile", function()
      local out, err, status = heirloom("shell " .. quote(APPS .. "syntax_error.lua"), "1 + 1\n")
      assert.are.equal(1, status)
      assert.are.equal("", out)
      assert.is_truthy(err:find("syntax_error.lua:5:", 1, true), err)
    end)

    it("a wrong node option is reported with the file, the line and what is wrong", function()
      local _, err, status = heirloom("run " .. quote(APPS .. "bad_node.lua"))
      assert.are.equal(1, status)
      assert.is_truthy(err:find(
        'bad_node.lua:7: node.schedulers: expected an integer from 1 to 1024, got "many"', 1, true), err)
    end)

    it("bad log, seed and logger options in the node table are refused, naming the field", function()
      local path = temp_lua_path()
      for _, c in ipairs({
        { "log = { level = 'loud' }", 'node.log.level: expected "debug", "info", "notice", "warning", "error" or "none", got "loud"' },
        { "log = { format = 'xml' }", 'node.log.format: expected "text" or "json", got "xml"' },
        { "log = { colour = true }", "node.log.colour: unknown option (known: level, format, verbose)" },
        { "log = 'warning'", "node.log: expected a table, got string" },
        { "logger = 'file'", 'node.logger: expected "stderr" or "silent", got "file"' },
        { "seed = 0", "node.seed: expected a non-zero integer, got 0" },
        { "colour = true", "node.colour: unknown option (known: schedulers, data_dir, memory_limit, seed, logger, log" },
      }) do
        write(path, "return { name = 'x', node = { " .. c[1] .. " }, main = { 'm', 'f' } }\n")
        local _, err, status = heirloom("run " .. quote(path))
        assert.are.equal(1, status)
        assert.is_truthy(err:find(":1: " .. c[2], 1, true), err)
      end
      os.remove(path)
    end)

    it("a bad supervisor spec is reported with the file, the line and the validation message", function()
      local out, err, status = heirloom("run " .. quote(APPS .. "bad_spec.lua"))
      assert.are.equal(1, status)
      assert.are.equal("", out)
      assert.is_truthy(err:find('bad_spec.lua:3: cannot start bad_spec: heirloom.supervisor.start_link: '
        .. 'children[2].restart: expected "permanent", "transient" or "temporary", got "sometimes"',
        1, true), err)
      -- nothing was started
      assert.is_nil(err:find("started", 1, true))
    end)

    it("a file that returns no table, or a table with unknown fields, is refused", function()
      local path = temp_lua_path()
      write(path, "local x = 1\nreturn x\n")
      local _, err, status = heirloom("run " .. quote(path))
      assert.are.equal(1, status)
      assert.is_truthy(err:find(":2: the application file must return a table, got number", 1, true), err)
      write(path, "return {\n  name = 'x',\n  mian = { 'm', 'f' },\n}\n")
      _, err, status = heirloom("run " .. quote(path))
      assert.are.equal(1, status)
      assert.is_truthy(err:find(":1: unknown field 'mian'", 1, true), err)
      write(path, "return { name = 'x' }\n")
      _, err, status = heirloom("run " .. quote(path))
      assert.are.equal(1, status)
      assert.is_truthy(err:find("give either supervisor", 1, true), err)
      os.remove(path)
    end)

    it("a file that returns nothing or nil says what it must return, naming the file", function()
      local path = temp_lua_path()
      for _, case in ipairs({ { "", "1", "nothing" }, { "return\n", "1", "nothing" },
                              { "local x\n\nreturn nil\n", "3", "nil" },
                              { "-- nothing here\nlocal app = {}\n", "2", "nothing" } }) do
        write(path, case[1])
        local out, err, status = heirloom("run " .. quote(path))
        assert.are.equal(1, status)
        assert.are.equal("", out)
        assert.are.equal(("heirloom: %s:%s: the application file must return a table, got %s: "
          .. "return { supervisor = <a supervisor spec> } or { main = { module, function, args... } } "
          .. "(see docs/heirloom-command.md)\n"):format(path, case[2], case[3]), err)
        _, err, status = heirloom("shell " .. quote(path), "1\n")
        assert.are.equal(1, status)
        assert.is_truthy(err:find(path .. ":" .. case[2] .. ": the application file must return a table, got "
          .. case[3], 1, true), err)
      end
      os.remove(path)
    end)

    it("a missing file is reported, status 1", function()
      local _, err, status = heirloom("run /nonexistent/app.lua")
      assert.are.equal(1, status)
      assert.is_truthy(err:find("cannot open /nonexistent/app.lua", 1, true), err)
    end)

    it("a main module that cannot be loaded is reported with the file and line", function()
      local path = temp_lua_path()
      write(path, "return {\n  main = { 'no_such_module_here', 'start' },\n}\n")
      local _, err, status = heirloom("run " .. quote(path))
      os.remove(path)
      assert.are.equal(1, status)
      assert.is_truthy(err:find(":1: cannot start", 1, true), err)
      assert.is_truthy(err:find("no_such_module_here", 1, true), err)
    end)
  end)

  describe("run", function()
    it("SIGTERM stops the application in order and exits 0", function()
      local run = start_run(APPS .. "solo.lua")
      assert.is_true(wait_for(function() return run.output():find("solo started", 1, true) end),
                     run.output())
      assert.is_truthy(run.output():find("solo_worker started", 1, true))
      signal(run, "TERM")
      assert.is_true(wait_for(function() return run.status() ~= nil end), run.output())
      assert.are.equal(0, run.status())
      assert_in_order(run.output(), "heirloom: SIGTERM: stopping solo",
                      "solo_worker stopping (shutdown)", "heirloom: solo stopped")
      run.clean()
    end)

    it("SIGTERM stops a supervision tree right to left, then exits 0", function()
      local run = start_run(APPS .. "app.lua")
      assert.is_true(wait_for(function() return run.output():find("cliapp started", 1, true) end),
                     run.output())
      assert_in_order(run.output(), "first started", "third started", "second started",
                      "heirloom: cliapp started (supervisor <")
      signal(run, "TERM")
      assert.is_true(wait_for(function() return run.status() ~= nil end), run.output())
      assert.are.equal(0, run.status())
      assert_in_order(run.output(), "heirloom: SIGTERM: stopping cliapp",
                      "second stopping (shutdown)", "third stopping (shutdown)",
                      "first stopping (shutdown)", "heirloom: cliapp stopped")
      run.clean()
    end)

    it("a top supervisor that reaches its restart intensity is reported, status 1", function()
      local out, err, status = heirloom("run " .. quote(APPS .. "giveup.lua"))
      assert.are.equal(1, status)
      local _, starts = out:gsub("crasher started", "")
      assert.are.equal(3, starts, out)   -- the first start and intensity = 2 restarts
      assert.is_truthy(err:find("heirloom: giveup: the top supervisor <[%d.]+> exited on its own: shutdown"), err)
    end)

    it("--log warning leaves progress out; each crash's reason is said once, on one line", function()
      local _, err, status = heirloom("run --log warning " .. quote(APPS .. "giveup.lua"))
      assert.are.equal(1, status)
      assert.is_nil(err:find("PROGRESS REPORT", 1, true), err)
      local _, crashes = err:gsub("=CRASH REPORT==== process <[%d.]+> %(registered name %-%) exited: " ..
                                  '{error = "[^"\n]*cli_worker.lua:%d+: crasher gave up"}\n', "")
      assert.are.equal(3, crashes, err)
      local _, reasons = err:gsub("crasher gave up", "")
      assert.are.equal(3, reasons, err)            -- the supervisor's reports point at them
      assert.is_nil(err:find("stack traceback", 1, true), err)
      assert.is_truthy(err:find("heirloom: giveup: the top supervisor <[%d.]+> exited on its own: shutdown"), err)
    end)

    it("--verbose puts the tracebacks in; --log-format json writes JSON lines", function()
      local _, err = heirloom("run --verbose " .. quote(APPS .. "giveup.lua"))
      assert.is_truthy(err:find("traceback = \"stack traceback:\n", 1, true), err)
      _, err = heirloom("run --log-format json " .. quote(APPS .. "giveup.lua"))
      local json, other = 0, 0
      for line in err:gmatch("[^\n]+") do
        if line:match('^{"time":"[^"]+","level":"%a+","pid":"<[%d.]+>","msg":".*"}$') then json = json + 1
        elseif line:match("^heirloom: ") then other = other + 1
        else error("neither a JSON line nor the command's: " .. line) end
      end
      assert.is_true(json >= 9, err)          -- 3 starts, 3 crashes, 3 terminations, and more
      assert.is_true(other >= 1, err)
    end)

    it("node.logger = 'silent' in the application file silences the log", function()
      local _, err, status = heirloom("run " .. quote(APPS .. "quiet.lua"))
      assert.are.equal(1, status)
      assert.is_nil(err:find("REPORT", 1, true), err)
      assert.is_truthy(err:find("heirloom: quiet: the top supervisor <[%d.]+> exited on its own: shutdown"), err)
    end)

    it("a child that cannot start: its reason once, without the module search list", function()
      local _, err, status = heirloom("run " .. quote(APPS .. "missing.lua"))
      assert.are.equal(1, status)
      local _, count = err:gsub("module 'no_such_module_y' not found", "")
      assert.are.equal(1, count, err)
      assert.is_truthy(err:find("(searched package.path and package.cpath; --verbose lists the files)", 1, true), err)
      assert.is_nil(err:find("no file", 1, true), err)
      assert.is_truthy(err:find('cannot start missing: child "ghost" failed to start (the supervisor\'s ' ..
                                "report has the reason)", 1, true), err)
    end)

    it("--schedulers, --seed and --data-dir take effect, as do node.schedulers and node.seed; flags win", function()
      local dir = S.private_dir()
      -- a main that says how many threads the command has and what math.random draws
      write(dir .. "/probe.lua", [[
return { main = function()
  local f = io.open("/proc/self/status")
  local threads = f:read("a"):match("Threads:%s*(%d+)")
  f:close()
  print("threads " .. threads .. " random " .. math.random(1 << 40))
  io.stdout:flush()
end }
]])
      write(dir .. "/plain.lua", "return { name = 'probe', main = { 'probe', 'main' } }\n")
      write(dir .. "/tuned.lua", "return { name = 'probe', main = { 'probe', 'main' }, " ..
                                 "node = { schedulers = 4, seed = 7 } }\n")
      local function probe(args)
        local out, err, status = heirloom("run " .. args)
        assert.are.equal(0, status, err)
        assert.is_truthy(err:find("heirloom: probe finished", 1, true), err)
        local threads, random = out:match("^threads (%d+) random (%d+)\n$")
        assert.is_truthy(threads, out)
        return tonumber(threads), random
      end
      local plain = quote(dir .. "/plain.lua")
      local one = probe("--schedulers 1 " .. plain)
      local four = probe("--schedulers 4 " .. plain)
      assert.are.equal(3, four - one)
      local _, seven = probe("--seed 7 " .. plain)
      local _, again = probe("--seed 7 " .. plain)
      local _, eight = probe("--seed 8 " .. plain)
      assert.are.equal(seven, again)
      assert.are_not.equal(seven, eight)
      local tuned_threads, tuned_random = probe(quote(dir .. "/tuned.lua"))
      assert.are.equal(four, tuned_threads)
      assert.are.equal(seven, tuned_random)
      local flag_threads, flag_random = probe("--schedulers 1 --seed 8 " .. quote(dir .. "/tuned.lua"))
      assert.are.equal(one, flag_threads)
      assert.are.equal(eight, flag_random)
      probe("--data-dir " .. quote(dir .. "/data") .. " " .. plain)
      assert.is_truthy(read(dir .. "/data/CURRENT"), "no store in the --data-dir")
      os.execute("rm -rf " .. quote(dir))
    end)

    it("unknown or bad log options are refused with what is known", function()
      local _, err, status = heirloom("run --loud " .. quote(APPS .. "solo.lua"))
      assert.are.equal(2, status)
      assert.is_truthy(err:find("unknown option '--loud' (known: --schedulers, --data-dir, --seed, --log,", 1, true), err)
      _, err, status = heirloom("run --log chatty " .. quote(APPS .. "solo.lua"))
      assert.are.equal(2, status)
      assert.is_truthy(err:find("--log: expected debug, info, notice, warning, error or none, got 'chatty'", 1, true), err)
      _, err, status = heirloom("run --seed 0 " .. quote(APPS .. "solo.lua"))
      assert.are.equal(2, status)
      assert.is_truthy(err:find("--seed: expected a non-zero integer, got '0'", 1, true), err)
    end)

    it("Ctrl-C (SIGINT) stops it too; a second one kills what does not stop", function()
      local run = start_run(APPS .. "stubborn.lua")
      assert.is_true(wait_for(function() return run.output():find("mule started", 1, true) end),
                     run.output())
      signal(run, "INT")
      assert.is_true(wait_for(function() return run.output():find("mule ignores shutdown", 1, true) end),
                     run.output())
      assert.is_nil(run.status())
      signal(run, "INT")
      assert.is_true(wait_for(function() return run.status() ~= nil end), run.output())
      assert.are.equal(0, run.status())
      assert_in_order(run.output(), "SIGINT: stopping stubborn", "mule ignores shutdown",
                      "SIGINT again: killing stubborn", "stubborn stopped (killed)")
      run.clean()
    end)

    it("SIGTERM while the application's start blocks stops it and exits 0", function()
      local run = start_run(APPS .. "blocked.lua")
      assert.is_true(wait_for(function() return run.output():find("stuck start blocks", 1, true) end),
                     run.output())
      assert.is_truthy(run.output():find("early started", 1, true))
      signal(run, "TERM")
      assert.is_true(wait_for(function() return run.status() ~= nil end, 10), run.output())
      assert.are.equal(0, run.status())
      -- the top supervisor is blocked in its second child's start, where it
      -- cannot see the shutdown: after a grace time it is killed
      assert_in_order(run.output(), "heirloom: SIGTERM: stopping blocked (its start had not finished)",
                      "heirloom: blocked did not stop within 2000 ms: killing it",
                      "heirloom: blocked stopped (killed)")
      run.clean()
    end)

    it("SIGTERM during a start that then finishes stops the application in order", function()
      local run = start_run(APPS .. "slow.lua")
      assert.is_true(wait_for(function() return run.output():find("late start waits", 1, true) end),
                     run.output())
      signal(run, "TERM")
      assert.is_true(wait_for(function() return run.status() ~= nil end, 10), run.output())
      assert.are.equal(0, run.status())
      assert_in_order(run.output(), "heirloom: SIGTERM: stopping slow (its start had not finished)",
                      "late started", "late stopping (shutdown)", "early stopping (shutdown)",
                      "heirloom: slow stopped")
      assert.is_nil(run.output():find("did not stop within", 1, true))
      run.clean()
    end)

    it("a second SIGINT while the blocked start is being stopped kills it at once", function()
      local run = start_run(APPS .. "blocked.lua")
      assert.is_true(wait_for(function() return run.output():find("stuck start blocks", 1, true) end),
                     run.output())
      signal(run, "INT")
      assert.is_true(wait_for(function() return run.output():find("SIGINT: stopping blocked", 1, true) end),
                     run.output())
      signal(run, "INT")
      assert.is_true(wait_for(function() return run.status() ~= nil end, 10), run.output())
      assert.are.equal(0, run.status())
      assert_in_order(run.output(), "SIGINT: stopping blocked", "SIGINT again: killing blocked",
                      "blocked stopped (killed)")
      assert.is_nil(run.output():find("did not stop within", 1, true))
      run.clean()
    end)

    it("a forged EXIT of the top process sent to the command's host is not believed", function()
      local run = start_run(APPS .. "forger.lua")
      assert.is_true(wait_for(function() return run.output():find("forged", 1, true) end), run.output())
      sleep(0.3)
      assert.is_nil(run.status())
      signal(run, "TERM")
      assert.is_true(wait_for(function() return run.status() ~= nil end, 10), run.output())
      assert.are.equal(0, run.status())
      assert.is_nil(run.output():find("exited on its own", 1, true))
      run.clean()
    end)

    it("a top process that dies on its own is reported and the status is 1", function()
      local out, err, status = heirloom("run " .. quote(APPS .. "crasher.lua"))
      assert.are.equal(1, status)
      assert.is_truthy(out:find("crasher started", 1, true))
      assert.is_truthy(err:find("exited on its own: .*crasher gave up"), err)
    end)
  end)

  describe("durable tables", function()
    it("shows progress while a large table loads, and the table can be claimed", function()
      local dir = os.tmpname()
      os.remove(dir)
      local out, err, status = heirloom("shell --data-dir " .. quote(dir), table.concat({
        "t = hl.table.new('big', { durable = true, custody = true })",
        "for i = 1, 150 do local b = {} for j = 1, 1000 do b[j] = { (i - 1) * 1000 + j, i } end t:insert_many(b) end",
        "t:info().size",
      }, "\n") .. "\n")
      assert.are.equal(0, status, err)
      assert.are.equal("150000\n", out)
      out, err, status = heirloom("shell --data-dir " .. quote(dir),
        "hl.table.claim('big'):info().size\n")
      assert.are.equal(0, status, err)
      assert.are.equal("150000\n", out)
      assert_in_order(err, "loading table 'big' (150000 keys)",
        "loading table 'big': 65536 of 150000 keys (43%)",
        "loading table 'big': 131072 of 150000 keys (87%)",
        "table 'big' loaded")
      os.execute("rm -rf " .. quote(dir))
    end)
  end)

  describe("shell through a pipe", function()
    it("prints expressions, runs statements and multi-line chunks, without prompts", function()
      local out, err, status = heirloom("shell", table.concat({
        "1 + 2",
        "x = 20",
        "x * 2, 'two'",
        "for i = 1, 3 do",
        "  io.write(i, ';')",
        "end",
        "print('')",
        "{ 1, 2, key = 'v', nested = { true } }",
        "local t = {}",
        "return 1.5",
      }, "\n") .. "\n")
      assert.are.equal(0, status)
      assert.are.equal("", err)
      assert.are.equal("3\n40\ttwo\n1;2;3;\n{1, 2, key = \"v\", nested = {true}}\n1.5\n", out)
    end)

    it("reports errors on stderr with the line, and goes on", function()
      local out, err, status = heirloom("shell", "error('boom')\nx = = 1\n7\n")
      assert.are.equal(0, status)
      assert.are.equal("7\n", out)
      assert.is_truthy(err:find("stdin:1: boom", 1, true), err)
      assert.is_truthy(err:find("stdin:1: unexpected symbol near '='", 1, true), err)
    end)

    it("reports a chunk left unfinished at the end of the input", function()
      local out, err, status = heirloom("shell", "for i = 1, 2 do\n")
      assert.are.equal(0, status)
      assert.are.equal("", out)
      assert.is_truthy(err:find("<eof>", 1, true), err)
    end)

    it("i() lists a table the shell created: name, type, size, owner", function()
      local out, err, status = heirloom("shell", table.concat({
        "t = hl.table.new('scores', { type = 'ordered_set', named = true })",
        "t:insert({ 'ann', 1 }, { 'bob', 2 }, { 'cy', 3 })",
        "print('self ' .. tostring(hl.self()))",
        "i()",
      }, "\n") .. "\n")
      assert.are.equal(0, status)
      assert.are.equal("", err)
      local me = out:match("self (<[%d.]+>)")
      assert.is_truthy(me, out)
      assert_in_order(out, "name", "type", "size", "memory", "owner", "heir")
      local row = out:match("\n(scores%s[^\n]*)")
      assert.is_truthy(row, out)
      local name, ttype, size, memory, owner, heir = row:match("^(%S+)%s+(%S+)%s+(%S+)%s+(%S+)%s+(%S+)%s+(%S+)$")
      assert.are.same({ "scores", "ordered_set", "3", me, "-" }, { name, ttype, size, owner, heir })
      assert.is_true(tonumber(memory) > 0)
    end)

    it("ps() lists the shell's own process and the application's", function()
      local out, err, status = heirloom("shell " .. quote(APPS .. "solo.lua"), table.concat({
        "hl.await_name('solo_worker', 5000)",
        "print('self ' .. tostring(hl.self()))",
        "print('worker ' .. tostring(hl.whereis('solo_worker')))",
        "ps()",
      }, "\n") .. "\n")
      assert.are.equal(0, status)
      local me = out:match("self (<[%d.]+>)")
      local worker = out:match("worker (<[%d.]+>)")
      assert.is_truthy(me and worker, out)
      assert_in_order(out, "pid", "name", "status", "mailbox", "memory")
      assert.is_truthy(out:find(me:gsub("%p", "%%%0") .. "%s+%(shell%)%s+%-%s+running"), out)
      assert.is_truthy(out:find(worker:gsub("%p", "%%%0") .. "%s+solo_worker%s+cli_worker%s+%a+%s+%d+%s+%d+"), out)
      -- the end of the input stops the application in order
      assert_in_order(err, "heirloom: stopping solo", "heirloom: solo stopped")
      assert.is_truthy(out:find("solo_worker stopping (shutdown)", 1, true), out)
    end)

    it("says once when the application's top process exits under it", function()
      local out, err, status = heirloom("shell " .. quote(APPS .. "solo.lua"), table.concat({
        "hl.exit(hl.await_name('solo_worker', 5000), 'kill')",
        "hl.sleep(500)",
        "1",
        "flush()",
      }, "\n") .. "\n")
      assert.are.equal(0, status)
      assert.are.equal("solo_worker started\ntrue\n1\nno messages\n", out)
      local _, count = err:gsub("heirloom: solo: the main process <[%d.]+> exited: killed", "")
      assert.are.equal(1, count, err)
      assert.is_nil(err:find("stopping solo", 1, true))
    end)

    it("tree() shows the application's supervision tree, nested, with restarted pids", function()
      local out, err, status = heirloom("shell " .. quote(APPS .. "app.lua"), table.concat({
        "old = hl.await_name('second', 5000)",
        "tree()",
        "hl.exit(old, 'kill')",
        "repeat hl.sleep(10) until hl.whereis('second') and hl.whereis('second') ~= old",
        "print('new ' .. tostring(hl.whereis('second')))",
        "tree()",
        "tree('inner_sup')",
      }, "\n") .. "\n")
      assert.are.equal(0, status, err)
      -- The first tree() is the one before the restart. A process there may
      -- still be runnable, just started: its status is any word.
      local before = out:sub(1, (out:find("new <", 1, true) or #out + 1) - 1)
      local sup, first, inner, third, second =
        before:match("cliapp  (<[%d.]+>)  supervisor  %a+\n" ..
                     "|%-%- first  (<[%d.]+>)  worker  %a+\n" ..
                     "|%-%- inner  (<[%d.]+>)  supervisor  %a+\n" ..
                     "|   `%-%- third  (<[%d.]+>)  worker  %a+\n" ..
                     "`%-%- second  (<[%d.]+>)  worker  %a+\n")
      assert.is_truthy(sup, out)
      local new = out:match("new (<[%d.]+>)")
      assert.are_not.equal(second, new)
      assert_in_order(out, "new " .. new, "cliapp  " .. sup, "first  " .. first, "inner  " .. inner,
                      "third  " .. third, "second  " .. new .. "  worker  ",
                      "inner_sup  <", "`-- third  " .. third .. "  worker  ")
      assert_in_order(err, "heirloom: stopping cliapp", "heirloom: cliapp stopped")
      assert_in_order(out, "second stopping (shutdown)", "third stopping (shutdown)",
                      "first stopping (shutdown)")
    end)

    it("tree() shows a child that is not running, with its status", function()
      local out, err, status = heirloom("shell " .. quote(APPS .. "solo.lua"), table.concat({
        "sup = hl.supervisor.start_link({ name = 'tsup', children = {" ..
          "{ id = 'w', start = { 'heirloom.supervisor', 'spawn_link', 'cli_worker', 'loop', 'tw' } } } })",
        "hl.supervisor.terminate_child(sup, 'w')",
        "tree('tsup')",
      }, "\n") .. "\n")
      assert.are.equal(0, status, err)
      assert.is_truthy(out:find("tsup  <[%d.]+>  supervisor  waiting\n`%-%- w  %-  worker  not running\n"), out)
    end)

    it("tree() without an application says so; it shows a supervisor started at the prompt", function()
      local out, _, status = heirloom("shell " .. quote(APPS .. "solo.lua"), table.concat({
        "tree()",
        "sup = hl.supervisor.start_link{ name = 'adhoc', strategy = 'one_for_one', children = {",
        "  { id = 'w', start = { 'cli_worker', 'start_link', 'adhoc_w' } } } }",
        "tree()",
      }, "\n") .. "\n")
      assert.are.equal(0, status)
      assert_in_order(out, "no supervision tree", "adhoc  <", "`-- w  <")
    end)

    it("ps() shows each process's module; ps(x) and i(x) one process in detail", function()
      local out, err, status = heirloom("shell " .. quote(APPS .. "app.lua"), table.concat({
        "w = hl.await_name('second', 5000)",
        "print('second ' .. tostring(w))",
        "ps()",
        "ps('second')",
        "i(tostring(w))",
        "ps(w)",
        "ps('nobody')",
        "i('<0.x>')",
      }, "\n") .. "\n")
      assert.are.equal(0, status, err)
      local w = out:match("second (<[%d.]+>)")
      local pat = w:gsub("%p", "%%%0")
      assert_in_order(out, "pid", "name", "module", "status", "mailbox", "memory", "function")
      assert.is_truthy(out:find("cliapp_sup%s+heirloom.supervisor%s+%a+"), out)
      assert.is_truthy(out:find(pat .. "%s+second%s+cli_worker%s+waiting%s+0%s+%d+%s+cli_worker.lua:%d+"), out)
      assert.is_nil(out:find("/lua/heirloom/", 1, true), out)   -- tidy paths
      local _, details = out:gsub("pid%s+" .. pat .. "\nname%s+second\nmodule%s+cli_worker\n" ..
                                  "initial_call%s+cli_worker:loop\ncurrent_function%s+cli_worker.lua:%d+[^\n]*\n" ..
                                  "status%s+waiting\nmailbox%s+0\nmemory%s+%d+\nslices%s+%d+\n" ..
                                  "messages_received%s+%d+\ntrap_exit%s+true\nlinks%s+<[%d.]+>\n" ..
                                  "monitors%s+%-\ntables%s+%-\n", "")
      assert.are.equal(3, details, out)
      assert.is_truthy(err:find('ps: no process is registered as "nobody"', 1, true), err)
      assert.is_truthy(err:find("i: <0.x> is not a pid's text", 1, true), err)
    end)

    it("ps(p) and i(p) show the first messages waiting in a process's mailbox, long ones cut", function()
      local out, err, status = heirloom("shell", table.concat({
        "w = hl.spawn(function() require('heirloom').receive(function(m) return m == 'go' end) end)",
        "hl.send(w, { 'job', 1 })",
        "hl.send(w, 'second')",
        "hl.send(w, string.rep('x', 300))",
        "repeat hl.sleep(10) until hl.process_info(w).message_queue_len == 3",
        "ps(w)",
        "for k = 4, 9 do hl.send(w, k) end",
        "repeat hl.sleep(10) until hl.process_info(w).message_queue_len == 9",
        "i(w)",
      }, "\n") .. "\n")
      assert.are.equal(0, status, err)
      local cut = '"' .. string.rep("x", 96) .. "...\n"
      local first = "status%s+waiting\nmailbox%s+3\nmessages%s+{\"job\", 1}\n%s+\"second\"\n%s+" ..
                    cut:gsub("%p", "%%%0") .. "memory%s+%d+\n"
      assert.is_truthy(out:find(first), out)
      local second = "mailbox%s+9\nmessages%s+{\"job\", 1}\n%s+\"second\"\n%s+\"x+%.%.%.\n%s+4\n%s+5\n" ..
                     "%s+%(5 of 9 shown%)\nmemory"
      assert.is_truthy(out:find(second), out)
    end)

    it("kill(name) kills a registered process, pid(text) finds one, top() sorts them", function()
      local out, err, status = heirloom("shell " .. quote(APPS .. "app.lua"), table.concat({
        "old = hl.await_name('second', 5000)",
        "pid(tostring(old)) == old",
        "kill('second')",
        "repeat hl.sleep(10) until hl.whereis('second') and hl.whereis('second') ~= old",
        "hl.process_info(old)",
        "f = hl.whereis('first')",
        "kill(f, 'shutdown')",
        "repeat hl.sleep(10) until hl.whereis('first') and hl.whereis('first') ~= f",
        "top('memory', 2)",
        "top('slices')",
        "top('cpu')",
      }, "\n") .. "\n")
      assert.are.equal(0, status, err)
      -- each on its line; the restarted worker's "second started" may come between
      assert_in_order(out, "true\n", "true\n", "nil\n")
      assert.is_truthy(err:find('process <[%d.]+> %(registered name second%) exited: "killed"'), err)
      assert.is_truthy(err:find('child "second" <[%d.]+> terminated %(its crash report has the reason%)'), err)
      assert.is_truthy(err:find('child "first" <[%d.]+> terminated, reason: "shutdown"'), err)
      -- top(memory, 2): the header and two rows, the supervisors first
      local block = out:match("pid%s+name%s+module%s+memory%s+mailbox%s+slices\n[^\n]*\n[^\n]*\n")
      assert.is_truthy(block, out)
      local m1, m2 = block:match("\n<[%d.]+>%s+%S+%s+%S+%s+(%d+)[^\n]*\n<[%d.]+>%s+%S+%s+%S+%s+(%d+)")
      assert.is_true(tonumber(m1) >= tonumber(m2), block)
      assert.is_truthy(block:find("cliapp_sup", 1, true), block)
      assert.is_truthy(err:find('top: argument 1 must be "memory", "mailbox" or "slices" (got "cpu")', 1, true), err)
    end)

    it("t(name, n) shows a table's info and its first n objects", function()
      local out, err, status = heirloom("shell", table.concat({
        "s = hl.table.new('scores', { type = 'ordered_set', named = true })",
        "s:insert({ 'ann', 1 }, { 'bob', 2 }, { 'cy', 3 })",
        "t('scores', 2)",
        "t(s)",
        "t('nothing')",
      }, "\n") .. "\n")
      assert.are.equal(0, status, err)
      assert_in_order(out, "name    scores\ntype    ordered_set\nsize    3\nmemory  ",
                      "access  protected\nkeypos  1\n", '{"ann", 1}\n{"bob", 2}\n(2 of 3 objects)\n',
                      "name    scores", '{"ann", 1}\n{"bob", 2}\n{"cy", 3}\n')
      assert.is_truthy(err:find('t: no named table "nothing"', 1, true), err)
    end)

    it("restart() starts the application again after its top supervisor gave up", function()
      local out, err, status = heirloom("shell " .. quote(APPS .. "giveup.lua"), table.concat({
        "restart()",
        "repeat hl.sleep(20) until hl.whereis('giveup_sup') == nil",
        "hl.sleep(100)",
        "restart()",
        "hl.whereis('giveup_sup') ~= nil",
      }, "\n") .. "\n", 60)
      assert.are.equal(0, status, err)
      assert.is_truthy(err:find("restart: giveup is running", 1, true), err)
      assert_in_order(err, "the top supervisor <", "exited: shutdown", "heirloom: giveup started again (<")
      assert.is_truthy(out:find("true\n", 1, true), out)
    end)

    it("help() lists every helper; top('mailbox') puts the longest mailbox first", function()
      local out, err, status = heirloom("shell", table.concat({
        "help()",
        "w = hl.spawn(function() require('heirloom').receive(function(m) return m == 'go' end) end)",
        "for k = 1, 5 do hl.send(w, k) end",
        "repeat hl.sleep(10) until hl.process_info(w).message_queue_len == 5",
        "print('busy ' .. tostring(w))",
        "top('mailbox', 1)",
      }, "\n") .. "\n")
      assert.are.equal(0, status, err)
      assert_in_order(out, "i()", "ps()", "ps(p), i(p)", "top([by [, n]])", "t(tab [, n])", "tree([sup])",
                      "kill(p [, why])", 'pid("<0.7.1>")', "restart()", "flush()", "show(v)",
                      "Ctrl-D leaves (stopping the application).")
      local w = out:match("busy (<[%d.]+>)")
      assert.is_truthy(out:find("pid%s+name%s+module%s+memory%s+mailbox%s+slices\n" .. w:gsub("%p", "%%%0") ..
                                "%s+%-%s+%-%s+%d+%s+5%s+%d+\n$"), out)
    end)

    it("flush() shows the messages sent to the shell", function()
      local out, _, status = heirloom("shell", "local _ = hl.send(hl.self(), { 'hello', 42 })\nflush()\nflush()\n")
      assert.are.equal(0, status)
      assert.are.equal('shell got {"hello", 42}\nno messages\n', out)
    end)

    it("the application's directory is on package.path", function()
      local out, _, status = heirloom("shell " .. quote(APPS .. "solo.lua"),
                                      "type(require('cli_worker').loop)\n")
      assert.are.equal(0, status)
      assert.is_truthy(out:find("function\n", 1, true), out)
    end)

    it("tree(hl.self()) and which_children(hl.self()) fail at once instead of hanging", function()
      local out, err, status = heirloom("shell", table.concat({
        "tree(hl.self())",
        "print(pcall(hl.supervisor.which_children, hl.self()))",
        "print('done')",
      }, "\n") .. "\n", 20)
      assert.are.equal(0, status, err)
      assert.is_truthy(out:find("(which_children failed: heirloom.supervisor.which_children: " ..
        "calling_self: a process cannot call itself", 1, true), out)
      assert.is_truthy(out:find("false\theirloom.supervisor.which_children: calling_self", 1, true), out)
      assert.is_truthy(out:find("done\n", 1, true), out)
    end)

    for _, sig in ipairs({ "TERM", "HUP" }) do
      it("SIG" .. sig .. " ends a shell whose chunk is blocked in hl.receive(), stopping the application", function()
        local sh = start_shell(APPS .. "solo.lua", "io.stdout:write('waiting\\n'); io.stdout:flush()\nhl.receive()\nprint('not reached')\n")
        assert.is_true(wait_for(function() return sh.output():find("waiting", 1, true) end), sh.output())
        sleep(0.2)
        assert.is_nil(sh.status())
        os.execute("kill -" .. sig .. " " .. sh.pid)
        assert.is_true(wait_for(function() return sh.status() ~= nil end, 10), sh.output())
        assert.are.equal(0, sh.status())
        local out = sh.output()
        assert_in_order(out, "interrupted", "SIG" .. sig .. ": leaving the shell",
                        "stopping solo", "solo_worker stopping (shutdown)", "solo stopped")
        assert.is_nil(out:find("not reached", 1, true))
        sh.clean()
      end)
    end

    it("SIGINT interrupts a chunk blocked in hl.receive(); the next chunks wait as usual", function()
      local sh = start_shell(APPS .. "solo.lua", table.concat({
        "io.stdout:write('waiting\\n'); io.stdout:flush()",
        "hl.receive()",
        "io.stdout:write(tostring(hl.receive(200)) .. ' after 200 ms\\n'); io.stdout:flush()",
      }, "\n") .. "\n")
      assert.is_true(wait_for(function() return sh.output():find("waiting", 1, true) end), sh.output())
      sleep(0.2)
      os.execute("kill -INT " .. sh.pid)
      assert.is_true(wait_for(function() return sh.output():find("after 200 ms", 1, true) end, 10),
                     sh.output())
      assert.is_nil(sh.status())
      os.execute("kill -TERM " .. sh.pid)
      assert.is_true(wait_for(function() return sh.status() ~= nil end, 10), sh.output())
      assert.are.equal(0, sh.status())
      assert_in_order(sh.output(), "waiting", "interrupted", "nil after 200 ms",
                      "SIGTERM: leaving the shell", "solo stopped")
      sh.clean()
    end)

    it("SIGINT interrupts a chunk in hl.sleep and one in a busy loop at once", function()
      -- a loop ends through the hook, at once: the watcher thread may see
      -- the signal only after the chunk ended, and must still not take it
      -- for a Ctrl-C at the prompt (which ends a shell reading a pipe)
      local lines = { "io.stdout:write('sleeping\\n'); io.stdout:flush()", "hl.sleep(600000)" }
      for k = 1, 4 do
        lines[#lines + 1] = "io.stdout:write('looping " .. k .. "\\n'); io.stdout:flush()"
        lines[#lines + 1] = "while true do end"
      end
      lines[#lines + 1] = "io.stdout:write('back at the prompt\\n'); io.stdout:flush()"
      local sh = start_shell(APPS .. "solo.lua", table.concat(lines, "\n") .. "\n")
      assert.is_true(wait_for(function() return sh.output():find("sleeping", 1, true) end), sh.output())
      sleep(0.2)
      os.execute("kill -INT " .. sh.pid)
      for k = 1, 4 do
        assert.is_true(wait_for(function() return sh.output():find("looping " .. k, 1, true) end, 10),
                       sh.output())
        sleep(0.2)
        os.execute("kill -INT " .. sh.pid)
      end
      assert.is_true(wait_for(function() return sh.output():find("back at the prompt", 1, true) end, 10),
                     sh.output())
      assert.is_nil(sh.status())
      os.execute("kill -TERM " .. sh.pid)
      assert.is_true(wait_for(function() return sh.status() ~= nil end, 10), sh.output())
      assert.are.equal(0, sh.status())
      assert_in_order(sh.output(), "sleeping", "interrupted", "looping", "interrupted",
                      "back at the prompt", "SIGTERM: leaving the shell", "solo stopped")
      sh.clean()
    end)

    it("SIGTERM while the shell's application start blocks stops it and exits 0", function()
      local sh = start_shell(APPS .. "blocked.lua", "print('prompt reached')\n")
      assert.is_true(wait_for(function() return sh.output():find("stuck start blocks", 1, true) end),
                     sh.output())
      os.execute("kill -TERM " .. sh.pid)
      assert.is_true(wait_for(function() return sh.status() ~= nil end, 10), sh.output())
      assert.are.equal(0, sh.status())
      assert_in_order(sh.output(), "SIGTERM: stopping blocked (its start had not finished)",
                      "blocked stopped (killed)")
      assert.is_nil(sh.output():find("prompt reached", 1, true))
      sh.clean()
    end)

    it("SIGTERM ends a shell that waits for input, stopping the application", function()
      local base = os.tmpname()
      -- the shell reads from a fifo that stays open, so only the signal ends it
      os.remove(base)
      os.execute("mkfifo " .. base .. ".fifo")
      local script = string.format(
        "exec 3<>%s; %s shell %s <%s >%s 2>&1 & echo $! >%s; wait $!; echo $? >%s",
        base .. ".fifo", quote(HEIRLOOM), quote(APPS .. "solo.lua"), base .. ".fifo",
        base .. ".out", base .. ".pid", base .. ".status")
      os.execute("sh -c " .. quote(script) .. " >/dev/null 2>&1 &")
      assert.is_true(wait_for(function()
        return (read(base .. ".out") or ""):find("solo_worker started", 1, true) ~= nil
      end), read(base .. ".out"))
      local pid = read(base .. ".pid"):match("%d+")
      os.execute("kill -TERM " .. pid)
      assert.is_true(wait_for(function() return read(base .. ".status") ~= nil end))
      local out = read(base .. ".out")
      assert.are.equal(0, tonumber(read(base .. ".status"):match("%d+")))
      assert_in_order(out, "SIGTERM: leaving the shell", "stopping solo",
                      "solo_worker stopping (shutdown)", "solo stopped")
      for _, ext in ipairs({ ".fifo", ".out", ".pid", ".status" }) do os.remove(base .. ext) end
    end)
  end)
end)
