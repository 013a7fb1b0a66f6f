-- blocked.lua — an application whose start never finishes: its second
-- child's start function waits for a message that never comes, so the
-- top supervisor (and the command's host, in start_link) wait for ever.
return {
  name = "blocked",
  node = { schedulers = 2 },
  supervisor = {
    strategy = "one_for_one",
    children = {
      { id = "early", start = { "cli_worker", "start_link", "early" } },
      { id = "stuck", start = { "cli_worker", "start_blocked", "stuck" } },
    },
  },
}
