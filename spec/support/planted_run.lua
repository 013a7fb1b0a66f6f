-- planted_run.lua — explore on planted_bug.lua's scenario, alone: not a
-- spec of the suite (its name does not end in _spec) but a spec file that
-- spec/explore_spec.lua runs with busted in a child, to read the failing
-- seed it prints and run the replay command printed.
local HERE = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
if not package.path:find(HERE .. "?.lua", 1, true) then package.path = HERE .. "?.lua;" .. package.path end
local T = require("heirloom.test")
local planted = require("planted_bug")

describe("planted bug", function()
  it("is found by explore", function()
    T.explore(planted.plan(200))
  end)
end)
