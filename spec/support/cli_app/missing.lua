-- missing.lua — an application whose only child's module does not exist:
-- it cannot start, and says why once.
return {
  name = "missing",
  supervisor = {
    name = "missing_sup", strategy = "one_for_one",
    children = { { id = "ghost", start = { "heirloom.supervisor", "spawn_link", "no_such_module_y", "go" } } },
  },
}
