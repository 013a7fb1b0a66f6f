-- reentry_spec.lua — a __gc finalizer may run whenever Lua allocates, so it
-- may run in the middle of any heirloom call, while that call encodes its
-- arguments or decodes its results, and call heirloom itself. The outer
-- call must not notice: its arguments, its results and the mailbox it
-- reads stay its own.
--
-- Each scenario runs in a child lua5.4 (#child, see scripts/run-tests.sh):
-- before the fix some of them crashed or hung, and a crash must fail one
-- test, not end busted. A scenario prints "fired N" (how many finalizers
-- ran heirloom calls) and "OK", or what went wrong.
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")

-- Finalizers that call `nested` and re-arm themselves, and a collector
-- that runs them often: generational mode with a minor collection after
-- every 1% of growth, so decoding a few thousand values runs dozens.
local PRELUDE = [[
local hl = require("heirloom")
hl.start{ schedulers = 1, logger = "capture" }
local fired, problems = 0, {}
local function problem(fmt, ...)
  if #problems < 5 then problems[#problems + 1] = string.format(fmt, ...) end
end
local nested
local function arm()
  setmetatable({}, { __gc = function()
    fired = fired + 1
    local ok, err = pcall(nested)
    if not ok then problem("the finalizer's call failed: %s", tostring(err)) end
    arm()
  end })
end
local function finish()
  print("fired " .. fired)
  if fired < 10 then problem("only %d finalizers ran", fired) end
  if #problems == 0 then print("OK") else print(table.concat(problems, "\n")) end
  hl.stop()
end
collectgarbage("generational", 1, 100)
]]

local function scenario(code, seconds)
  local out, ok = S.run_child(PRELUDE .. code .. "\nfinish()\n", seconds or 30)
  assert.is_true(ok and out:find("\nOK\n", 1, true) ~= nil, out)
end

-- A table whose objects are easy to tell apart and slow to decode.
local FILL = [[
local function fill(name, n, tag, extra)
  local t = hl.table.new(name, { type = extra or "set" })
  for i = 1, n do t:insert({ i, tag .. i, { i, i + 1, { tag } } }) end
  return t
end
local function intact(o, tag)
  return type(o) == "table" and o[2] == tag .. o[1] and type(o[3]) == "table" and
         o[3][1] == o[1] and o[3][2] == o[1] + 1 and o[3][3][1] == tag
end
]]

describe("a finalizer's heirloom calls inside another call #child", function()
  it("tab2list returns the table's own objects while finalizers list another table", function()
    scenario(FILL .. [==[
      local A, B = fill("A", 2000, "a"), fill("B", 30, "b")
      nested = function() B:tab2list() end
      arm()
      for round = 1, 15 do
        local l = A:tab2list()
        if #l ~= 2000 then problem("round %d: %d objects", round, #l) end
        for _, o in ipairs(l) do
          if not intact(o, "a") then problem("round %d: a foreign object %s", round, tostring(o[2])) break end
        end
      end
    ]==])
  end)

  it("update_counter increments the key it was given while finalizers look up another", function()
    scenario([==[
      local T = hl.table.new("T")
      T:insert({ 1, 0, 0 })
      T:insert({ 2, 0, 0 })
      nested = function() T:lookup(2) end
      arm()
      for i = 1, 20000 do
        local r = T:update_counter(1, { { 2, 1 }, { 3, 1 } })
        if r[1] ~= i or r[2] ~= i then problem("call %d returned %s, %s", i, r[1], r[2]) break end
      end
      local one, two = T:lookup(1)[1], T:lookup(2)[1]
      if one[2] ~= 20000 or one[3] ~= 20000 then problem("key 1 holds %d, %d", one[2], one[3]) end
      if two[2] ~= 0 or two[3] ~= 0 then problem("key 2 holds %d, %d", two[2], two[3]) end
    ]==])
  end)

  it("update_element and insert_many keep their arguments while finalizers send messages", function()
    scenario(FILL .. [==[
      local T = hl.table.new("T")
      T:insert({ 1, "x", "y" })
      T:insert({ 2, "x", "y" })
      nested = function() hl.send(hl.self(), { "noise", string.rep("n", 40) }) end
      arm()
      for i = 1, 3000 do
        T:update_element(1, { { 2, "one" .. i }, { 3, "three" .. i } })
        T:insert_many({ { 100 + i % 50, "m" .. i }, { 200 + i % 50, "n" .. i } })
        if i % 100 == 0 then while hl.receive(0) do end end
      end
      local one, two = T:lookup(1)[1], T:lookup(2)[1]
      if one[2] ~= "one3000" or one[3] ~= "three3000" then problem("key 1 holds %s, %s", one[2], one[3]) end
      if two[2] ~= "x" or two[3] ~= "y" then problem("key 2 holds %s, %s", two[2], two[3]) end
      if T:info("size") ~= 102 then problem("%d objects", T:info("size")) end
    ]==])
  end)

  it("lookup's result survives finalizers whose lookups need a bigger buffer", function()
    scenario(FILL .. [==[
      local A = fill("A", 200, "a", "bag")
      for i = 1, 200 do for j = 1, 20 do A:insert({ i, "a" .. i, { i, i + 1, { "a" }, j } }) end end
      local C = hl.table.new("C")
      local size = 1000
      nested = function()
        size = size + 5000    -- ever bigger: the shared output buffer must grow
        C:insert({ "big", string.rep("c", size) })
        C:lookup("big")
      end
      arm()
      for round = 1, 3 do
        for k = 1, 200 do
          local l = A:lookup(k)
          if #l ~= 21 then problem("key %d: %d objects", k, #l) break end
          for _, o in ipairs(l) do
            if not intact(o, "a") then problem("key %d: a foreign object", k) break end
          end
        end
      end
    ]==])
  end)

  it("select, match_object, foldl, first/next and take are not disturbed by finalizers", function()
    scenario(FILL .. [==[
      local A, B = fill("A", 1500, "a", "ordered_set"), fill("B", 40, "b", "ordered_set")
      nested = function()
        B:select({ { { "$1", "_", "_" }, {}, { "$_" } } })
        B:match_object({ "_", "_", "_" })
        B:first()
      end
      arm()
      for round = 1, 4 do
        local l = A:select({ { { "$1", "$2", "$3" }, {}, { "$_" } } })
        if #l ~= 1500 then problem("select: %d results", #l) end
        for _, o in ipairs(l) do if not intact(o, "a") then problem("select: foreign %s", tostring(o[2])) break end end
        l = A:match_object({ "_", "_", "_" })
        for _, o in ipairs(l) do if not intact(o, "a") then problem("match_object: foreign") break end end
        local n = A:foldl(function(o, acc)
          if not intact(o, "a") then problem("foldl: foreign") end
          return acc + 1
        end, 0)
        if n ~= 1500 then problem("foldl counted %d", n) end
        local k, count = A:first(), 0
        while k do
          count = count + 1
          if k ~= count then problem("next: key %s after %d", tostring(k), count - 1) break end
          k = A:next(k)
        end
      end
      for k = 1, 1500 do
        local l = A:take(k)
        if #l ~= 1 or not intact(l[1], "a") then problem("take %d: wrong result", k) break end
      end
    ]==])
  end)

  it("the store's get and list return their own records while finalizers read others", function()
    scenario([==[
      for i = 1, 300 do hl.store.put("mine", i, { i, string.rep("m", i % 40), { i } }) end
      for i = 1, 30 do hl.store.put("other", i, { -i, "o" }) end
      nested = function() hl.store.get("other", 7) hl.store.list("other") end
      arm()
      for round = 1, 20 do
        for i = 1, 300, 7 do
          local v = hl.store.get("mine", i)
          if v[1] ~= i or v[3][1] ~= i or #v[2] ~= i % 40 then problem("get %d: wrong value", i) break end
        end
      end
    ]==])
  end)

  it("receive hands each message over once and intact while finalizers receive too", function()
    scenario([==[
      local N = 400
      for i = 1, N do
        local body = {}
        for j = 1, 60 do body[j] = { i, j } end
        hl.send(hl.self(), { "m", i, body })
      end
      local seen = {}
      local function got(m, who)
        if type(m) ~= "table" or m[1] ~= "m" then problem("%s: a foreign message", who) return end
        for j = 1, 60 do
          if m[3][j][1] ~= m[2] or m[3][j][2] ~= j then problem("%s: message %d is damaged", who, m[2]) return end
        end
        if seen[m[2]] then problem("%s: message %d received twice", who, m[2]) end
        seen[m[2]] = true
      end
      nested = function()
        local m = hl.receive(0)
        if m ~= nil then got(m, "finalizer") end
      end
      arm()
      while true do
        local m = hl.receive(0)
        if m == nil then break end
        got(m, "receive")
      end
      for i = 1, N do if not seen[i] then problem("message %d was lost", i) break end end
    ]==])
  end)

  it("a receive inside a receive's filter does not make the outer one take the wrong message", function()
    scenario([==[
      fired = 10      -- no finalizers here: the filter nests the call
      for i = 1, 200 do hl.send(hl.self(), { "m", i }) end
      local seen, count = {}, 0
      local function got(m, who)
        if seen[m[2]] then problem("%s: message %d received twice", who, m[2]) end
        seen[m[2]] = true
        count = count + 1
      end
      while true do
        local m = hl.receive(function(m)
          local inner = hl.receive(0)        -- takes the head: maybe the one examined here
          if inner ~= nil then got(inner, "inner") end
          return m[2] % 3 ~= 0
        end, 0)
        if m == nil then break end
        got(m, "outer")
      end
      -- what the filters refused is still there
      while true do
        local m = hl.receive(0)
        if m == nil then break end
        got(m, "drain")
      end
      if count ~= 200 then problem("%d of 200 messages received", count) end
    ]==])
  end)

  it("a receive in a finalizer of a process keeps its own timeout and position", function()
    scenario([==[
      local pid = hl.spawn(function(to)
        local hl = require("heirloom")
        local fired, bad = 0, nil
        local function arm()
          setmetatable({}, { __gc = function()
            fired = fired + 1
            -- may take any "x", even the one the body's receive examines
            local m = hl.receive(function(m) return type(m) == "table" end, 0)
            if m ~= nil and m ~= "late" and (type(m) ~= "table" or m[1] ~= "x") then bad = "finalizer got " .. tostring(m) end
            arm()
          end })
        end
        collectgarbage("generational", 1, 100)
        arm()
        hl.send(to, { "ready", hl.self() })
        -- a long wait: a finalizer's receive(0) must not shorten it to 0
        local m = hl.receive(function(m) return m == "late" end, 3000)
        hl.send(to, { "done", m, fired, bad })
      end, hl.self())
      local r = hl.receive(function(m) return m[1] == "ready" end, 2000)
      if not r then problem("no ready") end
      for i = 1, 3000 do
        local body = {}
        for j = 1, 20 do body[j] = j end
        hl.send(pid, { "x", i, body })
      end
      hl.sleep(300)
      hl.send(pid, "late")
      local d = hl.receive(function(m) return m[1] == "done" end, 5000)
      if not d then problem("the process did not finish")
      else
        if d[2] ~= "late" then problem("the process's receive returned %s", tostring(d[2])) end
        if d[4] then problem("%s", d[4]) end
        fired = d[3]
      end
    ]==])
  end)
end)

describe("no engine lock is held while Lua allocates #child", function()
  -- Before, process_info held the target's lock while it built its table:
  -- a finalizer that sent to the target waited for that lock for ever.
  it("process_info on a target that finalizers send to finishes", function()
    scenario([==[
      local target = hl.spawn(function()
        local hl = require("heirloom")
        while true do hl.receive() end
      end)
      local other = hl.spawn(function() require("heirloom").receive() end)
      hl.link(other)
      nested = function()
        hl.send(target, { "from a finalizer" })
        hl.monitor(target)
        hl.process_info(other)
      end
      arm()
      for i = 1, 2000 do
        local info = hl.process_info(target)
        if info == nil or info.status == nil then problem("no info at %d", i) break end
      end
    ]==], 20)
  end)
end)

describe("after an out-of-memory failure #child", function()
  -- A buffer that failed to grow stayed failed: every later call of the
  -- state said "out of memory". The child gets an allocation limit that a
  -- 200 MB term exceeds and everything else fits in: an address-space
  -- limit, or under AddressSanitizer (which reserves terabytes of address
  -- space) its largest-allocation option.
  local function limited()
    if (os.getenv("LD_PRELOAD") or ""):find("asan", 1, true) then
      return "ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1:max_allocation_size_mb=100; " ..
             "export ASAN_OPTIONS;"
    end
    return "ulimit -v 400000;"
  end

  it("later calls work again", function()
    local out, ok = S.run_child([==[
      local hl = require("heirloom")
      hl.start{ schedulers = 0, logger = "capture" }
      local t = hl.table.new("t")
      local parts = {}
      for i = 1, 10 do
        parts[i] = string.rep(string.char(96 + i), 20 * 1024 * 1024)
        collectgarbage()
      end
      local big = { "big", table.unpack(parts) }
      parts = nil
      print("insert", pcall(t.insert, t, big))
      print("send", pcall(hl.send, hl.self(), big))
      big = nil
      collectgarbage()
      assert(t:insert({ "small", 2 }))
      assert(t:lookup("small")[1][2] == 2)
      assert(t:update_counter("small", 1) == 3)
      hl.send(hl.self(), { "m", 1 })
      assert(hl.receive(0)[2] == 1)
      hl.store.put("ns", "k", "v")
      assert(hl.store.get("ns", "k") == "v")
      print("OK")
    ]==], 60, limited())
    assert.is_true(ok and out:find("\nOK\n", 1, true) ~= nil, out)
    assert.matches("insert\tfalse\theirloom%.table%.insert: object: out of memory", out)
    assert.matches("send\tfalse\theirloom%.send: message: out of memory", out)
  end)
end)
