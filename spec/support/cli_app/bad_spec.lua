-- bad_spec.lua — an application whose supervisor spec is wrong: the
-- second child's restart type does not exist.
return {
  name = "bad_spec",
  supervisor = {
    strategy = "one_for_one",
    children = {
      { id = "first", start = { "cli_worker", "start_link", "first" } },
      { id = "second", start = { "cli_worker", "start_link", "second" }, restart = "sometimes" },
    },
  },
}
