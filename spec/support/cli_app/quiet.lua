-- quiet.lua — giveup.lua with a silent log: its crashes and its top
-- supervisor's exit are reported nowhere but in the command's own line.
local app = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "giveup.lua")
app.name = "quiet"
app.node = { logger = "silent" }
return app
