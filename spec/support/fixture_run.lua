-- fixture_run.lua — run by spec/test_module_spec.lua with busted in a child
-- (its name does not end in _spec: the suite does not run it itself).
-- Tests 1 and 2 fail on purpose: 1 leaves a node running, 2 fails inside
-- heirloom.test's fixture with a process still alive. Tests 3 and 4 must
-- pass: each gets a fresh node, whatever came before.
local T = require("heirloom.test")
local hl = require("heirloom")

describe("without the fixture", function()
  it("1 leaves its node running and fails", function()
    hl.start{ schedulers = 0, logger = "capture" }
    error("boom 1")
  end)
end)

describe("with the fixture", function()
  T.node{ schedulers = 0 }

  it("2 fails with a process alive", function()
    hl.spawn(function() require("heirloom").receive() end)
    hl.run()
    error("boom 2")
  end)

  it("3 gets a fresh node", function()
    assert.are.equal(1, #hl.processes())
    assert.are.equal(hl.self(), hl.processes()[1])
    T.assert_no_leaks()
  end)

  it("4 too", function()
    assert.are.equal(1, #hl.processes())
    assert.is_true(hl.process_info(hl.self()).trap_exit)
  end)
end)
