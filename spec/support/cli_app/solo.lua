-- solo.lua — an application without a supervisor: one main process.
return {
  name = "solo",
  node = { schedulers = 2 },
  main = { "cli_worker", "loop", "solo_worker" },
}
