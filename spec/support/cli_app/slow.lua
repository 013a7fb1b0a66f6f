-- slow.lua — an application whose start takes a second: its second
-- child's start function sleeps before it starts the child.
return {
  name = "slow",
  node = { schedulers = 2 },
  supervisor = {
    strategy = "one_for_one",
    children = {
      { id = "early", start = { "cli_worker", "start_link", "early" } },
      { id = "late", start = { "cli_worker", "start_slowly", "late", 1000 } },
    },
  },
}
