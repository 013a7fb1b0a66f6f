-- terminal_spec.lua — the heirloom shell at a pseudo-terminal, driven by
-- spec/support/pty_drive.py: the line editor's history within and across
-- sessions, multi-line input, Ctrl-C during a blocked receive, Ctrl-D, and
-- the loss of the terminal stopping the application in order.
local HERE = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local S = dofile(HERE .. "support/hlspec.lua")
local APPS = HERE .. "support/cli_app/"
local BUILD = os.getenv("HEIRLOOM_BUILD") or "build"
local HEIRLOOM = BUILD .. "/heirloom"

local quote, read, assert_in_order = S.quote, S.read_file, S.assert_in_order

describe("heirloom command #child", function()
  describe("shell at a terminal", function()
    -- spec/support/pty_drive.py runs the shell at a pseudo-terminal
    local function drive(mode, home)
      local errfile = home .. "/stderr"
      local f = io.popen("timeout 60 python3 " .. quote(HERE .. "support/pty_drive.py") .. " " ..
                         quote(HEIRLOOM) .. " " .. quote(APPS .. "solo.lua") .. " " .. quote(home) .. " " ..
                         quote(errfile) .. " " .. mode .. " 2>&1")
      local said = f:read("a")
      f:close()
      local checks = {}
      for name, value in said:gmatch("(%u[%u_]*) ([^\n]*)") do checks[name] = value end
      return checks, said, read(errfile) or ""
    end

    it("keeps history, multi-line input, Ctrl-C during a blocked receive and Ctrl-D", function()
      local home = S.private_dir()   -- the shell's history file goes there
      local c, said, err = drive("session", home)
      assert.are.equal("True", c.PROMPT, said)
      assert.are.equal("2", c.HISTORY, said)
      assert.are.equal("True", c.MULTILINE, said)
      assert.are.equal("True", c.PROMPT_AGAIN, said)
      assert.are.equal("True", c.STATE_KEPT, said)
      assert.are.equal("0", c.EXIT, said)
      assert_in_order(err, "interrupted", "stopping solo", "solo stopped")
      -- the history outlives the session
      c, said = drive("recall", home)
      assert.are.equal("True", c.RECALLED, said)
      assert.are.equal("0", c.EXIT, said)
      os.execute("rm -rf " .. quote(home))
    end)

    it("the loss of the terminal during a blocked receive stops the application in order", function()
      local home = S.private_dir()   -- the shell's history file goes there
      local c, said, err = drive("hangup", home)
      assert.are.equal("True", c.PROMPT, said)
      assert.are.equal("0", c.EXIT, said)
      assert_in_order(err, "SIGHUP: leaving the shell", "stopping solo", "solo stopped")
      os.execute("rm -rf " .. quote(home))
    end)
  end)
end)
