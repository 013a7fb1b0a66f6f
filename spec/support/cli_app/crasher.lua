-- crasher.lua — an application whose main process dies on its own.
return {
  name = "crasher",
  main = { "cli_worker", "crash_after", 200 },
}
