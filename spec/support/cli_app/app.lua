-- app.lua — the cli_app test application: a supervisor with two workers
-- and a nested supervisor with one more, so an orderly stop shows its
-- right-to-left order and tree() has a level to show.
return {
  name = "cliapp",
  node = { schedulers = 2 },
  supervisor = {
    name = "cliapp_sup", strategy = "one_for_one", intensity = 3, period = 5,
    children = {
      { id = "first", start = { "cli_worker", "start_link", "first" } },
      { id = "inner", type = "supervisor",
        start = { "heirloom.supervisor", "start_link", {
          name = "inner_sup", strategy = "one_for_one",
          children = { { id = "third", start = { "cli_worker", "start_link", "third" } } },
        } } },
      { id = "second", start = { "cli_worker", "start_link", "second" } },
    },
  },
}
