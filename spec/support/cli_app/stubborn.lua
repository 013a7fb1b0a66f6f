-- stubborn.lua — an application whose main process ignores "shutdown".
return {
  name = "stubborn",
  node = { schedulers = 1 },
  main = { "cli_worker", "stubborn", "mule" },
}
