-- spec/support/readyerr.lua — a module whose top level fails
-- (ready_state_spec).
error("readyerr: no top level today")
