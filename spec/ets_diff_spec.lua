-- ets_diff_spec.lua — heirloom's tables against ETS itself: the same
-- random operations on a heirloom table and on an ETS table of the same
-- type and keypos, result by result.
--
-- Each run makes a few thousand operations from a seed (every kind of
-- write and read, match specs, traversals, errors), applies them here and
-- writes them to a file as Erlang terms; spec/support/ets_diff.erl applies
-- them to ETS in escript and renders each result as a line, as this file
-- renders heirloom's. A set's, a bag's and a duplicate_bag's order is each
-- engine's own hash order, so their lists of objects and keys are compared
-- sorted; an ordered_set's, and a bag's objects under one key, as they
-- come. Values are the ones both engines hold alike: integers, floats with
-- a fraction (heirloom, as Lua, makes no difference between 1 and 1.0),
-- strings (binaries), and arrays (tuples) of those.
--
-- Three parts: tables against ETS (every type with keypos 1 and 2, and a
-- durable table of each type, read again after a restart); random match
-- specs against ETS (spec/support/ets_diff_ms.lua); and operations on one
-- key each from three processes on two threads, held to the same
-- operations run one after the other.
--
-- HEIRLOOM_DIFF_SEED=n runs that seed alone, HEIRLOOM_DIFF_OPS=n makes n
-- operations a run. The two parts against ETS are tagged #child: escript
-- runs through io.popen.
local HERE = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local H = dofile(HERE .. "helpers.lua")
local hl = H.hl

local OPS_PER_RUN = tonumber(os.getenv("HEIRLOOM_DIFF_OPS")) or 2500
local SEEDS = { 11, 12 }
if os.getenv("HEIRLOOM_DIFF_SEED") then SEEDS = { tonumber(os.getenv("HEIRLOOM_DIFF_SEED")) } end

local sh = H.sh
local S = dofile(HERE .. "support/hlspec.lua")
local D = dofile(HERE .. "support/ets_diff_ops.lua")
local MS = dofile(HERE .. "support/ets_diff_ms.lua")

