-- app.lua — seed 003's application: `build/heirloom run examples/data_backup/app.lua`
-- (or `heirloom shell` with it). DataMaster starts first and creates the
-- table; Server starts second and takes it.
return {
  name = "data_backup",
  supervisor = {
    name = "data_backup_sup", strategy = "one_for_one", intensity = 10, period = 5,
    children = {
      { id = "data_master",
        start = { "heirloom.server", "start_link", "data_master", { verbose = true }, { name = "data_master" } } },
      { id = "data_server",
        start = { "heirloom.server", "start_link", "data_server", { verbose = true }, { name = "data_server" } } },
    },
  },
}
