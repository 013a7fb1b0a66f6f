-- spec/store_damage_spec.lua — a damaged data_dir never loses data in
-- silence (docs/durability.md, "A damaged store"): a store whose CURRENT
-- file is gone, whose log or table file holds bad bytes, or whose log has
-- a zeroed record header refuses to start with an error naming the damage,
-- through
-- hl.start, hl_node_start (test/test_store.c) and `heirloom run`; nothing
-- is deleted by the refusal; hl.store.repair and `heirloom repair` say what
-- they recovered and what was lost, and a start afterwards works. A new
-- or empty directory is still made a store; a directory of other files is
-- refused. The cases tagged #child run a second program (a Lua that is
-- killed, the heirloom command, mkdir): they are left out under
-- ThreadSanitizer (scripts/run-tests.sh).
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local S = dofile(here .. "support/hlspec.lua")
local hl = require("heirloom")

local HERE = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local BUILD = os.getenv("HEIRLOOM_BUILD") or "build"
local HEIRLOOM = BUILD .. "/heirloom"

local quote = S.quote

local root, fresh_dir = S.temp_root()
teardown(function() os.execute("rm -rf " .. quote(root)) end)   -- after the file's last describe

local read, write = S.read_file, S.write_file

-- name -> size of LevelDB's and heirloom's files in dir. Found by name,
-- not with ls: under ThreadSanitizer no shell command runs.
local function listing(dir)
  local files = {}
  local names = { "CURRENT", "LOCK", "LOG", "LOG.old", "HEIRLOOM" }
  for n = 1, 300 do
    for _, form in ipairs({ "MANIFEST-%06d", "%06d.log", "%06d.ldb", "%06d.sst" }) do
      names[#names + 1] = string.format(form, n)
    end
  end
  for _, name in ipairs(names) do
    local f = io.open(dir .. "/" .. name, "rb")
    if f then
      files[name] = f:seek("end")
      f:close()
    end
  end
  return files
end

local function only(dir, pattern)
  local found = {}
  for name in pairs(listing(dir)) do
    if name:match(pattern) then found[#found + 1] = name end
  end
  table.sort(found)
  assert(#found == 1, "expected one file like " .. pattern .. " in " .. dir .. ", found " .. #found)
  return found[1]
end

-- The largest table file in dir: the one that holds the objects.
local function largest_ldb(dir)
  local best, size = nil, -1
  for name, n in pairs(listing(dir)) do
    if name:match("%.ldb$") and n > size then best, size = name, n end
  end
  assert(best, "no table file in " .. dir)
  return best
end

-- Writes bytes over path from offset at (0-based).
local function patch(path, at, bytes)
  local s = assert(read(path))
  assert(at + #bytes <= #s)
  write(path, s:sub(1, at) .. bytes .. s:sub(at + #bytes + 1))
end

local FF4 = string.rep("\255", 4)

-- A value of 40 bytes that does not compress: table files keep such
-- blocks as they are, so bad bytes in them are found by checksums only.
local function noise(i)
  local x = i * 0x9E3779B97F4A7C15
  local parts = {}
  for k = 1, 5 do
    x = x * 6364136223846793005 + 1442695040888963407
    parts[k] = string.pack("<i8", x)
  end
  return table.concat(parts)
end

local N = 4000

-- A store with one durable table "t" of N objects {i, noise(i)}.
-- "table": stopped in order, so that the objects are in a table file
-- (.ldb), started and stopped once more. "log": written by a child
-- process that is killed before it stops, so that the objects are in
-- LevelDB's log only, as after a crash.
local function make_store(dir, where)
  if where == "log" then
    local out, ok = S.run_child(string.format([[
      package.cpath = %q
      local hl = require("heirloom")
      hl.start({ schedulers = 0, logger = "silent", data_dir = %q })
      local t = hl.table.new("t", { durable = true, named = true })
      for i = 1, %d do
        local x, parts = i * 0x9E3779B97F4A7C15, {}
        for k = 1, 5 do
          x = x * 6364136223846793005 + 1442695040888963407
          parts[k] = string.pack("<i8", x)
        end
        t:insert({ i, table.concat(parts) })
      end
      local pid = io.open("/proc/self/stat"):read("n")
      os.execute("kill -9 " .. pid)
    ]], package.cpath, dir, N))
    assert(not ok and listing(dir)["CURRENT"], out)
    return
  end
  hl.start({ schedulers = 0, logger = "silent", data_dir = dir })
  local t = hl.table.new("t", { durable = true, named = true })
  for i = 1, N do t:insert({ i, noise(i) }) end
  hl.stop()
  hl.start({ schedulers = 0, logger = "silent", data_dir = dir })
  hl.stop()
end

local function start(dir)
  hl.start({ schedulers = 0, logger = "silent", data_dir = dir })
end

-- Every object of t is one of make_store's, intact; returns how many.
local function intact_count(t)
  local n = 0
  for _, o in ipairs(t:tab2list()) do
    assert.are.equal(noise(o[1]), o[2], "object " .. tostring(o[1]) .. " came back changed")
    n = n + 1
  end
  return n
end

-- The error of a start that must fail (without the position Lua puts
-- before it).
local function refused(dir)
  local ok, err = pcall(start, dir)
  assert.is_false(ok, "the damaged store started")
  return (tostring(err):gsub("^[^:\n]*:%d+: ", ""))
end

-- Runs the heirloom command; returns stdout, stderr and the exit status.
local function heirloom(args)
  local base = os.tmpname()
  local _, _, status = os.execute("timeout 60 " .. quote(HEIRLOOM) .. " " .. args .. " >" .. base ..
    ".out 2>" .. base .. ".err </dev/null")
  local out, err = read(base .. ".out"), read(base .. ".err")
  for _, ext in ipairs({ "", ".out", ".err" }) do os.remove(base .. ext) end
  return out, err, status
end

local function find(text, part)
  assert.is_truthy(text:find(part, 1, true), "'" .. part .. "' not in:\n" .. text)
end

describe("a damaged data_dir", function()
  after_each(function() hl.stop() end)

  it("without its CURRENT file refuses to start, names it, and deletes nothing", function()
    local dir = fresh_dir()
    make_store(dir, "table")
    local ldb = largest_ldb(dir)
    os.remove(dir .. "/CURRENT")
    local before = listing(dir)
    local err = refused(dir)
    assert.are.equal("heirloom.start: data_dir '" .. dir .. "' holds a LevelDB store whose " ..
      "CURRENT file is missing; run `heirloom repair " .. dir .. "`", err)
    assert.are.same(before, listing(dir))   -- the table file is still there, unchanged
    assert.is_not_nil(before[ldb])
    assert.are.equal(err, refused(dir))     -- and again: nothing was created meanwhile
  end)

  it("without CURRENT is restored whole by hl.store.repair, which says nothing was lost", function()
    local dir = fresh_dir()
    make_store(dir, "table")
    os.remove(dir .. "/CURRENT")
    local r = hl.store.repair(dir)
    assert.are.equal(dir, r.dir)
    assert.is_false(r.may_have_lost)
    assert.are.equal(0, r.lost)
    assert.are.same({ { name = "t", before = N, after = N } }, r.tables)
    assert.are.same({ "CURRENT: missing" }, r.damage)
    find(r.text, "CURRENT")
    find(r.text, "t: " .. N .. " objects at the last orderly stop, " .. N .. " now")
    start(dir)
    assert.are.equal(N, intact_count(hl.table.whereis("t")))
  end)

  it("with bad bytes in the middle of its log refuses to start, naming the log file #child", function()
    local dir = fresh_dir()
    make_store(dir, "log")
    local log = only(dir, "%.log$")
    local size = listing(dir)[log]
    patch(dir .. "/" .. log, size // 2, FF4)
    local before = listing(dir)
    local err = refused(dir)
    find(err, "heirloom.start: data_dir '" .. dir .. "' is damaged: " .. log .. ": ")
    find(err, "run `heirloom repair " .. dir .. "`")
    assert.are.same(before, listing(dir))
    assert.are.equal(err, refused(dir))     -- never a partial state, whatever the attempt
  end)

  it("with bad bytes in its log is repaired without them: the report counts the loss #child", function()
    local dir = fresh_dir()
    make_store(dir, "log")
    local log = only(dir, "%.log$")
    patch(dir .. "/" .. log, listing(dir)[log] // 2, FF4)
    local r = hl.store.repair(dir)
    assert.is_true(r.may_have_lost)
    assert.are.equal(1, #r.tables)
    local t = r.tables[1]
    assert.are.equal("t", t.name)
    assert.is_nil(t.before)                 -- the child never stopped in order
    assert.is_true(t.after < N and t.after >= N - 10, "after " .. t.after)
    find(r.damage[1], log .. ": ")
    find(r.text, "DATA WAS LOST")
    find(r.text, "lost/" .. log .. ".damaged")  -- the damaged original is kept aside
    assert.is_not_nil(read(dir .. "/lost/" .. log .. ".damaged"))
    start(dir)
    assert.are.equal(t.after, intact_count(hl.table.whereis("t")))
  end)

  it("with zeros over a record header in its log refuses to start #child", function()
    -- LevelDB itself skips a zeroed header and the rest of its block
    -- without a word.
    local dir = fresh_dir()
    make_store(dir, "log")
    local log = only(dir, "%.log$")
    local bytes = read(dir .. "/" .. log)
    local at = 32768                        -- a record starts each block
    local len = bytes:byte(at + 5) | bytes:byte(at + 6) << 8
    at = at + 7 + len                       -- the record after it
    patch(dir .. "/" .. log, at, string.rep("\0", 7))
    local err = refused(dir)
    find(err, "is damaged: " .. log .. ": ")
    local r = hl.store.repair(dir)
    assert.is_true(r.may_have_lost)
    assert.is_true(r.tables[1].after < N)
    start(dir)
    assert.are.equal(r.tables[1].after, intact_count(hl.table.whereis("t")))
  end)

  it("with bad bytes in a table file refuses to start, naming the file", function()
    local dir = fresh_dir()
    make_store(dir, "table")
    local ldb = largest_ldb(dir)
    patch(dir .. "/" .. ldb, listing(dir)[ldb] // 3, FF4)
    local bytes = read(dir .. "/" .. ldb)
    local err = refused(dir)
    find(err, "heirloom.start: data_dir '" .. dir .. "' is damaged: " .. ldb .. ": ")
    find(err, "checksum mismatch")
    find(err, "run `heirloom repair " .. dir .. "`")
    assert.are.equal(bytes, read(dir .. "/" .. ldb))   -- still there, as it was
    assert.are.equal(err, refused(dir))
  end)

  it("with bad bytes in a table file is repaired by `heirloom repair`, which reports the loss #child", function()
    local dir = fresh_dir()
    make_store(dir, "table")
    local ldb = largest_ldb(dir)
    patch(dir .. "/" .. ldb, listing(dir)[ldb] // 3, FF4)
    local out, err, status = heirloom("repair " .. quote(dir))
    assert.are.equal(3, status, err)        -- repaired, with data lost
    find(out, ldb .. ": checksum mismatch")
    find(out, "DATA WAS LOST")
    local after = tonumber(out:match("t: " .. N .. " objects at the last orderly stop, (%d+) now"))
    assert.is_truthy(after, out)
    assert.is_true(after < N and after > N / 2, out)
    start(dir)
    assert.are.equal(after, intact_count(hl.table.whereis("t")))
    hl.stop()
    -- repaired, the store is whole again: a second repair finds nothing
    out, err, status = heirloom("repair " .. quote(dir))
    assert.are.equal(0, status, err)
    find(out, "no damage found")
  end)

  it("is refused by `heirloom run` with the error on stderr and a failing status #child", function()
    local dir = fresh_dir()
    make_store(dir, "table")
    os.remove(dir .. "/CURRENT")
    local out, err, status = heirloom("run --data-dir " .. quote(dir) .. " " ..
      quote(HERE .. "support/cli_app/solo.lua"))
    assert.are_not.equal(0, status)
    find(err, "data_dir '" .. dir .. "' holds a LevelDB store whose CURRENT file is missing")
    assert.is_falsy(out:find("solo started", 1, true))
    out, err, status = heirloom("repair " .. quote(dir))
    assert.are.equal(0, status, err)
    find(out, "CURRENT: missing")
    find(out, "no data was lost")
    _, err, status = heirloom("repair")
    assert.are.equal(2, status)
    find(err, "repair: which directory?")
  end)

  it("repair refuses a directory in use, a directory without a store, and bad arguments", function()
    local dir = fresh_dir()
    start(dir)
    local ok, err = pcall(hl.store.repair, dir)
    assert.is_false(ok)
    find(err, "heirloom.store.repair: data_dir '" .. dir .. "' is in use by a node")
    hl.stop()
    local empty = fresh_dir()
    os.execute("mkdir -p " .. quote(empty))
    assert.has_error(function() hl.store.repair(empty) end,
      "heirloom.store.repair: '" .. empty .. "' holds no heirloom store: nothing to repair")
    assert.has_error(function() hl.store.repair(root .. "/none") end,
      "heirloom.store.repair: '" .. root .. "/none' holds no heirloom store: nothing to repair")
    assert.has_error(function() hl.store.repair(42) end,
      "heirloom.store.repair: dir must be a non-empty path (got number)")
  end)

  it("a healthy store: repair finds nothing and says so", function()
    local dir = fresh_dir()
    make_store(dir, "table")
    local r = hl.store.repair(dir)
    assert.is_false(r.may_have_lost)
    assert.are.same({}, r.damage)
    assert.are.same({ { name = "t", before = N, after = N } }, r.tables)
    find(r.text, "no damage found")
    start(dir)
    assert.are.equal(N, intact_count(hl.table.whereis("t")))
  end)
end)

describe("a data_dir that holds no store", function()
  after_each(function() hl.stop() end)

  it("is made a store when it is missing, with its parents", function()
    local dir = fresh_dir() .. "/a/b"
    start(dir)
    hl.table.new("x", { durable = true, named = true }):insert({ 1 })
    hl.stop()
    start(dir)
    assert.are.same({ { 1 } }, hl.table.whereis("x"):tab2list())
  end)

  it("is made a store when it is empty #child", function()
    local empty = fresh_dir()
    os.execute("mkdir -p " .. quote(empty))
    start(empty)
    hl.table.new("y", { durable = true, named = true }):insert({ 2 })
    hl.stop()
    start(empty)
    assert.are.same({ { 2 } }, hl.table.whereis("y"):tab2list())
  end)

  it("is refused when it holds other files, naming one #child", function()
    local dir = fresh_dir()
    os.execute("mkdir -p " .. quote(dir))
    write(dir .. "/notes.txt", "mine\n")
    local err = refused(dir)
    assert.are.equal("heirloom.start: data_dir '" .. dir .. "' is not empty and holds no " ..
      "heirloom store (it has 'notes.txt'); give a new or empty directory", err)
    assert.are.same({}, listing(dir))
    assert.are.equal("mine\n", read(dir .. "/notes.txt"))
  end)

  it("is refused when it is a file", function()
    local parent = fresh_dir()
    start(parent .. "/store")                 -- makes parent, with no shell command
    hl.stop()
    local path = parent .. "/file"
    write(path, "x")
    assert.are.equal("heirloom.start: data_dir '" .. path .. "' is not a directory", refused(path))
  end)
end)
