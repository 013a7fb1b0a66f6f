-- examples_spec.lua — the runnable examples of examples/ replay their
-- seed's story with real kills and check the data: data_backup (seed 003),
-- etscounter (seed 002), etshandler (seeds 000 and 001), and the C host
-- program of examples/embed.
local ROOT = (debug.getinfo(1, "S").source:match("^@(.*)[/\\]spec[/\\]") or ".")
local EX = ROOT .. "/examples/"
for _, dir in ipairs{ "data_backup", "etscounter", "etshandler" } do
  local entry = EX .. dir .. "/?.lua"
  if not package.path:find(entry, 1, true) then
    package.path = entry .. ";" .. package.path    -- spawned processes inherit it
  end
end

local hl = require("heirloom")

-- ------------------------------------------------------------ helpers

-- The application file's supervisor spec, with every server's notices off.
local function app_spec(dir)
  local app = dofile(EX .. dir .. "/app.lua")
  local spec = app.supervisor
  for _, c in ipairs(spec.children) do
    local args = c.start[4]
    if type(args) == "table" then args.verbose = false end
  end
  return spec
end

local function start_app(dir)
  local sup, why = hl.supervisor.start_link(app_spec(dir))
  assert(sup, "the " .. dir .. " application did not start: " .. tostring(why))
  return sup
end

-- Kills pid (exit "kill", or an ordinary error through crash_fn) and
-- waits for its DOWN: when this returns, the pid is gone and its tables
-- have gone to their heirs.
local function kill_and_wait(pid, crash_fn)
  assert(pid, "no process to kill")
  local ref = hl.monitor(pid)
  if crash_fn then crash_fn() else hl.exit(pid, "kill") end
  local down = hl.receive(function(m)
    return type(m) == "table" and m[1] == "DOWN" and m[2] == ref
  end, 5000)
  assert(down, "no DOWN from " .. tostring(pid) .. " within 5 s")
  return down[4]
end

-- The live process registered as name once the supervisor has restarted
-- it (hl.await_name: no polling), different from old.
local function restarted(name, old)
  local deadline = hl.now() + 5000
  while true do
    local pid = hl.await_name(name, math.max(1, deadline - hl.now()))
    assert(pid, "nobody registered as " .. name .. " within 5 s")
    if pid ~= old and hl.process_info(pid) ~= nil then return pid end
    hl.sleep(1)     -- the dead holder's name is being freed
  end
end

local function stop_app(sup)
  if sup and hl.process_info(sup) then hl.supervisor.stop(sup) end
end

-- ------------------------------------------------------------ data_backup

describe("examples/data_backup (seed 003, Survive the Fire)", function()
  local dm = require("data_master")
  local server = require("data_server")
  local sup

  before_each(function()
    hl.start{ schedulers = 2, logger = "capture" }
    hl.trap_exit(true)
    sup = start_app("data_backup")
  end)
  after_each(function() pcall(stop_app, sup); pcall(hl.stop) end)

  it("DataMaster creates the table and is its heir; the Server owns it after init", function()
    local t = hl.table.whereis("data")
    assert.is_not_nil(t)
    local info = t:info()
    assert.are.equal(hl.whereis("data_server"), info.owner)
    assert.are.equal("data_master", info.heir)
    assert.are.equal("protected", info.access)
    assert.are.equal("ok", server.insert_data(1, "one"))
    assert.are.same({ 1, "one" }, server.get_data(1))
    assert.is_nil(server.get_data(2))
  end)

  it("the Server crashes with an error: the restarted Server has the same table, intact", function()
    local t = hl.table.whereis("data")
    for i = 1, 100 do server.insert_data(i, { n = i, sq = i * i }) end
    local old = hl.whereis("data_server")
    local reason = kill_and_wait(old, server.crash)
    assert.is_truthy(tostring(reason.error):find("calamity strikes", 1, true))
    local new = restarted("data_server", old)
    assert.are.equal(new, t:info("owner"))
    assert.is_true(hl.table.whereis("data") == t)         -- the same table, not a copy
    assert.are.equal(100, t:info("size"))
    for i = 1, 100 do assert.are.same({ i, { n = i, sq = i * i } }, server.get_data(i)) end
  end)

  it("the Server is killed again and again: every acknowledged write is there", function()
    local t = hl.table.whereis("data")
    local written = 0
    for round = 1, 10 do
      for k = 1, 5 do
        assert.are.equal("ok", server.insert_data(round * 10 + k, round))
        written = written + 1
      end
      local old = hl.whereis("data_server")
      kill_and_wait(old)
      restarted("data_server", old)
    end
    assert.are.equal(written, t:info("size"))
    for round = 1, 10 do
      for k = 1, 5 do assert.are.same({ round * 10 + k, round }, server.get_data(round * 10 + k)) end
    end
    assert.are.equal("data_master", t:info("heir"))     -- still heir after ten inheritances
  end)

  it("DataMaster is killed while the Server holds the table: the new DataMaster inherits the next crash", function()
    local t = hl.table.whereis("data")
    server.insert_data("k", "v")
    local old_dm = hl.whereis("data_master")
    kill_and_wait(old_dm)
    local new_dm = restarted("data_master", old_dm)
    assert.are.equal(hl.whereis("data_server"), t:info("owner"))   -- untouched
    local old = hl.whereis("data_server")
    local mref = hl.monitor(new_dm)
    kill_and_wait(old)
    -- the table went to the new DataMaster (the heir is its name), which gave it on
    restarted("data_server", old)
    assert.are.same({ "k", "v" }, server.get_data("k"))
    assert.is_true(hl.table.whereis("data") == t)
    assert.is_nil(hl.receive(function(m) return type(m) == "table" and m[2] == mref end, 0))
  end)

  it("DataMaster dies while it holds the table: custody keeps it and the new DataMaster claims it", function()
    local t = hl.table.whereis("data")
    server.insert_data("x", 42)
    assert.is_true(hl.supervisor.terminate_child(sup, "data_server"))
    assert.are.equal(hl.whereis("data_master"), t:info("owner"))   -- back with its heir
    local old_dm = hl.whereis("data_master")
    kill_and_wait(old_dm)
    local new_dm = restarted("data_master", old_dm)
    assert.are.equal(new_dm, t:info("owner"))                      -- claimed in init
    assert.is_truthy(hl.supervisor.restart_child(sup, "data_server"))
    assert.are.same({ "x", 42 }, server.get_data("x"))
    assert.is_true(hl.table.whereis("data") == t)
    assert.is_nil(dm.get_ets())      -- the Server has it: nobody else is handed it
    assert.are.equal(hl.whereis("data_server"), t:info("owner"))
  end)
end)
