-- explore_store_spec.lua — heirloom.test's explore with the store's faults:
-- writers insert into a durable table while the plan fails durable writes
-- (store_write) and crashes the whole node (crash), which restarts from
-- its data_dir. Whatever a writer was told was written is there after the
-- last crash; whatever it was told failed is not.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local S = dofile(here .. "support/hlspec.lua")   -- puts spec/support on package.path
local T = require("heirloom.test")
local hl = require("heirloom")

-- Under ThreadSanitizer every node start and crash adds threads whose
-- bookkeeping it never gives back: there 20 seeds (see explore_spec.lua).
local SEEDS = os.getenv("HEIRLOOM_SAN") == "tsan" and 20 or 100
local WRITERS, WRITES = 3, 12

local root = S.temp_root()

-- A writer: WRITES inserts into the durable table "ledger", each reported
-- to the host as {"ack", k} or {"nack", k}, then {"done"}.
local function writer(host, id, n)
  local hl_ = require("heirloom")
  local ledger = hl_.table.whereis("ledger")
  for i = 1, n do
    local k = id * 1000 + i
    local ok = pcall(ledger.insert, ledger, { k, i })
    hl_.send(host, { ok and "ack" or "nack", k })
    if i % 4 == 0 then hl_.sleep(1) end   -- other steps in between, where a crash can fall
  end
  hl_.send(host, { "done" })
end

local function open_ledger()
  return hl.table.whereis("ledger")
      or hl.table.new("ledger", { named = true, access = "public", durable = true })
end

-- The scenario of one seed; returns what the writers heard.
local function scenario(ctx)
  local heard = { ack = {}, nack = {} }
  local done = 0
  local function start_writers()
    done = 0
    open_ledger()
    for id = 1, WRITERS do hl.spawn(writer, hl.self(), id, WRITES) end
  end
  ctx.on_restart = start_writers
  start_writers()
  ctx.run_until(function()
    for m in function() return hl.receive(0) end do
      -- writers start over after a crash: a key written once stays
      -- written, whatever a later try of it hears
      if m[1] == "done" then done = done + 1
      elseif m[1] == "ack" then
        heard.ack[m[2]] = true
        heard.nack[m[2]] = nil
      elseif not heard.ack[m[2]] then
        heard.nack[m[2]] = true
      end
    end
    return done == WRITERS
  end)
  return heard
end

-- After one more crash, the ledger as a restarted node loads it.
local function reloaded(ctx)
  hl.crash()
  T.start(ctx.start)
  local ledger = assert(hl.table.whereis("ledger"), "the ledger is lost")
  local got = {}
  for _, o in ipairs(ledger:tab2list()) do got[o[1]] = o[2] end
  return got
end

describe("explore with store faults", function()
  teardown(function() os.execute("rm -rf " .. root) end)

  it("fails writes and crashes the node, and loses no acknowledged write", function()
    local crashes, nacks = 0, 0
    T.explore{
      seeds = SEEDS,
      start = { data_dir = root .. "/explore" },
      faults = { store_write = 0.1, crash = 0.03 },
      restart = function(ctx) ctx.on_restart() end,
      function(ctx)
        local heard = scenario(ctx)
        local got = reloaded(ctx)
        for k in pairs(heard.ack) do
          assert(got[k] == k % 1000, ("seed %d: key %d was acknowledged and is lost"):format(ctx.seed, k))
        end
        for k in pairs(heard.nack) do
          assert(got[k] == nil, ("seed %d: key %d failed and is there"):format(ctx.seed, k))
          nacks = nacks + 1
        end
        crashes = crashes + ctx.crashes
      end,
    }
    -- the plan did what it says: writes failed and nodes crashed
    assert.is_true(nacks > 0)
    assert.is_true(crashes > 0)
  end)
end)
