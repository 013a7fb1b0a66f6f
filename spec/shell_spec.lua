-- shell_spec.lua — heirloom.shell, the prompt's library: Tab completion of
-- Lua names, and helpers whose output goes through shell.write, so that
-- a prompt elsewhere (a console) can take it.
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "support/hlspec.lua")
local hl = S.hl
local shell = require("heirloom.shell")

describe("heirloom.shell", function()
  local env
  before_each(function()
    hl.start{ schedulers = 2, logger = "capture" }
    env = setmetatable({}, { __index = _G })
    shell.install(env)
  end)
  after_each(function()
    shell.write = function(...) io.stdout:write(...) end
    pcall(hl.stop)
  end)

  it("completes globals, the module's fields and a handle's methods", function()
    env.scores = hl.table.new("scores")
    assert.are.same({ "print" }, shell.complete("pri", env))
    assert.are.same({ "hl.table", "hl.tablemgr" }, shell.complete("hl.ta", env))
    assert.are.same({ "hl.log.warning" }, shell.complete("hl.log.w", env))
    assert.are.same({ "scores:lookup", "scores:lookup_element" }, shell.complete("scores:loo", env))
    assert.are.same({ "string.format" }, shell.complete("string.form", env))
    local helpers = shell.complete("", env)
    for _, name in ipairs({ "hl", "i", "kill", "pid", "ps", "restart", "t", "top", "tree" }) do
      local found = false
      for _, h in ipairs(helpers) do found = found or h == name end
      assert.is_true(found, name)
    end
  end)

  it("completes nothing where there is nothing to complete, even past an __index that raises", function()
    assert.are.same({}, shell.complete("nosuch.", env))
    assert.are.same({}, shell.complete("1.", env))
    assert.are.same({}, shell.complete("(", env))
    env.trap = setmetatable({}, { __index = function() error("called") end })
    assert.are.same({}, shell.complete("trap.x.", env))
  end)

  it("helpers print through shell.write", function()
    local out = {}
    shell.write = function(...) for _, s in ipairs({ ... }) do out[#out + 1] = tostring(s) end end
    env.ps(hl.self())
    local text = table.concat(out)
    assert.is_truthy(text:find("pid%s+" .. tostring(hl.self()):gsub("%p", "%%%0")), text)
    assert.is_truthy(text:find("messages_received", 1, true), text)
  end)
end)
