-- planted_keeper.lua — the keeper of planted_bug.lua, as a server module.
return require("planted_bug").keeper
