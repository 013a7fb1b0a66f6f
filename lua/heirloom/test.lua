-- heirloom/test.lua — require("heirloom.test"): testing crash-and-restart
-- code on a heirloom node, from busted or plain Lua (docs/testing.md).
--
-- What it promises:
--   - a fixture (node, start, stop, with_node) that gives each test a
--     fresh node and always stops it, even when the test fails, and that
--     starts cleanly after a test that left a node running;
--   - waits that follow the node's clock and, in deterministic mode, drive
--     the node (kill_and_await, eventually, expect);
--   - assertions on what must not be lost (assert_table, assert_no_leaks);
--   - exploration (explore, for_seeds): a scenario run under many seeds,
--     with faults drawn from the seed between the steps of a deterministic
--     node; a failing seed is printed with the one command that replays
--     it, HEIRLOOM_SEED=<seed> busted <spec file>.
-- Every error raised for bad input names the function and the argument.
local hl = require("heirloom")

local T = {}

-- ---------------------------------------------------------------- values

-- A readable rendering of any value; maps with sorted keys, so the same
-- value always reads the same.
function T.show(v, depth)
  depth = depth or 0
  local tv = type(v)
  if tv == "string" then return string.format("%q", v) end
  if tv == "number" and math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 1e15 then
    return string.format("%.1f", v)
  end
  if tv ~= "table" then return tostring(v) end
  if depth > 8 then return "{...}" end
  local n, parts = #v, {}
  for i = 1, n do parts[i] = T.show(v[i], depth + 1) end
  local rest = {}
  for k, x in pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      rest[#rest + 1] = "[" .. T.show(k, depth + 1) .. "]=" .. T.show(x, depth + 1)
    end
  end
  table.sort(rest)
  for _, s in ipairs(rest) do parts[#parts + 1] = s end
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- A canonical string for a term: equal terms (integers and floats told
-- apart, maps in any order) give equal strings.
local function canon(v)
  local tv = type(v)
  if tv == "number" then
    if math.type(v) == "integer" then return "i" .. v end
    return "f" .. string.format("%a", v)
  elseif tv == "string" then return "s" .. string.format("%q", v)
  elseif tv == "table" then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = canon(k) .. "=" .. canon(x) end
    table.sort(parts)
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return tv:sub(1, 1) .. tostring(v)
end

-- ---------------------------------------------------------------- checks

local function fail(fname, msg, level)
  error("heirloom.test." .. fname .. ": " .. msg, (level or 1) + 1)
end

local function is_pid(v) return hl.kind(v) == "pid" end

local function check_timeout(fname, pos, v, default)
  if v == nil then return default end
  if math.type(v) == nil or v < 0 then
    fail(fname, ("argument %d (timeout) must be a number of milliseconds >= 0, got %s"):format(pos, T.show(v)), 3)
  end
  return v
end

-- ---------------------------------------------------------------- the node's clock

-- The node's clock in milliseconds (virtual in deterministic mode when the
-- node has a virtual clock, real otherwise).
function T.now()
  return (hl.now or hl.monotime)()
end

-- ---------------------------------------------------------------- fixture

-- The node the fixture started: its options, and what lived on it once it
-- had started (the baseline assert_no_leaks compares with).
local current = nil

-- Options of ours, not passed to hl.start.
local OWN = { trap_exit = true }

local function copy(t)
  local c = {}
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

local function pid_set()
  local s = {}
  for _, p in ipairs(hl.processes()) do s[tostring(p)] = true end
  return s
end

local function table_set()
  local s = {}
  for _, t in ipairs(hl.table.all()) do s[tostring(t:info("id"))] = true end
  return s
end

-- Stops the node, whatever state the last test left it in. Safe to call
-- at any time, with or without a node.
function T.stop()
  current = nil
  pcall(hl.logs)
  local ok, res, why = pcall(hl.stop)
  if ok and res == false then
    io.stderr:write("heirloom.test.stop: ", tostring(why), "\n")
  end
end

-- Starts a fresh node with opts (hl.start's options, passed through:
-- logger defaults to "capture"), stopping first a node that a failed test
-- left running. The host traps exits unless opts.trap_exit is false, so
-- that the processes it links to and kills do not take it down. Records
-- the baseline of assert_no_leaks. Returns the module heirloom.
function T.start(opts)
  if opts ~= nil and type(opts) ~= "table" then
    fail("start", "argument 1 (options) must be a table or nil, got " .. type(opts), 2)
  end
  opts = copy(opts)
  T.stop()
  local cfg = {}
  for k, v in pairs(opts) do if not OWN[k] then cfg[k] = v end end
  if cfg.logger == nil then cfg.logger = "capture" end
  hl.start(cfg)
  if opts.trap_exit ~= false then hl.trap_exit(true) end
  current = { opts = opts, deterministic = cfg.schedulers == 0,
              procs = pid_set(), tables = table_set() }
  return hl
end

-- The options the fixture's node was started with (a copy), or nil.
function T.options()
  return current and copy(current.opts)
end

local function deterministic()
  return current ~= nil and current.deterministic
end

-- A deadline timeout ms away on the node's clock: a function telling
-- whether it has passed. On a virtual clock (a deterministic node whose
-- time jumps to its next timer) a wait may also be for work outside the
-- scheduler — the store's — that takes real time: there the deadline
-- also waits for the wall clock to pass it.
local function deadline(timeout)
  local at = T.now() + timeout
  local virtual = deterministic() and hl.advance ~= nil and current.opts.clock ~= "real"
  local wall = os.time() + timeout // 1000 + 1
  return function()
    return T.now() >= at and (not virtual or os.time() >= wall)
  end
end

-- Runs fn(hl) on a fresh node and stops the node afterwards, also when fn
-- fails (its error is raised again). Returns fn's results.
function T.with_node(opts, fn)
  if type(opts) == "function" and fn == nil then opts, fn = nil, opts end
  if type(fn) ~= "function" then
    fail("with_node", "argument 2 (fn) must be a function, got " .. type(fn), 2)
  end
  T.start(opts)
  local res = table.pack(xpcall(fn, debug.traceback, hl))
  T.stop()
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- busted's hooks: from the running busted, else the globals.
local function busted_hook(name)
  local b = package.loaded["busted"]
  local ok, f = pcall(function() return b and b[name] end)
  if ok and type(f) == "function" then return f end
  return rawget(_G, name)
end

-- In a busted describe block: each test of the block gets a fresh node
-- started with opts (before_each), stopped after it (after_each) whether
-- it passed or not.
function T.node(opts)
  if opts ~= nil and type(opts) ~= "table" then
    fail("node", "argument 1 (options) must be a table or nil, got " .. type(opts), 2)
  end
  local before, after = busted_hook("before_each"), busted_hook("after_each")
  if not (before and after) then
    fail("node", "needs busted's before_each and after_each (call it in a describe block; " ..
      "in plain Lua use heirloom.test.with_node)", 2)
  end
  local o = copy(opts)
  before(function() T.start(o) end)
  after(T.stop)
end

-- ---------------------------------------------------------------- waiting

-- Waits until fn() returns a true value (not nil, not false, no error) and
-- returns that value, polling every `interval` ms (5) on the node's clock
-- for at most `timeout` ms (2000). Sleeping is what drives a
-- deterministic node meanwhile. Fails with fn's last error, if any.
function T.eventually(fn, timeout, interval)
  if type(fn) ~= "function" then
    fail("eventually", "argument 1 (fn) must be a function, got " .. type(fn), 2)
  end
  timeout = check_timeout("eventually", 2, timeout, 2000)
  interval = check_timeout("eventually", 3, interval, 5)
  if interval < 1 then interval = 1 end
  local expired = deadline(timeout)
  local last
  while true do
    local ok, v = pcall(fn)
    if ok and v ~= nil and v ~= false then return v end
    last = ok and nil or v
    if expired() then break end
    hl.sleep(interval)
  end
  error("heirloom.test.eventually: the condition did not hold within " .. timeout .. " ms" ..
    (last ~= nil and ("; its last error: " .. tostring(last)) or ""), 2)
end

-- The next message in the caller's mailbox matching pred (any when nil),
-- waiting at most ms (2000); fails when none comes. `what` names it in the
-- error.
function T.expect(pred, ms, what)
  if type(pred) == "number" then pred, ms, what = nil, pred, ms end
  if pred ~= nil and type(pred) ~= "function" then
    fail("expect", "argument 1 (pred) must be a function or nil, got " .. type(pred), 2)
  end
  ms = check_timeout("expect", 2, ms, 2000)
  local m
  if pred then m = hl.receive(pred, ms) else m = hl.receive(ms) end
  if m == nil then
    error("heirloom.test.expect: no message " .. (what and ("(" .. what .. ") ") or "") ..
      "within " .. ms .. " ms", 2)
  end
  return m
end

-- Empties the caller's mailbox (the host's or a process's); returns the
-- messages, oldest first.
function T.drain()
  local out = {}
  while true do
    local m = hl.receive(0)
    if m == nil then return out end
    out[#out + 1] = m
  end
end

-- A message filter for arrays whose first element is tag (and second v2).
function T.tagged(tag, v2)
  return function(m)
    return type(m) == "table" and m[1] == tag and (v2 == nil or m[2] == v2)
  end
end

-- The error fn(...) raises; fails if fn returns.
function T.catch(fn, ...)
  local ok, e = pcall(fn, ...)
  if ok then error("heirloom.test.catch: expected an error, the call returned " .. T.show(e), 2) end
  return e
end

-- Kills pid (exit "kill", or through crash_fn) and waits for its DOWN;
-- returns the exit reason.
local function kill_and_down(fname, pid, timeout, crash_fn)
  local ref = hl.monitor(pid)
  if crash_fn then crash_fn() else hl.exit(pid, "kill") end
  local down = hl.receive(function(m)
    return type(m) == "table" and m[1] == "DOWN" and m[2] == ref
  end, timeout)
  if down == nil then
    fail(fname, tostring(pid) .. " did not die within " .. timeout .. " ms", 3)
  end
  return down[4]
end

-- The pid a target (a registered name or a pid) means, and its name.
local function resolve(fname, target)
  local pid, name
  if type(target) == "string" then
    name = target
    pid = hl.whereis(name)
    if pid == nil then
      fail(fname, ("argument 1: no process is registered as %q"):format(name), 3)
    end
  elseif is_pid(target) then
    pid = target
    local info = hl.process_info(pid)
    if info == nil then
      fail(fname, "argument 1: " .. tostring(pid) .. " is not alive", 3)
    end
    name = info.registered_name
  else
    fail(fname, "argument 1 must be a registered name or a pid, got " .. type(target), 3)
  end
  if pid == hl.self() then fail(fname, "argument 1: the caller cannot kill itself", 3) end
  return pid, name
end

-- kill's and kill_and_await's argument 3.
local function check_crash_fn(fname, crash_fn)
  if crash_fn ~= nil and type(crash_fn) ~= "function" then
    fail(fname, "argument 3 (crash_fn) must be a function, got " .. type(crash_fn), 3)
  end
end

-- Kills a process (a registered name or a pid) with exit "kill" — or, when
-- crash_fn is given, by calling crash_fn(), which makes it die its own
-- way — and waits until it is gone: its links and monitors have fired, its
-- tables have gone to their heirs, its name is free. Returns its pid and
-- its exit reason. timeout: ms (5000).
function T.kill(target, timeout, crash_fn)
  timeout = check_timeout("kill", 2, timeout, 5000)
  check_crash_fn("kill", crash_fn)
  local pid = resolve("kill", target)
  return pid, kill_and_down("kill", pid, timeout, crash_fn)
end

-- Kills the holder of a registered name (or a pid) as kill does, then
-- waits until the name is held again (by its supervisor's restart);
-- returns the new holder's pid and the old one's exit reason. Given a
-- pid, the name it had is awaited; a pid with no name is killed and
-- awaited, and nil returned. timeout: ms for each of the two waits (5000).
function T.kill_and_await(target, timeout, crash_fn)
  timeout = check_timeout("kill_and_await", 2, timeout, 5000)
  check_crash_fn("kill_and_await", crash_fn)
  local pid, name = resolve("kill_and_await", target)
  local reason = kill_and_down("kill_and_await", pid, timeout, crash_fn)
  if name == nil then return nil, reason end
  -- the DOWN came after the name was freed: its next holder is the new one
  local new = hl.await_name(name, timeout)
  if new == nil then
    fail("kill_and_await", ("nobody registered as %q within %d ms after %s was killed"):format(
      name, timeout, tostring(pid)), 2)
  end
  return new, reason
end

-- ---------------------------------------------------------------- assertions

-- Asserts that table t (a handle, or the name of a named table) holds
-- exactly `objects` (a list of objects): in order for an ordered_set, in
-- any order for the other types (a bag's duplicates count). Integers and
-- floats are told apart. `what` names the check in the error.
function T.assert_table(t, objects, what)
  local handle = t
  if type(t) == "string" then
    handle = hl.table.whereis(t)
    if handle == nil then fail("assert_table", ("argument 1: no table is named %q"):format(t), 2) end
  elseif hl.kind(t) ~= "table" then
    fail("assert_table", "argument 1 must be a table handle or a table's name, got " .. type(t), 2)
  end
  if type(objects) ~= "table" then
    fail("assert_table", "argument 2 (objects) must be a list of objects, got " .. type(objects), 2)
  end
  local ok, actual = pcall(handle.tab2list, handle)
  if not ok then fail("assert_table", "argument 1: cannot read the table: " .. tostring(actual), 2) end
  local prefix = "heirloom.test.assert_table: " .. (what and (what .. ": ") or "") .. tostring(handle)
  local ordered = handle:info("type") == "ordered_set"
  if ordered then
    for i = 1, math.max(#actual, #objects) do
      if canon(actual[i]) ~= canon(objects[i]) then
        error(("%s: object %d is %s, expected %s (the table: %s)"):format(prefix, i,
          T.show(actual[i]), T.show(objects[i]), T.show(actual)), 2)
      end
    end
    return true
  end
  -- each object's count on each side: the surplus of one side is what the
  -- other misses
  local function counts(list)
    local c = {}
    for _, o in ipairs(list) do local k = canon(o); c[k] = (c[k] or 0) + 1 end
    return c
  end
  local function surplus(list, mine, theirs)
    local out, seen = {}, {}
    for _, o in ipairs(list) do
      local k = canon(o)
      seen[k] = (seen[k] or 0) + 1
      if seen[k] > (theirs[k] or 0) and seen[k] <= mine[k] then out[#out + 1] = T.show(o) end
    end
    return out
  end
  local want, have = counts(objects), counts(actual)
  local missing, extra = surplus(objects, want, have), surplus(actual, have, want)
  if #missing > 0 or #extra > 0 then
    error(("%s: missing %s, unexpected %s"):format(prefix,
      "{" .. table.concat(missing, ", ") .. "}", "{" .. table.concat(extra, ", ") .. "}"), 2)
  end
  return true
end

local function leaks()
  local procs, tables = {}, {}
  for _, p in ipairs(hl.processes()) do
    if not current.procs[tostring(p)] then
      local info = hl.process_info(p)
      if info then
        procs[#procs + 1] = tostring(p) .. (info.registered_name and (" " .. info.registered_name) or "") ..
          (info.current_function and (" (" .. info.current_function .. ")") or "")
      end
    end
  end
  for _, t in ipairs(hl.table.all()) do
    local ok, id = pcall(t.info, t, "id")
    if ok and not current.tables[tostring(id)] then
      local owner = t:info("owner")
      tables[#tables + 1] = tostring(t) .. " owned by " .. tostring(owner)
    end
  end
  return procs, tables
end

-- Asserts that the processes and tables alive are those alive when the
-- fixture started the node (the baseline), waiting up to timeout ms
-- (1000) for exiting processes to go. Lists what leaked.
function T.assert_no_leaks(timeout)
  timeout = check_timeout("assert_no_leaks", 1, timeout, 1000)
  if current == nil then
    fail("assert_no_leaks", "no node started by heirloom.test (use node, start or with_node)", 2)
  end
  if deterministic() then hl.run() end
  local expired = deadline(timeout)
  local procs, tables
  while true do
    procs, tables = leaks()
    if (#procs == 0 and #tables == 0) or expired() then break end
    hl.sleep(5)
  end
  if #procs > 0 or #tables > 0 then
    local parts = {}
    if #procs > 0 then parts[#parts + 1] = #procs .. " process(es) leaked: " .. table.concat(procs, ", ") end
    if #tables > 0 then parts[#parts + 1] = #tables .. " table(s) leaked: " .. table.concat(tables, ", ") end
    error("heirloom.test.assert_no_leaks: " .. table.concat(parts, "; "), 2)
  end
  return true
end

-- ---------------------------------------------------------------- a seeded generator

-- splitmix64: the fault plan's draws, from the seed alone (never from
-- math.random, which the scenario may use).
local function generator(seed)
  local state = seed
  local function next64()
    state = state + 0x9E3779B97F4A7C15
    local z = state
    z = (z ~ (z >> 30)) * -4658895280553007687    -- 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * -7723592293110705685    -- 0x94D049BB133111EB
    return z ~ (z >> 31)
  end
  -- like math.random: [0,1), 1..m, or m..n
  return function(m, n)
    local f = (next64() >> 11) * (1.0 / 9007199254740992.0)
    if m == nil then return f end
    if n == nil then m, n = 1, m end
    return m + math.floor(f * (n - m + 1))
  end
end
T.generator = generator

-- ---------------------------------------------------------------- seeds

-- The seeds to run: HEIRLOOM_SEED alone when it is set, else 1..n.
local function seeds_to_run(fname, n)
  local env = os.getenv("HEIRLOOM_SEED")
  if env ~= nil and env ~= "" then
    local s = math.tointeger(tonumber(env))
    if s == nil or s == 0 then
      fail(fname, ("HEIRLOOM_SEED must be a non-zero integer, got %q"):format(env), 3)
    end
    return { s }
  end
  local list = {}
  for s = 1, n do list[s] = s end
  return list
end

-- The spec file running us, as the command line names it: the first
-- *_spec.lua on the stack, else the file that called explore.
local function spec_file()
  local cwd = os.getenv("PWD")
  local function clean(src)
    src = src:sub(2):gsub("^%./", "")
    if cwd and src:sub(1, #cwd + 1) == cwd .. "/" then src = src:sub(#cwd + 2) end
    return src
  end
  local caller
  for level = 2, 80 do
    local info = debug.getinfo(level, "S")
    if info == nil then break end
    local src = info.source
    if src:sub(1, 1) == "@" and not src:find("heirloom[/\\]test%.lua$") then
      if src:find("_spec%.lua$") then return clean(src) end
      caller = caller or clean(src)
    end
  end
  return caller or "<spec file>"
end

-- ---------------------------------------------------------------- fault plans

local KINDS = { kill = true, store_write = true, crash = true }

local function check_rate(v, where)
  if math.type(v) == nil or v ~= v or v < 0 or v > 1 then
    fail("explore", where .. " must be a rate from 0 to 1, got " .. T.show(v), 4)
  end
  return v
end

-- Checks a fault plan; returns it normalised.
-- { module = name }, and nothing else.
local function is_module_match(match)
  if type(match) ~= "table" or type(match.module) ~= "string" then return false end
  for key in pairs(match) do
    if key ~= "module" then return false end
  end
  return true
end

local function check_plan(plan)
  if plan == nil then return {} end
  if type(plan) ~= "table" then
    fail("explore", "argument 'faults' must be a table (a fault plan), got " .. type(plan), 3)
  end
  local out = {}
  for k, v in pairs(plan) do
    if not KINDS[k] then
      fail("explore", ("argument 'faults': unknown fault kind %s (known: kill, store_write, crash)"):format(
        T.show(k)), 3)
    end
  end
  if plan.kill ~= nil then
    local k = plan.kill
    if type(k) == "number" then k = { rate = k } end
    if type(k) ~= "table" then
      fail("explore", "argument 'faults.kill' must be a table { rate =, match = }, got " .. type(k), 3)
    end
    for key in pairs(k) do
      if key ~= "rate" and key ~= "match" then
        fail("explore", "argument 'faults.kill': unknown field " .. T.show(key) .. " (known: rate, match)", 3)
      end
    end
    local match = k.match or "any"
    if type(match) ~= "string" and type(match) ~= "function" and not is_module_match(match) then
      fail("explore", "argument 'faults.kill.match' must be a name, \"any\", \"supervisors\", " ..
        "{ module = name } or a function, got " .. T.show(match), 3)
    end
    out.kill = { rate = check_rate(k.rate, "argument 'faults.kill.rate'"), match = match }
  end
  if plan.store_write ~= nil then
    out.store_write = check_rate(plan.store_write, "argument 'faults.store_write'")
    if out.store_write > 0 and hl.fault == nil then
      fail("explore", "fault store_write needs hl.fault (store-write faults), which this build of heirloom lacks", 3)
    end
  end
  if plan.crash ~= nil then
    out.crash = check_rate(plan.crash, "argument 'faults.crash'")
    if out.crash > 0 and hl.crash == nil then
      fail("explore", "fault crash needs hl.crash (node crash), which this build of heirloom lacks", 3)
    end
  end
  return out
end

-- An error of the plan itself (a predicate that raises): bad input, not a
-- failure of the scenario under this seed.
local PLAN_ERROR = {}

-- The module a process was spawned from (process_info's initial_call,
-- "module:function"); nil for a spawned function.
local function module_of(info)
  return info.initial_call and info.initial_call:match("^(.*):[^:]*$")
end

local function is_supervisor(info)
  return module_of(info) == "heirloom.supervisor"
end

local function matches(match, pid, info)
  if match == "any" then return true end
  if match == "supervisors" then return is_supervisor(info) end
  if type(match) == "string" then return info.registered_name == match end
  if type(match) == "table" then return module_of(info) == match.module end
  local arg = copy(info)
  arg.pid = pid
  local ok, res = pcall(match, arg)
  if not ok then
    error({ [PLAN_ERROR] = "heirloom.test.explore: argument 'faults.kill.match' raised an error for " ..
      tostring(pid) .. ": " .. tostring(res) })
  end
  return res
end

-- The processes a kill may hit: live, not the host, not there at start.
local function kill_candidates(ctx, match)
  local list = {}
  for _, pid in ipairs(hl.processes()) do
    if not ctx.protected[tostring(pid)] then
      local info = hl.process_info(pid)
      if info and not info.host and info.status ~= "exiting" and matches(match, pid, info) then
        list[#list + 1] = pid
      end
    end
  end
  return list
end

-- A seed's node, with the plan's store faults; the same after a crash.
local function start_seed_node(opts, plan)
  T.start(opts)
  if plan.store_write and plan.store_write > 0 then hl.fault{ store_write = plan.store_write } end
end

-- The faults drawn after one step.
local function inject(ctx)
  local plan = ctx.faults
  if plan.kill and plan.kill.rate > 0 and ctx.random() < plan.kill.rate then
    local list = kill_candidates(ctx, plan.kill.match)
    if #list > 0 then
      local pid = list[ctx.random(#list)]
      local info = hl.process_info(pid)
      ctx.kills[#ctx.kills + 1] = { pid = pid, name = info and info.registered_name, step = ctx.steps }
      hl.exit(pid, "kill")
    end
  end
  if plan.crash and plan.crash > 0 and ctx.random() < plan.crash then
    ctx.crashes = ctx.crashes + 1
    ctx.crash_steps[#ctx.crash_steps + 1] = ctx.steps
    hl.crash()
    start_seed_node(ctx.start, plan)
    ctx.protected = pid_set()
    if ctx.restart then ctx.restart(ctx) end
  end
end

-- A run's context: what the scenario gets.
local function new_context(seed, plan, start, restart)
  local ctx = { seed = seed, faults = plan, start = start, restart = restart,
                random = generator(seed), kills = {}, crashes = 0, crash_steps = {}, steps = 0,
                protected = pid_set() }
  -- Steps the node one step at a time, drawing the faults after each,
  -- until cond() holds; returns the steps taken. When nothing can run,
  -- the node's clock moves on to the timers. Fails after max_steps steps
  -- (100000) or idle_ms ms of the node's time with nothing to run (10000).
  function ctx.run_until(cond, max_steps, idle_ms)
    if type(cond) ~= "function" then
      fail("run_until", "argument 1 (cond) must be a function, got " .. type(cond), 2)
    end
    max_steps = max_steps or 100000
    idle_ms = idle_ms or 10000
    local taken, idle_since, idle_wall = 0, nil, nil
    while not cond() do
      if taken >= max_steps then
        error(("heirloom.test.run_until: the condition did not hold within %d steps"):format(max_steps), 2)
      end
      if hl.run(1) == 0 then
        -- nothing can run: a timer is pending, or work outside the
        -- scheduler (the store). Stuck only once both the node's clock
        -- and the wall clock have seen idle_ms pass.
        local t = T.now()
        idle_since, idle_wall = idle_since or t, idle_wall or os.time()
        if t - idle_since > idle_ms and os.time() - idle_wall > idle_ms // 1000 then
          error(("heirloom.test.run_until: the condition did not hold and nothing ran for %d ms"):format(idle_ms), 2)
        end
        hl.sleep(1)
      else
        idle_since, idle_wall = nil, nil
        taken = taken + 1
        ctx.steps = ctx.steps + 1
        inject(ctx)
      end
    end
    return taken
  end
  -- Runs until nothing can run now (or max_steps), with faults.
  function ctx.run(max_steps)
    max_steps = max_steps or 100000
    local taken = 0
    while taken < max_steps and hl.run(1) > 0 do
      taken = taken + 1
      ctx.steps = ctx.steps + 1
      inject(ctx)
    end
    return taken
  end
  return ctx
end

local function describe_faults(ctx)
  local parts = {}
  for i, k in ipairs(ctx.kills) do
    if i > 8 then parts[#parts + 1] = "..."; break end
    parts[#parts + 1] = tostring(k.pid) .. (k.name and (" " .. k.name) or "") .. " at step " .. k.step
  end
  local s = #ctx.kills .. " kill(s)" .. (#parts > 0 and (": " .. table.concat(parts, ", ")) or "")
  if ctx.crashes > 0 then s = s .. ", " .. ctx.crashes .. " crash(es)" end
  return s
end

local EXPLORE_KEYS = { seeds = true, faults = true, start = true, restart = true, quiet = true,
                       fn = true, [1] = true }

-- Runs a scenario under many seeds. cfg:
--   seeds   how many (the seeds 1..n; HEIRLOOM_SEED=<s> runs s alone)
--   faults  a fault plan: { kill = { rate =, match = name | "any" |
--           "supervisors" | function(info) }, store_write = rate, crash = rate }
--   start   hl.start's options (schedulers defaults to 0; seed is the run's)
--   restart function(ctx), called after a crash fault restarted the node
--   quiet   true: a failing seed is only raised, not also printed to stderr
--   fn      (or cfg[1]) function(ctx): the scenario; ctx.seed, ctx.random,
--           ctx.run_until(cond), ctx.run(), ctx.kills
-- Each seed gets a fresh node, stopped afterwards. The first seed that
-- fails stops the exploration: its seed, its faults and the command that
-- replays it are printed and raised. Returns the number of seeds run.
function T.explore(cfg)
  if type(cfg) ~= "table" then fail("explore", "argument 1 must be a table, got " .. type(cfg), 2) end
  local fn = cfg.fn or cfg[1]
  if type(fn) ~= "function" then
    fail("explore", "argument 'fn' (or [1]) must be the scenario function, got " .. type(fn), 2)
  end
  local n = cfg.seeds
  if math.type(n) ~= "integer" or n < 1 then
    fail("explore", "argument 'seeds' must be an integer >= 1, got " .. T.show(n), 2)
  end
  if cfg.start ~= nil and type(cfg.start) ~= "table" then
    fail("explore", "argument 'start' must be a table of hl.start options, got " .. type(cfg.start), 2)
  end
  for k in pairs(cfg) do
    if not EXPLORE_KEYS[k] then
      fail("explore", "unknown argument " .. T.show(k) .. " (known: seeds, faults, start, restart, quiet, fn)", 2)
    end
  end
  if cfg.restart ~= nil and type(cfg.restart) ~= "function" then
    fail("explore", "argument 'restart' must be a function, got " .. type(cfg.restart), 2)
  end
  local plan = check_plan(cfg.faults)
  local start = copy(cfg.start)
  if start.schedulers == nil then start.schedulers = 0 end
  if start.schedulers ~= 0 and ((plan.kill and plan.kill.rate > 0) or (plan.crash and plan.crash > 0)) then
    fail("explore", "argument 'faults': kill and crash faults need a deterministic node (start.schedulers = 0)", 2)
  end
  if plan.crash and plan.crash > 0 and start.data_dir == nil then
    fail("explore", "argument 'faults.crash' needs start.data_dir, where the node restarts from", 2)
  end
  local file = spec_file()
  local seeds = seeds_to_run("explore", n)
  for _, seed in ipairs(seeds) do
    local opts = copy(start)
    opts.seed = seed
    -- each seed its own store: a seed never loads another's tables
    if opts.data_dir then opts.data_dir = opts.data_dir .. "/seed-" .. seed end
    start_seed_node(opts, plan)
    local ctx = new_context(seed, plan, opts, cfg.restart)
    local ok, err = xpcall(fn, function(e)
      if type(e) == "table" and e[PLAN_ERROR] then return e end
      return debug.traceback(tostring(e), 2)
    end, ctx)
    -- a node with a trace (hl.start{ trace = true }) names the run
    -- exactly: its replay must give the same hash
    local trace
    if not ok and hl.trace_hash then
      local got, h = pcall(hl.trace_hash)
      if got and h ~= nil then trace = tostring(h) end
    end
    T.stop()
    if not ok then
      if type(err) == "table" and err[PLAN_ERROR] then error(err[PLAN_ERROR], 2) end
      local what = describe_faults(ctx) .. (trace and (", trace " .. trace) or "")
      local msg = ("heirloom.test.explore: seed %d failed (%s)\nreplay it: HEIRLOOM_SEED=%d busted %s\n%s"):format(
        seed, what, seed, file, tostring(err))
      if not cfg.quiet then io.stderr:write(msg, "\n") end
      error(msg, 2)
    end
  end
  return #seeds
end

-- Runs fn(seed, ctx) under n seeds, each on a fresh node (start: hl.start's
-- options, schedulers 0 unless given); as explore with no faults.
function T.for_seeds(n, fn, start)
  if math.type(n) ~= "integer" or n < 1 then
    fail("for_seeds", "argument 1 (n) must be an integer >= 1, got " .. T.show(n), 2)
  end
  if type(fn) ~= "function" then
    fail("for_seeds", "argument 2 (fn) must be a function, got " .. type(fn), 2)
  end
  if start ~= nil and type(start) ~= "table" then
    fail("for_seeds", "argument 3 (start) must be a table of hl.start options, got " .. type(start), 2)
  end
  return T.explore{ seeds = n, start = start, function(ctx) return fn(ctx.seed, ctx) end }
end

return T
