-- spec/durable_spec.lua — durable tables (docs/durability.md): writes
-- that survive a SIGKILL of the OS process, loading into custody, drop,
-- metadata, the data_dir lock, hl.store, and table files.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local S = dofile(here .. "support/hlspec.lua")
local hl = require("heirloom")
local model = require("durable_model")

local root, fresh_dir = S.temp_root()
teardown(function() os.execute("rm -rf " .. root) end)   -- after the file's last describe

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local start = S.start_on

-- Runs the durable_child workload on dir until `acks` steps are
-- acknowledged, SIGKILLs it, and returns the last step it acknowledged.
local function run_and_kill(dir, ttype, sync, acks)
  local cmd = string.format(
    "LUA_CPATH=%q LUA_PATH=%q sh -c 'echo pid $$; exec lua5.4 %ssupport/durable_child.lua %s %s %s' 2>&1",
    package.cpath, package.path, here, dir, ttype, tostring(sync))
  local p = assert(io.popen(cmd, "r"))
  local pid = tonumber((p:read("l") or ""):match("^pid (%d+)"))
  assert(pid, "the child printed no pid")
  local last, killed, lines = 0, false, {}
  for line in p:lines() do
    local n = tonumber(line:match("^ack (%d+)$"))
    if n then last = n else lines[#lines + 1] = line end
    if not killed and last >= acks then
      os.execute("kill -9 " .. pid)
      killed = true
    end
  end
  p:close()
  assert(killed, "the child stopped before " .. acks .. " acks: " .. table.concat(lines, "\n"))
  return last
end

-- What the table must hold after k steps (or k + 1: the step after the
-- last acknowledged one may have been written before the kill).
local function expected(ttype, k)
  local m = hl.table.new("model", { type = ttype })
  for i = 1, k do model.step(m, ttype, i) end
  local a = model.dump(m)
  model.step(m, ttype, k + 1)
  local b = model.dump(m)
  m:drop()
  return a, b
end

local function in_custody(t)
  return t:info().owner == nil   -- the node holds it (docs/ownership.md)
end

describe("durable tables", function()
  after_each(function() hl.stop() end)

  for _, ttype in ipairs({ "set", "ordered_set", "bag", "duplicate_bag" }) do
    for _, sync in ipairs({ "none", "always", 20 }) do
      it(ttype .. ", sync " .. sync .. ": every acknowledged write survives a SIGKILL #child", function()
        local dir = fresh_dir()
        local k = run_and_kill(dir, ttype, sync, sync == "always" and 150 or 1500)
        start(dir)
        local t = hl.table.whereis("t")
        assert.is_not_nil(t)
        assert.is_true(in_custody(t))
        assert.is_true(t:info().durable)
        assert.are.equal(ttype, t:info().type)
        local got = model.dump(t)
        local a, b = expected(ttype, k)
        assert.is_true(got == a or got == b,
          "after " .. k .. " acknowledged steps the table holds\n" .. got .. "\nnot\n" .. a)
        -- claimed, it goes on being written
        assert.are.equal(t, hl.table.claim("t"))
        assert.are.equal(hl.self(), t:info().owner)
        t:insert({ "after", 1 })
        hl.stop()
        start(dir)
        assert.are.same({ { "after", 1 } }, hl.table.whereis("t"):lookup("after"))
      end)
    end
  end

  it("replays every kind of write, with an orderly stop in between", function()
    for _, ttype in ipairs({ "set", "ordered_set", "bag", "duplicate_bag" }) do
      local dir = fresh_dir()
      start(dir)
      local t = hl.table.new("t", { type = ttype, durable = true, named = true })
      for i = 1, 1234 do model.step(t, ttype, i) end
      local before = model.dump(t)
      hl.stop()
      start(dir)
      assert.are.equal(before, model.dump(hl.table.whereis("t")))
      assert.are.equal(before, (expected(ttype, 1234)))
      hl.stop()
    end
  end)

  it("a select_replace on a duplicate_bag comes back as it was left, in order", function()
    local dir = fresh_dir()
    start(dir)
    local t = hl.table.new("db", { type = "duplicate_bag", durable = true, named = true })
    t:insert({ 1, "a" }, { 1, "b" }, { 1, "c" }, { 1, "b" }, { 2, "b" })
    assert.are.equal(3, t:select_replace({ { { "$1", "b" }, {}, { { { "$1", "z" } } } } }))
    local before = t:lookup(1)
    assert.are.same({ { 1, "a" }, { 1, "z" }, { 1, "c" }, { 1, "z" } }, before)
    hl.stop()
    start(dir)
    local again = hl.table.whereis("db")
    assert.are.same(before, again:lookup(1))
    assert.are.same({ { 2, "z" } }, again:lookup(2))
    hl.stop()
  end)

  it("an ordered_set comes back in term order", function()
    local dir = fresh_dir()
    start(dir)
    local t = hl.table.new("o", { type = "ordered_set", durable = true, named = true })
    local keys = { "b", "a", "", 3, -1.5, 2 ^ 60, { 1, 2 }, { 1 }, true, false, "a\0b", 0 }
    for i, k in ipairs(keys) do t:insert({ k, i }) end
    local order = {}
    for _, o in ipairs(t:tab2list()) do order[#order + 1] = o[2] end
    hl.stop()
    start(dir)
    local again = {}
    for _, o in ipairs(hl.table.whereis("o"):tab2list()) do again[#again + 1] = o[2] end
    assert.are.same(order, again)
    -- numbers < booleans < arrays (by length) < strings (bytewise)
    assert.are.same({ 5, 12, 4, 6, 10, 9, 8, 7, 3, 2, 11, 1 }, again)
  end)

  it("metadata comes back equal: type, access, keypos, name, named, custody, heir name, sync", function()
    local dir = fresh_dir()
    start(dir)
    hl.table.new("m1", { type = "bag", access = "public", keypos = 2, named = true,
                         durable = true, sync = "always", heir = "keeper", heir_data = { x = 1 } })
    local m2 = hl.table.new("m2", { type = "ordered_set", access = "private", keypos = "id",
                                    durable = true, custody = true, sync = 250 })
    m2:insert({ id = 7, v = "seven" })
    m2:rename("m2b")
    local t3 = hl.table.new("m3", { durable = true, named = true })
    t3:setopts({ heir = "other" })
    local function meta(t)
      local i = t:info()
      return { i.name, i.type, i.access, i.keypos, i.named, i.custody, i.durable, i.sync,
               i.heir, i.heir_data and i.heir_data.x }
    end
    local before = {}
    for _, t in ipairs(hl.table.all()) do before[t:info().name] = meta(t) end
    hl.stop()
    start(dir)
    local after = {}
    for _, t in ipairs(hl.table.all()) do
      assert.is_true(in_custody(t))
      after[t:info().name] = meta(t)
    end
    assert.are.same(before, after)
    assert.are.equal("keeper", after.m1[9])
    assert.are.equal("none", after.m3[8])
    -- the private table is its claimer's
    local m2b
    for _, t in ipairs(hl.table.all()) do if t:info().name == "m2b" then m2b = t end end
    -- still private: in custody, nobody may read it
    assert.has_error(function() m2b:lookup(7) end,
      "heirloom.table.lookup: table is private: only its owner may read it")
  end)

  it("drop removes the table and its data from disk", function()
    local dir = fresh_dir()
    start(dir)
    local t = hl.table.new("gone", { durable = true, named = true })
    for i = 1, 5000 do t:insert({ i, string.rep("x", 100) }) end
    local keep = hl.table.new("kept", { durable = true, named = true })
    keep:insert({ 1 })
    hl.stop()
    start(dir)
    hl.table.claim("gone"):drop()
    hl.stop()
    start(dir)
    assert.is_nil(hl.table.whereis("gone"))
    assert.are.equal(1, #hl.table.all())
    -- a new table of the same name starts empty: no record was left behind
    local again = hl.table.new("gone", { durable = true, named = true })
    assert.are.equal(0, again:info().size)
    hl.stop()
    start(dir)
    assert.are.equal(0, hl.table.whereis("gone"):info().size)
    assert.are.same({ { 1 } }, hl.table.whereis("kept"):tab2list())
  end)

  it("a durable table whose owner dies without heir or custody is gone from disk too", function()
    local dir = fresh_dir()
    start(dir, { schedulers = 1 })
    local pid = hl.spawn(function()
      local hl = require("heirloom")
      local t = hl.table.new("mine", { durable = true, named = true })
      t:insert({ 1, 2 })
    end)
    assert.truthy(pid)
    assert.is_true(S.wait_until(function() return #hl.processes() <= 1 end, 3000))
    assert.is_nil(hl.table.whereis("mine"))
    hl.stop()
    start(dir)
    assert.is_nil(hl.table.whereis("mine"))
  end)

  it("tables owned by processes still running at hl.stop come back", function()
    local dir = fresh_dir()
    start(dir, { schedulers = 1 })
    hl.register("host", hl.self())
    hl.spawn(function()
      local hl = require("heirloom")
      local t = hl.table.new("owned", { durable = true, named = true })
      t:insert({ 1, 2 })
      hl.send("host", "made")
      hl.receive()
    end)
    S.expect(function(m) return m == "made" end)
    hl.stop()
    start(dir)
    assert.are.same({ { 1, 2 } }, hl.table.whereis("owned"):tab2list())
  end)

  it("refuses durable tables without data_dir, and bad sync values", function()
    hl.start({ schedulers = 0 })
    assert.has_error(function() hl.table.new("d", { durable = true }) end,
      "heirloom.table.new: durable tables need a node started with data_dir")
    hl.stop()
    assert.has_error(function() hl.start({ data_dir = fresh_dir(), sync = "often" }) end,
      'heirloom.start: opts.sync must be "none", "always" or a period of 1 to 3600000 ms')
    assert.has_error(function() hl.start({ data_dir = 42 }) end,
      "heirloom.start: opts.data_dir must be a non-empty path")
    start(fresh_dir())
    assert.has_error(function() hl.table.new("d", { durable = true, sync = 0 }) end,
      'heirloom.table.new: opts.sync must be "none", "always" or a period of 1 to 3600000 ms')
    assert.are.equal(0, #hl.table.all())
  end)

  it("the node's sync is the default of its tables, and info tells it", function()
    local dir = fresh_dir()
    start(dir, { sync = "always" })
    local a = hl.table.new("a", { durable = true, named = true })
    local b = hl.table.new("b", { durable = true, named = true, sync = 100 })
    assert.are.equal("always", a:info().sync)
    assert.are.equal(100, b:info().sync)
    assert.is_nil(hl.table.new("c"):info().sync)
    hl.stop()
    start(dir, { sync = 30 })
    assert.are.equal(30, hl.table.whereis("a"):info().sync)   -- follows the node
    assert.are.equal(100, hl.table.whereis("b"):info().sync)  -- its own
  end)

  it("on_load reports progress, and an error in it stops the start", function()
    local dir = fresh_dir()
    start(dir)
    local t = hl.table.new("big", { durable = true, named = true })
    local objs = {}
    for i = 1, 70000 do objs[i] = { i } end
    t:insert_many(objs)
    hl.stop()
    local calls = {}
    start(dir, { on_load = function(name, loaded, total) calls[#calls + 1] = { name, loaded, total } end })
    assert.are.same({ "big", 0, 70000 }, calls[1])
    assert.are.same({ "big", 65536, 70000 }, calls[2])
    assert.are.same({ "big", 70000, 70000 }, calls[#calls])
    hl.stop()
    assert.has_error(function()
      start(dir, { on_load = function() error("enough", 0) end })
    end, "heirloom.start: on_load: enough")
    -- the store was closed again: the next start opens it
    start(dir)
    assert.are.equal(70000, hl.table.whereis("big"):info().size)
  end)

  it("two nodes never open one data_dir: a second OS process is refused #child", function()
    local dir = fresh_dir()
    start(dir)
    local out, ok = S.run_child(string.format([[
      package.cpath = %q
      local hl = require("heirloom")
      local ok, err = pcall(hl.start, { data_dir = %q })
      print(ok, err)
      os.exit(ok and 1 or 0)
    ]], package.cpath, dir))
    assert.is_true(ok, out)
    assert.truthy(out:find("heirloom.start: data_dir '" .. dir .. "' is in use by another node", 1, true), out)
    hl.stop()
    -- free again once this node stopped
    out, ok = S.run_child(string.format([[
      package.cpath = %q
      local hl = require("heirloom")
      hl.start({ data_dir = %q, logger = "silent" })
      hl.stop()
    ]], package.cpath, dir))
    assert.is_true(ok, out)
  end)
end)

describe("hl.store", function()
  after_each(function() hl.stop() end)

  it("keeps values as terms under a namespace, across restarts", function()
    local dir = fresh_dir()
    start(dir)
    hl.store.put("registry", "counters", { table = "counters", owner = "srv", n = 3 })
    hl.store.put("registry", { 1, "x" }, true)
    hl.store.put("other", "counters", 1.5)
    assert.are.same({ table = "counters", owner = "srv", n = 3 }, hl.store.get("registry", "counters"))
    hl.stop()
    start(dir)
    assert.are.equal(dir, hl.store.dir())
    assert.are.same({ { { 1, "x" }, true }, { "counters", { table = "counters", owner = "srv", n = 3 } } },
      hl.store.list("registry"))
    assert.are.equal(1.5, hl.store.get("other", "counters"))
    hl.store.delete("registry", "counters")
    assert.is_nil(hl.store.get("registry", "counters"))
    assert.are.equal(1, #hl.store.list("registry"))
    assert.are.same({}, hl.store.list("nothing"))
  end)

  it("without data_dir uses a directory of the node's own, removed at stop", function()
    hl.start({ schedulers = 0 })
    assert.is_nil(hl.store.dir())
    hl.store.put("ns", "k", "v")
    local path, temp = hl.store.dir(true)
    assert.is_true(temp)
    assert.is_true(exists(path .. "/CURRENT"))
    hl.stop()
    assert.is_false(exists(path .. "/CURRENT"))
    hl.start({ schedulers = 0 })
    assert.is_nil(hl.store.get("ns", "k"))   -- a new node shares nothing
    assert.are_not.equal(path, (hl.store.dir(true)))
  end)

  it("refuses bad arguments by name", function()
    hl.start({ schedulers = 0 })
    assert.has_error(function() hl.store.put(1, "k", "v") end, "heirloom.store.put: ns must be a string (got number)")
    assert.has_error(function() hl.store.put("ns", nil, "v") end, "heirloom.store.put: key must not be nil")
    assert.has_error(function() hl.store.put("ns", "k", print) end, "heirloom.store.put: value: cannot encode a function")
  end)
end)

describe("table files", function()
  after_each(function() hl.stop() end)

  local function fill(t, ttype)
    for i = 1, 300 do model.step(t, ttype, i) end
  end

  for _, ttype in ipairs({ "set", "ordered_set", "bag", "duplicate_bag" }) do
    it(ttype .. ": tab2file then file2tab gives back the same table", function()
      hl.start({ schedulers = 0 })
      local t = hl.table.new("src", { type = ttype, access = "public", named = true, keypos = 1 })
      fill(t, ttype)
      local path = root .. "/" .. ttype .. ".tab"
      assert.is_true(t:tab2file(path))
      local info = hl.table.tabfile_info(path)
      assert.are.same({ name = "src", type = ttype, access = "public", named = true, keypos = 1,
                        size = t:info().size, version = 1 }, info)
      local u = hl.table.file2tab(path, { name = "copy" })
      assert.are.equal(model.dump(t), model.dump(u))
      assert.are.equal(ttype, u:info().type)
      assert.are.equal(hl.self(), u:info().owner)
      -- the file's own name is taken: refused, nothing made
      local n = #hl.table.all()
      assert.has_error(function() hl.table.file2tab(path) end,
        "heirloom.table.file2tab: a table named 'src' already exists")
      assert.are.equal(n, #hl.table.all())
    end)
  end

  it("map objects with a field keypos, and a durable copy", function()
    local dir = fresh_dir()
    start(dir)
    local t = hl.table.new("users", { keypos = "id", type = "ordered_set", named = true })
    t:insert({ id = "ann", age = 3 }, { id = "bob", tags = { "a", "b" } })
    local path = root .. "/users.tab"
    t:tab2file(path)
    assert.are.equal("id", hl.table.tabfile_info(path).keypos)
    local u = hl.table.file2tab(path, { name = "users2", durable = true, sync = "always" })
    assert.are.same(t:tab2list(), u:tab2list())
    hl.stop()
    start(dir)
    assert.are.same({ { id = "ann", age = 3 }, { id = "bob", tags = { "a", "b" } } },
      hl.table.claim("users2") and hl.table.whereis("users2"):tab2list())
  end)

  local function damaged(name, edit)
    hl.start({ schedulers = 0 })
    local t = hl.table.new(name, { named = true })
    for i = 1, 100 do t:insert({ i, "value " .. i }) end
    local path = root .. "/" .. name .. ".tab"
    t:tab2file(path)
    t:drop()
    local f = assert(io.open(path, "rb"))
    local bytes = f:read("a")
    f:close()
    f = assert(io.open(path, "wb"))
    f:write(edit(bytes))
    f:close()
    local n = #hl.table.all()
    local ok, err = pcall(hl.table.file2tab, path)
    assert.is_false(ok)
    assert.are.equal(n, #hl.table.all())
    assert.is_nil(hl.table.whereis(name))
    local ok2, err2 = pcall(hl.table.tabfile_info, path)
    assert.is_false(ok2)
    return err, err2, path
  end

  it("refuses a corrupt file, leaving nothing behind", function()
    local err, err2, path = damaged("flip", function(b)
      local at = #b // 2
      return b:sub(1, at - 1) .. string.char((b:byte(at) + 1) % 256) .. b:sub(at + 1)
    end)
    assert.are.equal("heirloom.table.file2tab: '" .. path .. "' is not a valid table file: checksum mismatch", err)
    assert.are.equal("heirloom.table.tabfile_info: '" .. path .. "' is not a valid table file: checksum mismatch", err2)
  end)

  it("refuses a truncated file at every length", function()
    hl.start({ schedulers = 0 })
    local t = hl.table.new("short", { type = "bag" })
    for i = 1, 20 do t:insert({ i % 3, i }) end
    local path = root .. "/short.tab"
    t:tab2file(path)
    local f = assert(io.open(path, "rb"))
    local bytes = f:read("a")
    f:close()
    local n = #hl.table.all()
    for len = 0, #bytes - 1 do
      f = assert(io.open(path, "wb"))
      f:write(bytes:sub(1, len))
      f:close()
      local ok, err = pcall(hl.table.file2tab, path, { name = "again" })
      assert.is_false(ok)
      assert.truthy(err:find("heirloom.table.file2tab: '" .. path .. "' is not a valid table file", 1, true), err)
    end
    assert.are.equal(n, #hl.table.all())
    f = assert(io.open(path, "wb"))
    f:write(bytes .. "x")
    f:close()
    assert.has_error(function() hl.table.file2tab(path, { name = "again" }) end,
      "heirloom.table.file2tab: '" .. path .. "' is not a valid table file: bytes after the checksum")
  end)

  it("refuses a missing file and a file that is no table file", function()
    local _, _, path = damaged("junk", function() return "just some text\n" end)
    assert.has_error(function() hl.table.file2tab(root .. "/none.tab") end,
      "heirloom.table.file2tab: cannot open '" .. root .. "/none.tab': No such file or directory")
    assert.has_error(function() hl.table.file2tab(path) end,
      "heirloom.table.file2tab: '" .. path .. "' is not a valid table file: no table file magic at its start")
  end)

  it("tab2file checks read access and reports a path it cannot write", function()
    hl.start({ schedulers = 0 })
    local t = hl.table.new("w")
    assert.has_error(function() t:tab2file(root .. "/no/such/dir/w.tab") end,
      "heirloom.table.tab2file: cannot write '" .. root .. "/no/such/dir/w.tab': No such file or directory")
  end)
end)

describe("scenario 13: the whole node restarts", function()
  after_each(function() hl.stop() end)

  it("after a SIGKILL a durable table has every acknowledged write, and the registry names only live tables #child", function()
    local dir = fresh_dir()
    local code = string.format([[
      package.cpath = %q
      io.stdout:setvbuf("line")
      local hl = require("heirloom")
      hl.start({ schedulers = 2, data_dir = %q, logger = "silent" })
      -- a registry in hl.store: entries are written after their table
      -- exists and removed before it is dropped
      local function make(name)
        local t = hl.table.new(name, { durable = true, named = true, sync = "always" })
        hl.store.put("registry", name, { durable = true })
        return t
      end
      local a, b = make("accounts"), make("sessions")
      local i = 0
      while true do
        i = i + 1
        a:update_counter("total", { 2, 1 }, { "total", 0 })
        b:insert({ i, "s" .. i })
        if i %% 10 == 0 then
          local tmp = make("tmp" .. i)
          tmp:insert({ 1 })
          hl.store.delete("registry", "tmp" .. i)
          tmp:drop()
        end
        print("ack " .. i)
      end
    ]], package.cpath, dir)
    local script = root .. "/s13.lua"
    local f = assert(io.open(script, "w"))
    f:write(code)
    f:close()
    local p = assert(io.popen("sh -c 'echo pid $$; exec lua5.4 " .. script .. "' 2>&1", "r"))
    local pid = tonumber(p:read("l"):match("^pid (%d+)"))
    local last, killed = 0, false
    for line in p:lines() do
      last = tonumber(line:match("^ack (%d+)$")) or last
      if not killed and last >= 60 then
        os.execute("kill -9 " .. pid)
        killed = true
      end
    end
    p:close()
    assert.is_true(killed)
    start(dir)
    local total = hl.table.claim("accounts"):lookup_element("total", 2)
    local sessions = hl.table.claim("sessions")
    assert.is_true(total == last or total == last + 1)
    assert.is_true(sessions:info().size == last or sessions:info().size == last + 1)
    for i = 1, last do assert.is_true(sessions:member(i)) end
    for _, entry in ipairs(hl.store.list("registry")) do
      assert.is_not_nil(hl.table.whereis(entry[1]), "the registry names " .. entry[1])
    end
  end)
end)
