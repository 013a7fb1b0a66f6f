-- tables_demo.lua — what `make run` shows: heirloom's ETS tables from Lua.
-- Until processes exist, the host state owns every table; the demo walks
-- through the four table types, counters, traversal and match specs.
local hl = require("heirloom")

local function show(label, value)
  local function render(v)
    if type(v) ~= "table" then return tostring(v) end
    local parts = {}
    for i = 1, #v do parts[#parts + 1] = render(v[i]) end
    for k, x in pairs(v) do
      if math.type(k) ~= "integer" or k < 1 or k > #v then
        parts[#parts + 1] = tostring(k) .. "=" .. render(x)
      end
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  print(string.format("%-44s %s", label, render(value)))
end

hl.start{}
print("heirloom " .. hl.version .. ": the host process is " .. tostring(hl.self()))

-- A set: one object per key; insert replaces.
local users = hl.table.new("users", { type = "set", named = true })
users:insert({ "alice", 31, "admin" }, { "bob", 27, "dev" })
users:insert({ "bob", 28, "dev" })
show("users:lookup('bob')", users:lookup("bob"))
show("users:lookup_element('alice', 3)", users:lookup_element("alice", 3))
show("hl.table.whereis('users') == users", hl.table.whereis("users") == users)

-- Counters, the way etscounter keeps its count.
local counters = hl.table.new("counters", { type = "set" })
for _ = 1, 3 do counters:update_counter("count", 1, { "count", 0 }) end
show("count after three increments", counters:lookup_element("count", 2))
show("capped counter {2, 10, 12, 0}", counters:update_counter("count", { 2, 10, 12, 0 }))

-- A bag keeps distinct objects per key; a duplicate_bag keeps them all.
local tags = hl.table.new("tags", { type = "bag" })
tags:insert({ "lua", "fast" }, { "lua", "small" }, { "lua", "fast" })
show("bag:lookup('lua')", tags:lookup("lua"))

-- An ordered_set walks in Erlang's term order: numbers < booleans < tables < strings.
local ordered = hl.table.new("ordered", { type = "ordered_set" })
ordered:insert({ "zebra" }, { 3 }, { 1.5 }, { true }, { { 1, 2 } }, { -7 })
local keys, k = {}, ordered:first()
while k ~= nil do keys[#keys + 1] = k; k = ordered:next(k) end
show("ordered_set keys in order", keys)

-- Map-shaped objects with a named key field.
local people = hl.table.new("people", { keypos = "id" })
people:insert({ id = 7, name = "Ada", langs = { "lua", "erlang" } })
show("people:lookup(7)[1].langs", people:lookup(7)[1].langs)

-- Match specifications run in C; only matches come back to Lua.
for i = 1, 20 do users:insert({ "user" .. i, 20 + i, i % 2 == 0 and "dev" or "ops" }) end
show("select names of devs over 35", users:select({
  { { "$1", "$2", "dev" }, { { ">", "$2", 35 } }, { "$1" } } }))
show("select_count of ops", users:select_count({ { { "_", "_", "ops" }, {}, { true } } }))

show("info of users", { size = users:info("size"), type = users:info("type"),
                        owner = tostring(users:info("owner")) })

-- Bad input: a clear error naming the function and the argument; nothing changes.
local ok, err = pcall(users.insert, users, { "carol", 30 }, { "dave", function() end })
show("insert with a function inside", err)
show("carol was not half-inserted", users:member("carol") == false)

hl.stop()
print("node stopped: every table dropped")
