-- lazy_state_spec.lua — a new process's state makes the base library's
-- functions, the other standard libraries and the heirloom module's fields
-- on first use (docs/processes.md, "Memory"); none of it may show: each
-- test looks from a process that has done nothing else first, and sees
-- what plain lua (this host) and the documentation show.
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local hl = S.hl
local expect, tagged = S.expect, S.tagged

-- Every field of the heirloom module the documentation names.
local DOCUMENTED = {
  "start", "stop", "crash", "kind", "version", "self", "send", "receive",
  "receive_with_sender", "send_alias", "sleep", "link", "unlink", "monitor", "demonitor",
  "alias", "unalias", "trap_exit", "exit", "register", "unregister", "whereis",
  "await_name", "send_after", "cancel_timer", "processes", "process_info", "run", "logs",
  "spawn", "spawn_link", "spawn_opt", "now", "monotime", "advance", "trace_hash", "trace",
  "table", "store", "fault", "server", "supervisor", "tablemgr",
}

local LIBRARIES = { "coroutine", "debug", "io", "math", "os", "package", "string", "table", "utf8" }

-- Lua 5.4's base library, as this host (plain lua) has it.
local BASE = {}
for _, name in ipairs{ "assert", "collectgarbage", "dofile", "error", "getmetatable", "ipairs",
  "load", "loadfile", "next", "pairs", "pcall", "print", "rawequal", "rawget", "rawlen",
  "rawset", "require", "select", "setmetatable", "tonumber", "tostring", "type", "warn",
  "xpcall", "_G", "_VERSION" } do
  BASE[#BASE + 1] = name
  assert(_G[name] ~= nil, name)
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  return keys
end

-- Runs body(to, ...) in a new process; returns what it sent back in
-- {"seen", value}.
local function in_fresh_process(body, ...)
  hl.spawn(body, hl.self(), ...)
  return expect(tagged("seen"), 5000)[2]
end

describe("a new process's state", function()
  before_each(function() S.start(2) end)
  after_each(function() pcall(hl.stop) end)

  it("lists every documented heirloom field with pairs, as its first act", function()
    local seen = in_fresh_process(function(to)
      local h = require("heirloom")
      local keys = {}
      for k, v in pairs(h) do keys[k] = type(v) end
      h.send(to, { "seen", keys })
    end)
    for _, name in ipairs(DOCUMENTED) do
      assert.is_not_nil(seen[name], "pairs(heirloom) lacks " .. name)
    end
    assert.are.equal("string", seen.version)
    assert.are.equal("function", seen.receive)
    assert.are.equal("table", seen.table)
  end)

  it("reaches every documented heirloom field by name, each read first", function()
    for _, name in ipairs(DOCUMENTED) do
      local seen = in_fresh_process(function(to, field)
        local h = require("heirloom")
        local t = type(h[field])
        h.send(to, { "seen", { t, rawget(h, field) ~= nil } })
      end, name)
      assert.are_not.equal("nil", seen[1], "heirloom." .. name)
      assert.is_true(seen[2], "heirloom." .. name .. " is kept once made")
    end
    local h = require("heirloom")
    assert.are.equal(hl.version, in_fresh_process(function(to)
      require("heirloom").send(to, { "seen", require("heirloom").version })
    end))
    assert.is_nil(h.no_such_field)
  end)

  it("lists the whole base library and every standard library with pairs(_G)", function()
    local seen = in_fresh_process(function(to)
      local keys = {}
      for k, v in pairs(_G) do keys[k] = type(v) end
      require("heirloom").send(to, { "seen", keys })
    end)
    for _, name in ipairs(BASE) do
      assert.are.equal(type(_G[name]), seen[name], "pairs(_G) and " .. name)
    end
    for _, name in ipairs(LIBRARIES) do
      assert.are.equal("table", seen[name], "pairs(_G) and " .. name)
    end
  end)

  it("lists every function of each standard library, first touched by pairs", function()
    for _, lib in ipairs(LIBRARIES) do
      local seen = in_fresh_process(function(to, name)
        local keys = {}
        for k in pairs(_G[name]) do keys[#keys + 1] = tostring(k) end
        table.sort(keys)
        require("heirloom").send(to, { "seen", keys })
      end, lib)
      local expected = sorted_keys(_G[lib])
      if lib == "package" then
        -- the host's package has what busted and the specs' helpers added
        for _, k in ipairs(seen) do assert.is_not_nil(package[k], "package." .. k) end
        for _, k in ipairs{ "config", "cpath", "loaded", "loadlib", "path", "preload",
          "searchers", "searchpath" } do
          assert.is_true(table.concat(seen, " "):find(k, 1, true) ~= nil, "package." .. k)
        end
      else
        assert.are.same(expected, seen, lib)
      end
    end
  end)

  it("opens a library through require and package.loaded, the same table", function()
    local seen = in_fresh_process(function(to)
      local r = {}
      r.required = require("string") == string
      r.loaded = package.loaded.table == table and package.loaded.math == require("math")
      r.g = require("_G") == _G and package.loaded._G == _G
      r.utf8 = package.loaded.utf8.char(72, 105)
      require("heirloom").send(to, { "seen", r })
    end)
    assert.are.same({ required = true, loaded = true, g = true, utf8 = "Hi" }, seen)
  end)

  it("calls string methods as its first act", function()
    local seen = in_fresh_process(function(to)
      local up = ("abc"):upper()
      local len = ("abcd"):len()
      require("heirloom").send(to, { "seen", { up, len, ("x"):rep(3, ",") } })
    end)
    assert.are.same({ "ABC", 4, "x,x,x" }, seen)
  end)

  it("gives the string metatable of plain lua, which code can extend", function()
    local seen = in_fresh_process(function(to)
      local mt = getmetatable("")
      local r = { index_is_string = mt.__index == string }
      mt.__index.shout = function(s) return s:upper() .. "!" end
      r.shout = ("hey"):shout()
      require("heirloom").send(to, { "seen", r })
    end)
    assert.are.same({ index_is_string = true, shout = "HEY!" }, seen)
  end)

  it("keeps every global when code puts a metatable of its own on _G", function()
    local seen = in_fresh_process(function(to)
      -- a strict-mode guard, as many programs have
      setmetatable(_G, {
        __index = function(_, k) error("undeclared global " .. tostring(k), 2) end,
        __newindex = function(_, k) error("assignment to undeclared global " .. k, 2) end,
      })
      local r = {}
      r.print = type(print)
      r.string = string.format("%d", 5)
      r.table = table.concat({ "a", "b" })
      r.os = type(os.time())
      r.guarded = not pcall(function() return no_such_global end)
      require("heirloom").send(to, { "seen", r })
    end)
    assert.are.same({ print = "function", string = "5", table = "ab", os = "number",
      guarded = true }, seen)
  end)

  it("keeps every global when code changes _G's metatable in place", function()
    local seen = in_fresh_process(function(to)
      -- strict.lua's way: the existing metatable, if any, gets new fields
      local mt = getmetatable(_G)
      if mt == nil then
        mt = {}
        setmetatable(_G, mt)
      end
      mt.__newindex = function(t, k, v) rawset(t, k, v) end
      mt.__index = function(_, k) error("undeclared global " .. tostring(k), 2) end
      local r = { print = type(print), math = math.floor(2.5), xpcall = type(xpcall) }
      r.guarded = not pcall(function() return no_such_global end)
      require("heirloom").send(to, { "seen", r })
    end)
    assert.are.same({ print = "function", math = 2, xpcall = "function", guarded = true }, seen)
  end)

  it("sends to a pid that arrives after its message functions were made", function()
    -- no pid among the arguments: the pid metatable does not exist yet when
    -- send and receive are first read
    local pid = hl.spawn(function()
      local h = require("heirloom")
      local send, receive, kind = h.send, h.receive, h.kind
      local who = receive()
      send(who, { "seen", kind(who) })
      send(who, { "seen", "again" })
    end)
    hl.send(pid, hl.self())
    assert.are.equal("pid", expect(tagged("seen"), 5000)[2])
    assert.are.equal("again", expect(tagged("seen"), 5000)[2])
  end)

  it("keeps a global removed, whether it was read before or not", function()
    local seen = in_fresh_process(function(to)
      local h = require("heirloom")
      local r = { print = type(print) }
      print, dofile, io = nil, nil, nil      -- print was read, dofile and io were not
      r.after = { type(print), type(dofile), type(io) }
      load = 5
      r.load = load
      r.loaded_io = type(package.loaded.io)  -- require finds what plain lua's would
      h.send(to, { "seen", r })
    end)
    assert.are.same({ print = "function", after = { "nil", "nil", "nil" }, load = 5,
      loaded_io = "table" }, seen)
  end)

  it("leaves missing globals nil and refuses debug.sethook", function()
    local seen = in_fresh_process(function(to)
      local r = { missing = nosuchglobal == nil, raw = rawget(_G, "nosuchglobal") == nil }
      r.sethook = (pcall(debug.sethook))
      require("heirloom").send(to, { "seen", r })
    end)
    assert.are.same({ missing = true, raw = true, sethook = false }, seen)
  end)
end)
