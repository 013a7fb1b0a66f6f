-- sanitizer_spec.lua — the C module and the ThreadSanitizer runtime: a
-- module built without -fsanitize=thread, loaded in a Lua that runs under
-- TSan's runtime (preloaded, to test the build that has it), refuses to
-- load and says why, instead of loading: TSan cannot see that module's
-- atomics, so every reference count handed between threads (a process
-- freed by the last of its holders) would be reported as a data race.
-- Runs a child lua5.4 (tagged #child: a TSan pass leaves such specs out).
local BUILD = os.getenv("HEIRLOOM_BUILD") or "build"
local SAN = os.getenv("HEIRLOOM_SAN") or ""

local function run(cmd)
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  return out
end

-- The TSan runtime's file, or nil when the compiler has none.
local function tsan_runtime()
  local path = run("${CC:-cc} -print-file-name=libtsan.so 2>/dev/null"):match("^%s*(.-)%s*$")
  local f = path:find("/", 1, true) and io.open(path, "rb")
  if not f then return nil end
  f:close()
  return path
end

describe("the C module under ThreadSanitizer's runtime #child", function()
  it("a module built without ThreadSanitizer refuses to load, naming itself", function()
    local tsan = tsan_runtime()
    if tsan == nil then return pending("the compiler has no ThreadSanitizer runtime") end
    if SAN ~= "" then return pending("the module of this pass is built with " .. SAN) end
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write(("package.cpath = %q\n"):format(BUILD .. "/?.so"),
            "local ok, err = pcall(require, 'heirloom')\nprint(ok)\nprint(err)\n")
    f:close()
    local out = run("LD_PRELOAD=" .. tsan .. " TSAN_OPTIONS=die_after_fork=0 timeout 30 lua5.4 " ..
                    script .. " 2>&1")
    os.remove(script)
    local ok, err = out:match("^(%a+)\n(.*)$")
    assert.are.equal("false", ok, out)
    assert.truthy(err:find("built without ThreadSanitizer", 1, true), out)
    assert.truthy(err:find("heirloom.so", 1, true), out)
  end)
end)
