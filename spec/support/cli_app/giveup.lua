-- giveup.lua — an application whose only child crashes every 50 ms: the
-- top supervisor reaches its restart intensity and exits on its own.
return {
  name = "giveup",
  supervisor = {
    name = "giveup_sup", strategy = "one_for_one", intensity = 2, period = 10,
    children = {
      { id = "crasher", start = { "heirloom.supervisor", "spawn_link", "cli_worker", "crash_after", 50 } },
    },
  },
}
