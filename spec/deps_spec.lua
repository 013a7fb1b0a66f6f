-- deps_spec.lua — scripts/deps.sh, run against stand-in dpkg-query, apt-get
-- and update-alternatives: it installs what is missing and leaves the `lua`
-- and `luac` commands as they were, including when there were none.
local dir = (debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "../"

local function sh(script)
  local p = io.popen(script .. " 2>&1")
  local out = p:read("a")
  p:close()
  return out
end

-- A scratch root: bin/ holds the commands, alt/NAME the alternatives
-- registered for NAME, one path per line; apt-get's "install" runs the
-- file install.sh, which each test writes.
local function stage(before)
  local root = os.tmpname()
  os.remove(root)
  assert(os.execute("mkdir -p " .. root .. "/tools " .. root .. "/bin " .. root .. "/alt"))
  local tools = {
    ["dpkg-query"] = 'grep -qx "$3" "$ROOT/installed" && printf "install ok installed"',
    ["apt-get"] = '[ "$1" = update ] || sh "$ROOT/install.sh"',
    ["update-alternatives"] = [[
case $1 in
  --list) cat "$ROOT/alt/$2" ;;
  --set) grep -qx "$3" "$ROOT/alt/$2" || { echo "error: alternative $3 for $2 not registered"; exit 2; }
         ln -sf "$3" "$ROOT/bin/${2%-*}" ;;
esac]],
    id = "echo 0",
  }
  for name, body in pairs(tools) do
    local f = assert(io.open(root .. "/tools/" .. name, "w"))
    f:write("#!/bin/sh\n", body, "\n")
    f:close()
  end
  assert(os.execute("chmod +x " .. root .. "/tools/*"))
  local f = assert(io.open(root .. "/install.sh", "w"))
  f:write(before)
  f:close()
  return root
end

-- Runs deps.sh with the stand-ins first on PATH; refuses to run it at all
-- unless each of them is what the shell would call, so that a test can
-- never reach the machine's real package tools (as root, they would
-- install packages).
local function run(root, packages)
  local guard = {}
  for _, tool in ipairs({ "dpkg-query", "apt-get", "update-alternatives", "id" }) do
    guard[#guard + 1] = ('[ "$(command -v %s)" = "%s/tools/%s" ]'):format(tool, root, tool)
  end
  local out = sh(("cd %s && export ROOT=%s HEIRLOOM_BINDIR=%s/bin PATH=%s/tools:$PATH && %s "
    .. "|| { echo 'stand-ins not in use'; exit 1; }; sh scripts/deps.sh %s 2>&1; "
    .. "echo \"rc=$?\"; readlink %s/bin/lua")
    :format(dir, root, root, root, table.concat(guard, " && "), packages, root))
  assert(not out:find("stand-ins not in use", 1, true), out)
  return out
end

describe("scripts/deps.sh #child", function()
  it("makes lua Lua 5.4's where there was no lua command, though 5.1 outranks it", function()
    local root = stage([[
touch "$ROOT/bin/lua5.1" "$ROOT/bin/lua5.4"
printf "$ROOT/bin/lua5.1\n$ROOT/bin/lua5.4\n" > "$ROOT/alt/lua-interpreter"
ln -s "$ROOT/bin/lua5.1" "$ROOT/bin/lua"; echo lua5.4 >> "$ROOT/installed"
]])
    local out = run(root, "lua5.4")
    assert.matches("installing missing packages: lua5.4", out, 1, true)
    assert.not_matches("not registered", out, 1, true)
    assert.matches("rc=0", out, 1, true)
    assert.matches(root .. "/bin/lua5.4\n", out, 1, true)
    os.execute("rm -rf " .. root)
  end)

  it("puts lua back when a package brings an older Lua that outranks it", function()
    local root = stage([[
touch "$ROOT/bin/lua5.1"; echo "$ROOT/bin/lua5.1" >> "$ROOT/alt/lua-interpreter"
ln -sf "$ROOT/bin/lua5.1" "$ROOT/bin/lua"; echo luarocks >> "$ROOT/installed"
]])
    os.execute(("touch %s/bin/lua5.4; ln -s %s/bin/lua5.4 %s/bin/lua; echo %s/bin/lua5.4 > %s/alt/lua-interpreter")
      :format(root, root, root, root, root))
    local out = run(root, "luarocks")
    assert.matches("rc=0", out, 1, true)
    assert.matches(root .. "/bin/lua5.4\n", out, 1, true)
    os.execute("rm -rf " .. root)
  end)

  it("does nothing when every package is there", function()
    local root = stage("exit 1\n")
    os.execute(("echo lua5.4 > %s/installed"):format(root))
    local out = run(root, "lua5.4")
    assert.equal("rc=0\n", out)
    assert.not_matches("installing", out, 1, true)
    os.execute("rm -rf " .. root)
  end)
end)
