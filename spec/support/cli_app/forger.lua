-- forger.lua — an application whose main process sends the command's host
-- a forged EXIT of itself (the host must not believe it).
return {
  name = "forger",
  node = { schedulers = 2 },
  main = { "cli_worker", "forge_exit" },
}