-- Runs one seed on a new table: the file of operations for ETS, and the
-- lines of heirloom's results with the operations they came from. The
-- last operation is a tab2list; a durable table is read a second time
-- after the node has stopped and started again, which ETS's file asks
-- of it as one more tab2list.
local function run_heirloom(run)
  local name = ("diff_%s_%d_%d"):format(run.type, run.keypos, run.seed)
  local t = hl.table.new(name, { type = run.type, keypos = run.keypos, named = true,
                                 durable = run.data_dir ~= nil })
  local f = assert(io.open(run.path, "w"))
  local ops, lines, recent = {}, {}, {}
  local sorted = run.type ~= "ordered_set"
  math.randomseed(run.seed)
  f:write(("{new,%s,%d}.\n"):format(run.type, run.keypos))
  for i = 1, run.count or OPS_PER_RUN do
    local text, op
    if run.next_op then text, op = run.next_op(t, i)
    else text, op = D.operation(t, run.type, run.keypos, recent) end
    ops[i], lines[i] = text, D.result(op)
    f:write(text, ".\n")
  end
  ops[#ops + 1], lines[#lines + 1] = "tab2list", D.rlist(t:tab2list(), sorted)
  f:write("tab2list.\n")
  if run.data_dir then
    hl.stop()
    hl.start{ data_dir = run.data_dir }
    t = assert(hl.table.whereis(name), "the durable table did not come back")
    ops[#ops + 1], lines[#lines + 1] = "tab2list (after a restart)", D.rlist(t:tab2list(), sorted)
    f:write("tab2list.\n")
  else
    t:drop()
  end
  f:close()
  run.ops, run.lines = ops, lines
end

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do lines[#lines + 1] = line end
  return lines
end

-- The first operation whose results differ, described; nil if none.
local function first_difference(run, ets_lines)
  for i, line in ipairs(run.lines) do
    if ets_lines[i] ~= line then
      local before = {}
      for j = math.max(1, i - 3), i - 1 do before[#before + 1] = ("  %d: %s -> %s"):format(j, run.ops[j], run.lines[j]) end
      return ("%s keypos %d seed %d: operation %d, %s\n  heirloom: %s\n  ETS:      %s\n  before it:\n%s")
        :format(run.type, run.keypos, run.seed, i, run.ops[i], line, tostring(ets_lines[i]),
                table.concat(before, "\n"))
    end
  end
  if #ets_lines ~= #run.lines then
    return ("%s keypos %d seed %d: ETS gave %d results for %d operations")
      :format(run.type, run.keypos, run.seed, #ets_lines, #run.lines)
  end
  return nil
end

-- A directory for a describe's files (files.dir), made before its first
-- test and removed after its last; escript must be there to read them.
local function scratch_dir()
  local files = {}
  lazy_setup(function()
    local _, rc = sh("command -v escript")
    assert(rc == 0, "escript is missing: install erlang-base (make deps)")
    files.dir = S.temp_root()
  end)
  lazy_teardown(function()
    if files.dir then sh("rm -rf " .. files.dir) end
  end)
  return files
end

-- Runs every seed of one type and keypos here, then all of them in one
-- escript, and compares.
local function check(dir, seeds, type, keypos, data_dir, next_op, count)
  local runs, paths = {}, {}
  for _, seed in ipairs(seeds) do
    local run = { type = type, keypos = keypos, seed = seed, data_dir = data_dir,
                  next_op = next_op, count = count,
                  path = ("%s/%s_%d_%d%s.ops"):format(dir, type, keypos, seed, next_op and "_ms" or "") }
    run_heirloom(run)
    runs[#runs + 1] = run
    paths[#paths + 1] = run.path
  end
  local out, rc = sh("escript " .. HERE .. "support/ets_diff.erl " .. table.concat(paths, " "))
  assert(rc == 0, "escript failed: " .. out)
  for _, run in ipairs(runs) do
    local diff = first_difference(run, read_lines(run.path .. ".out"))
    assert(diff == nil, diff)
  end
end

describe("tables against ETS #child", function()
  local files = scratch_dir()

  after_each(H.stop)

  for _, type in ipairs({ "set", "ordered_set", "bag", "duplicate_bag" }) do
    for _, keypos in ipairs({ 1, 2 }) do
      it(("a %s with keypos %d gives ETS's result for every operation"):format(type, keypos), function()
        H.start()
        check(files.dir, SEEDS, type, keypos, nil)
      end)
    end
  end

  -- The store's write path, and what a restart loads, against the same.
  for _, type in ipairs({ "set", "ordered_set", "bag", "duplicate_bag" }) do
    it(("a durable %s gives ETS's result for every operation, and after a restart"):format(type), function()
      local data_dir = files.dir .. "/store_" .. type
      hl.start{ data_dir = data_dir }
      check(files.dir, { SEEDS[1] }, type, 1, data_dir)
    end)
  end
end)

-- Match specs: a table of 60 objects, then random specs for select and
-- select_count. The first operations fill the table.
local MS_OBJECTS, MS_SPECS = 60, 400

local function ms_operation(t, i)
  if i <= MS_OBJECTS then
    local o = MS.object(math.random(1, 80))
    return "{insert," .. o.erl .. "}", function() return tostring(t:insert(o.lua)) end
  end
  local ms = MS.spec()
  if i % 4 == 0 then
    return "{select_count_ms," .. ms.erl .. "}", function() return tostring(t:select_count(ms.lua)) end
  end
  local sorted = t:info("type") ~= "ordered_set"
  return "{select_ms," .. ms.erl .. "}", function() return D.rlist(t:select(ms.lua), sorted) end
end

describe("match specs against ETS #child", function()
  local files = scratch_dir()

  before_each(H.start)
  after_each(H.stop)

  for _, type in ipairs({ "set", "ordered_set" }) do
    it(("select on a %s gives ETS's result for random match specs"):format(type), function()
      check(files.dir, SEEDS, type, 1, nil, ms_operation, MS_OBJECTS + MS_SPECS)
    end)
  end
end)

-- Operations on one key each, from three processes on two scheduler
-- threads, on keys no two of them share: each process's results, and the
-- table they leave, must be those of the same operations run one process
-- after the other in this thread (which the runs above hold to ETS's).
-- Meanwhile a fourth process walks the table and chains select
-- continuations over it: objects no worker touches must come back exactly
-- once each time. No escript: this one runs under ThreadSanitizer too.
describe("tables written by processes on two threads", function()
  local WORKERS = 3
  local SHARE = 3 * OPS_PER_RUN   -- operations a worker
  local WALKS = 20                -- the walker's rounds
  local seeds = SEEDS
  if os.getenv("HEIRLOOM_SAN") == "tsan" then
    -- about 100 µs an operation under ThreadSanitizer, and more as a
    -- file's node starts add up: one seed, a tenth of the operations
    SHARE, seeds = SHARE // 10, { SEEDS[1] }
  end

  before_each(function() S.start(2) end)
  after_each(H.stop)

  local function compare(type, keypos, seed, w, got, lines, texts)
    for i = 1, #lines do
      if got[i] ~= lines[i] then
        error(("%s keypos %d seed %d, worker %d: operation %d, %s\n  concurrent: %s\n  alone:      %s")
          :format(type, keypos, seed, w, i, texts[i], tostring(got[i]), lines[i]), 0)
      end
    end
    assert.are.equal(#lines, #got)
  end

  for _, type in ipairs({ "set", "ordered_set", "bag", "duplicate_bag" }) do
    for _, keypos in ipairs({ 1, 2 }) do
      it(("a %s with keypos %d gives every process the results it would get alone"):format(type, keypos), function()
        for _, seed in ipairs(seeds) do
          local name = ("race_%s_%d_%d"):format(type, keypos, seed)
          local t = hl.table.new(name, { type = type, keypos = keypos, named = true, access = "public" })
          local alone = hl.table.new(name .. "_alone", { type = type, keypos = keypos })
          for i = 1, D.STABLE do
            t:insert(D.stable_object(i, keypos))
            alone:insert(D.stable_object(i, keypos))
          end
          local pids = {}
          for w = 1, WORKERS do
            pids[w] = hl.spawn("ets_diff_ops", "worker", hl.self(), name, type, keypos, seed * 100 + w, w,
                               SHARE)
          end
          pids[#pids + 1] = hl.spawn("ets_diff_ops", "walker", hl.self(), name, keypos, WALKS)
          for _, pid in ipairs(pids) do hl.send(pid, "go") end
          local got = {}
          for _ = 1, WORKERS do
            local m = S.expect(S.tagged("lines"), 60000, "a worker's results")
            got[m[2]] = m[3]
          end
          local problems = S.expect(S.tagged("walked"), 60000, "the walker's report")[2]
          assert(#problems == 0, table.concat(problems, "\n", 1, math.min(#problems, 5)))
          for w = 1, WORKERS do
            local lines, texts = D.run_share(alone, type, keypos, seed * 100 + w, w, SHARE)
            compare(type, keypos, seed, w, got[w], lines, texts)
          end
          local sorted = type ~= "ordered_set"
          assert.are.equal(D.rlist(alone:tab2list(), sorted), D.rlist(t:tab2list(), sorted))
          t:drop()
          alone:drop()
        end
      end)
    end
  end
end)
