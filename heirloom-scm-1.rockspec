-- heirloom-scm-1.rockspec: the Lua module for LuaRocks, built from this
-- checkout by the Makefile. In the project's directory:
--   luarocks --lua-version 5.4 make [--tree DIR]
-- builds build/heirloom.so (make lua-module, without the Debian package
-- step) and installs it with lua/heirloom/*.lua into the rock tree
-- (make install-lua). LevelDB and Lua 5.4's headers must be installed.
rockspec_format = "3.0"
package = "heirloom"
version = "scm-1"
source = {
  url = "git+file://.",   -- a checkout: `luarocks make` builds it where it is
}
description = {
  summary = "In-memory tables that outlive the processes that own them",
  detailed = [[
heirloom brings Erlang's ETS tables (set, ordered_set, bag, duplicate_bag,
with owners and heirs), processes with mailboxes, links and monitors, and an
OTP-style supervisor and server to Lua 5.4, with LevelDB for durable tables.
]],
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
external_dependencies = {
  LEVELDB = { header = "leveldb/c.h", library = "leveldb" },
}
build = {
  type = "make",
  build_target = "lua-module",
  build_variables = {
    DEPS = "",
    OPT = "$(CFLAGS)",
    CC = "$(CC)",
    LUA_CFLAGS = "-I$(LUA_INCDIR)",
    LEVELDB_LIBS = "-L$(LEVELDB_LIBDIR) -lleveldb",
  },
  install_target = "install-lua",
  install_variables = {
    DEPS = "",
    LUA_CMOD = "$(LIBDIR)",
    LUA_LMOD = "$(LUADIR)",
  },
}
