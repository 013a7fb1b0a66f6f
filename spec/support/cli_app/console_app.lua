-- console_app.lua — a one-process application whose node opens a remote
-- console at the default path (console_spec sets XDG_RUNTIME_DIR).
return {
  name = "consoleapp",
  node = { schedulers = 2, console = true },
  main = { "cli_worker", "loop", "console_worker" },
}
