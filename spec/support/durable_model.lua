-- spec/support/durable_model.lua — the workload of the durable specs:
-- step(t, type, i) is operation i (one heirloom call, so one atomic write)
-- on table t. The spec replays steps 1..k on an in-memory table to know
-- what a durable table must hold after k acknowledged steps.
local M = {}

local function hash_step(t, i)
  local r = i % 10
  if i % 1000 == 500 then t:delete_all_objects()
  elseif i % 50 == 49 then t:select_delete({ { { "$1", "_", "b" }, {}, { true } } })
  elseif i % 50 == 29 then
    t:select_replace({ { { "$1", "$2", "$3" }, { { ">", "$2", 3 } }, { { { "$1", 1, "$3" } } } } })
  elseif r == 0 then t:delete(i - 3)
  elseif r == 3 then t:take(i - 13)
  elseif r == 5 then t:update_counter(i - 1, { 2, 7 }, { i - 1, 0, "d" })
  elseif r == 7 then t:insert_many({ { i, 0, "a" }, { i + 1000000, 1, "b" } })
  elseif r == 8 then t:update_element(i - 2, { 3, "changed" .. i })
  elseif r == 9 then t:insert_new({ i - 9, 5, "new" })
  else t:insert({ i, 0, "v" .. i }) end
end

local function bag_step(t, i)
  local r = i % 10
  if i % 1000 == 500 then t:delete_all_objects()
  elseif i % 50 == 25 then t:match_delete({ "_", "y" })
  elseif i % 100 == 99 then t:delete(5)
  elseif r == 3 then t:delete_object({ (i - 10) % 37, i - 10 })
  elseif r == 6 then t:insert({ i % 37, "x" }, { (i + 1) % 37, "y" })
  elseif r == 1 then t:take((i * 7) % 37)
  else t:insert({ i % 37, i }) end
end

function M.step(t, ttype, i)
  if ttype == "bag" or ttype == "duplicate_bag" then bag_step(t, i) else hash_step(t, i) end
end

-- A table's objects in its own order, as one string.
function M.dump(t)
  local parts = {}
  for _, o in ipairs(t:tab2list()) do
    local e = {}
    for j, v in ipairs(o) do e[j] = tostring(v) end
    parts[#parts + 1] = "{" .. table.concat(e, ",") .. "}"
  end
  return table.concat(parts, " ")
end

return M
