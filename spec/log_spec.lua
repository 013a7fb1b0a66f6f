-- log_spec.lua — the node's log: hl.log's levels, the caller's pid and
-- the time on each line, text and JSON lines, the level, format and
-- verbosity set at start and at run time, and reports that say a reason
-- once, on one line, without a traceback unless asked.
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local hl = S.hl
local expect, tagged = S.expect, S.tagged

local TIME = "%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ"

local function esc(s) return (s:gsub("%p", "%%%0")) end

describe("hl.log", function()
  after_each(function() pcall(hl.stop) end)

  it("writes one line per call: time, level, the caller's pid, the message", function()
    hl.start{ schedulers = 2, logger = "capture" }
    hl.log.info("user %s logged in %d times", "ann", 3)
    hl.log.error("plain text, no format")
    local lines = hl.logs()
    assert.are.equal(2, #lines)
    assert.is_truthy(lines[1]:match("^" .. TIME .. " info " .. esc(tostring(hl.self())) ..
                                     " user ann logged in 3 times$"), lines[1])
    assert.is_truthy(lines[2]:match("^" .. TIME .. " error <[%d.]+> plain text, no format$"), lines[2])
  end)

  it("names the process that logged, which the node knows", function()
    hl.start{ schedulers = 2, logger = "capture" }
    local pid = hl.spawn(function(to)
      local hl = require("heirloom")
      hl.log.warning("from a process")
      hl.send(to, { "logged" })
    end, hl.self())
    expect(tagged("logged"))
    local lines = hl.logs()
    assert.are.equal(1, #lines)
    assert.is_truthy(lines[1]:find(" warning " .. tostring(pid) .. " from a process", 1, true), lines[1])
  end)

  it("writes a table of facts as the shell shows values", function()
    hl.start{ schedulers = 2, logger = "capture" }
    hl.log.notice({ event = "login", user = "ann", tries = 2, ["odd key"] = true })
    local line = hl.logs()[1]
    assert.is_truthy(line:find(' notice <[%d.]+> {event = "login", %["odd key"%] = true, tries = 2, user = "ann"}$'),
                     line)
  end)

  it("drops lines below the level, without formatting them", function()
    hl.start{ schedulers = 2, logger = "capture", log = { level = "warning" } }
    hl.log.debug("d")
    hl.log.info("i")
    hl.log.notice("n")
    hl.log.warning("w")
    hl.log.error("e")
    -- a dropped line is not formatted: a bad format argument goes unnoticed
    hl.log.info("%d", "not a number")
    local lines = hl.logs()
    assert.are.equal(2, #lines)
    assert.is_truthy(lines[1]:find(" warning <[%d.]+> w$"))
    assert.is_truthy(lines[2]:find(" error <[%d.]+> e$"))
  end)

  it("level(), format() and verbose() read and change the log at run time", function()
    hl.start{ schedulers = 2, logger = "capture" }
    assert.are.equal("info", hl.log.level())
    assert.are.equal("info", hl.log.level("error"))
    assert.are.equal("error", hl.log.level())
    hl.log.warning("dropped")
    assert.are.same({}, hl.logs())
    hl.log.level("debug")
    hl.log.debug("kept")
    assert.are.equal(1, #hl.logs())
    assert.are.equal("text", hl.log.format("json"))
    assert.are.equal("json", hl.log.format())
    assert.is_false(hl.log.verbose(true))
    assert.is_true(hl.log.verbose())
    hl.log.level("none")
    hl.log.error("nothing at all")
    assert.are.same({}, hl.logs())
  end)

  it("brief(text) cuts a module search list as the log does, unless the log is verbose", function()
    hl.start{ schedulers = 2, logger = "capture" }
    local ok, err = pcall(require, "no_such_module_z")
    assert.is_false(ok)
    assert.is_truthy(err:find("\n\tno file", 1, true))
    assert.are.equal("module 'no_such_module_z' not found (searched package.path and package.cpath; " ..
                     "--verbose lists the files)", hl.log.brief(err))
    assert.are.equal("no list here\n", hl.log.brief("no list here\n"))
    hl.log.verbose(true)
    assert.are.equal(err, hl.log.brief(err))
    assert.error_matches(function() hl.log.brief({}) end,
                         "^heirloom%.log%.brief: argument 1 must be a string %(got table%)")
  end)

  it("JSON lines carry time, level, pid and msg, escaped", function()
    hl.start{ schedulers = 2, logger = "capture", log = { format = "json" } }
    hl.log.error('a "quoted"\nmessage\\')
    local line = hl.logs()[1]
    local time, pid = line:match('^{"time":"(' .. TIME .. ')","level":"error","pid":"(<[%d.]+>)",' ..
                                 '"msg":"a \\"quoted\\"\\nmessage\\\\"}$')
    assert.is_truthy(time, line)
    assert.are.equal(tostring(hl.self()), pid)
  end)

  it("refuses bad arguments, naming the function", function()
    hl.start{ schedulers = 2, logger = "capture" }
    local cases = {
      { hl.log.info, {}, "heirloom.log.info: missing argument 'message'" },
      { hl.log.warning, { {}, 1 }, "heirloom.log.warning: argument 1 must be a format string" },
      { hl.log.error, { { f = print } }, "heirloom.log.error: message.f: cannot encode a function" },
      { hl.log.level, { "loud" }, 'heirloom.log.level: argument 1 must be "debug", "info", "notice", "warning", "error" or "none" (got loud)' },
      { hl.log.format, { "xml" }, 'heirloom.log.format: argument 1 must be "text" or "json" (got xml)' },
      { hl.log.verbose, { "yes" }, "heirloom.log.verbose: argument 1 must be a boolean (got string)" },
    }
    for _, c in ipairs(cases) do
      local ok, e = pcall(c[1], table.unpack(c[2]))
      assert.is_false(ok)
      assert.is_truthy(tostring(e):find(c[3], 1, true), e)
    end
    hl.stop()
    for _, bad in ipairs({
      { { log = "warning" }, "heirloom.start: opts.log must be a table" },
      { { log = { level = "loud" } }, "heirloom.start: opts.log.level must be 'debug', 'info', 'notice', 'warning', 'error' or 'none'" },
      { { log = { format = "xml" } }, "heirloom.start: opts.log.format must be 'text' or 'json'" },
      { { log = { verbose = 1 } }, "heirloom.start: opts.log.verbose must be a boolean" },
      { { log = { colour = true } }, "heirloom.start: opts.log: unknown option 'colour' (known: level, format, verbose)" },
    }) do
      local ok, e = pcall(hl.start, bad[1])
      assert.is_false(ok)
      assert.is_truthy(tostring(e):find(bad[2], 1, true), e)
    end
  end)
end)

describe("reports in the log", function()
  after_each(function() pcall(hl.stop) end)

  local function crash_line(opts)
    hl.start(opts)
    local _, ref = hl.spawn_opt({ monitor = true }, function()
      error("boom\nsecond line", 0)
    end)
    expect(tagged("DOWN", ref))
    local lines = hl.logs()
    assert.are.equal(1, #lines)
    return lines[1]
  end

  it("a crash report is one error line, its reason as the shell shows it, no traceback", function()
    local line = crash_line{ schedulers = 2, logger = "capture" }
    assert.is_truthy(line:match("^" .. TIME .. ' error (<[%d.]+>) =CRASH REPORT==== process %1 ' ..
                                '%(registered name %-%) exited: {error = "boom\\nsecond line"}$'), line)
  end)

  it("verbose: the traceback too, and the strings as they are", function()
    local line = crash_line{ schedulers = 2, logger = "capture", log = { verbose = true } }
    assert.is_truthy(line:find('exited: {error = "boom\nsecond line", traceback = "stack traceback:', 1, true), line)
  end)

  it("a module that is not found: the search list only when verbose", function()
    hl.start{ schedulers = 2, logger = "capture" }
    local sup = hl.supervisor.start_link{ name = "nf", children = {
      { id = "w", start = { "heirloom.supervisor", "spawn_link", "no_such_module_x", "go" } } } }
    assert.is_nil(sup)
    local text = table.concat(hl.logs(), "\n")
    assert.is_truthy(text:find("module 'no_such_module_x' not found (searched package.path and " ..
                               "package.cpath; --verbose lists the files)", 1, true), text)
    assert.is_nil(text:find("no file", 1, true), text)
    hl.log.verbose(true)
    hl.supervisor.start_link{ name = "nf", children = {
      { id = "w", start = { "heirloom.supervisor", "spawn_link", "no_such_module_x", "go" } } } }
    text = table.concat(hl.logs(), "\n")
    assert.is_truthy(text:find("no file", 1, true), text)
  end)
end)
