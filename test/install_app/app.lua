-- app.lua — the application that scripts/check-install.sh runs with an
-- installed heirloom command: one process (hello.lua, beside it) that
-- returns, which ends the command with status 0.
return { name = "hello", node = { schedulers = 2 }, main = { "hello", "run" } }
