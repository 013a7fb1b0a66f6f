-- kind_spec.lua — hl.kind: which of heirloom's own values a value is,
-- judged by the binding's metatables, never by what the value prints as.
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local hl = S.hl
local expect, tagged = S.expect, S.tagged

describe("hl.kind", function()
  before_each(function() hl.start{ schedulers = 2, logger = "capture" } end)
  after_each(function() pcall(hl.stop) end)

  it("names pids, table handles and references", function()
    assert.are.equal("pid", hl.kind(hl.self()))
    assert.are.equal("pid", hl.kind(hl.spawn("echo", "loop")))
    local t = hl.table.new("kinds", {})
    assert.are.equal("table", hl.kind(t))
    t:drop()
    assert.are.equal("table", hl.kind(t))             -- a dropped table's handle is still one
    local ref = hl.monitor(hl.self())
    assert.are.equal("ref", hl.kind(ref))
    hl.demonitor(ref)
    local a = hl.alias()
    assert.are.equal("ref", hl.kind(a))               -- an alias is a reference
    hl.unalias(a)
    assert.are.equal("ref", hl.kind(a))
    assert.are.equal("ref", hl.kind(hl.send_after(10000, hl.self(), "x")))
  end)

  it("names the values that came in a message too", function()
    local t = hl.table.new("kinds_msg", { access = "public" })
    hl.spawn(function(to, tab)
      local h = require("heirloom")
      local a = h.alias()
      h.send(to, { "kinds", h.kind(to), h.kind(tab), h.kind(a), h.kind("x"), h.self(), a, tab })
    end, hl.self(), t)
    local m = expect(tagged("kinds"))
    assert.are.same({ "pid", "table", "ref" }, { m[2], m[3], m[4] })
    assert.is_nil(m[5])
    assert.are.same({ "pid", "ref", "table" }, { hl.kind(m[6]), hl.kind(m[7]), hl.kind(m[8]) })
    t:drop()
  end)

  it("is nil for every plain Lua value", function()
    for _, v in ipairs({ 0, 1.5, "<0.1.0>", "#Ref<1>", "#Tab<x.1>", true, false, {},
                         print, function() end, coroutine.create(function() end), io.stdout }) do
      assert.is_nil(hl.kind(v), tostring(v))
    end
    assert.is_nil(hl.kind(nil))
    assert.are.equal(1, select("#", hl.kind(nil)))     -- one result, nil
  end)

  it("is nil for a table that prints like a pid", function()
    local pid = hl.self()
    local forged = setmetatable({}, { __tostring = function() return tostring(pid) end })
    assert.are.equal(tostring(pid), tostring(forged))
    assert.is_nil(hl.kind(forged))
    for _, text in ipairs({ "#Ref<7>", "#Tab<t.3>" }) do
      assert.is_nil(hl.kind(setmetatable({}, { __tostring = function() return text end })))
    end
  end)

  it("is nil for a value that carries a pid's __name or even its metatable", function()
    local mt = getmetatable(hl.self())
    assert.is_nil(hl.kind(setmetatable({}, { __name = mt.__name })))
    assert.is_nil(hl.kind(setmetatable({}, mt)))         -- a table, not heirloom's userdata
    -- a userdata of another library, given the name and the printing of a pid
    local f = io.tmpfile()
    local fmt = getmetatable(f)
    debug.setmetatable(f, { __name = mt.__name, __tostring = mt.__tostring, __index = fmt.__index })
    assert.is_nil(hl.kind(f))
    debug.setmetatable(f, fmt)
    f:close()
  end)

  it("needs its argument", function()
    local ok, e = pcall(hl.kind)
    assert.is_false(ok)
    assert.is_truthy(tostring(e):find("heirloom.kind: missing argument 'value'", 1, true), tostring(e))
  end)

  it("works before a node is started and after it stops", function()
    local t = hl.table.new("kinds_stop", {})
    local me = hl.self()
    hl.stop()
    assert.are.equal("pid", hl.kind(me))
    assert.are.equal("table", hl.kind(t))
    assert.is_nil(hl.kind("x"))
  end)
end)

describe("the Lua modules tell pids by hl.kind, not by their text", function()
  before_each(function() hl.start{ schedulers = 2, logger = "capture" } end)
  after_each(function() pcall(hl.stop) end)

  -- A userdata of another library (an open file) that prints as `text`.
  -- A plain Lua table never passed for a pid; such a userdata did.
  local forged = {}
  local function forge(text)
    local f = io.tmpfile()
    local mt = getmetatable(f)
    debug.setmetatable(f, { __tostring = function() return text end, __index = mt.__index })
    forged[#forged + 1] = { f, mt }
    return f
  end
  after_each(function()
    for _, x in ipairs(forged) do debug.setmetatable(x[1], x[2]); x[1]:close() end
    forged = {}
  end)

  local function message_of(f, ...)
    local ok, e = pcall(f, ...)
    assert.is_false(ok, "expected an error")
    return tostring(e)
  end

  it("hl.server.call, cast and stop refuse a value that prints like a pid", function()
    for _, f in ipairs({ "call", "cast", "stop" }) do
      for _, v in ipairs({ forge(tostring(hl.self())), setmetatable({}, { __tostring = function()
          return tostring(hl.self()) end }) }) do
        local e = message_of(hl.server[f], v, "request")
        assert.is_truthy(e:find("heirloom.server." .. f .. ": dest must be a pid or a registered name (got ",
          1, true), e)
      end
    end
  end)

  it("hl.server.reply refuses a from whose caller or alias only prints like one", function()
    local a = hl.alias()
    local e = message_of(hl.server.reply, { forge(tostring(hl.self())), a }, 1)
    assert.is_truthy(e:find("heirloom.server.reply: from must be the 'from' given to handle_call", 1, true), e)
    e = message_of(hl.server.reply, { hl.self(), forge(tostring(a)) }, 1)
    assert.is_truthy(e:find("heirloom.server.reply: from must be the 'from' given to handle_call", 1, true), e)
    hl.unalias(a)
  end)

  it("hl.supervisor's calls refuse a value that prints like a pid", function()
    for _, v in ipairs({ forge(tostring(hl.self())), setmetatable({}, { __tostring = function()
        return tostring(hl.self()) end }) }) do
      local e = message_of(hl.supervisor.which_children, v)
      assert.is_truthy(e:find("heirloom.supervisor.which_children: sup must be a pid or a registered name " ..
        "(got ", 1, true), e)
    end
  end)
end)
