-- syntax_error.lua — an application file that does not compile (line 5).
return {
  name = "broken",
  main = { "cli_worker", "loop", "w" },
  node = { schedulers = = 2 },
}
