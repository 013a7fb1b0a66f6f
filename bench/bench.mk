# bench/bench.mk — `make bench`: the same workloads on heirloom and on
# Erlang/OTP, one line per workload (bench/README.md): ETS tables against
# heirloom's (C and Lua APIs), Erlang processes against heirloom's, and
# the recovery of a supervised server that owns a table, and a round trip
# over the local Erlang distribution connection.
# `make bench WHAT=table`, `WHAT=memory`, `WHAT=proc`, `WHAT=recovery` or
# `WHAT=dist` runs one part only.
# Included by the Makefile, whose variables it uses.

BENCH_BIN = $(BUILD)/table_bench
BENCH_BEAM = $(BUILD)/ets_bench.beam $(BUILD)/proc_bench.beam
BENCH_BEAM += $(BUILD)/recovery_bench.beam
# a round trip over the local distribution connection (WHAT=dist)
BENCH_BEAM += $(BUILD)/dist_bench.beam
# lua-system gives proc_bench.lua its monotonic clock (busted needs it too).
BENCH_DEPS += lua-system
WHAT ?= all

.PHONY: bench-deps

bench: all bench-deps $(BENCH_BIN) $(BENCH_BEAM)
	$(LUA_ENV) WHAT="$(WHAT)" ./bench/run.sh "$(BUILD)"

bench-deps:
	@./scripts/deps.sh $(BENCH_DEPS)

$(BUILD)/table_bench.o: bench/table_bench.c include/heirloom.h | $(BUILD)
	$(CC) $(CFLAGS) -c $< -o $@

# Lua's library too: the program runs Lua states of its own (hl_lua_attach).
$(BENCH_BIN): $(BUILD)/table_bench.o $(BUILD)/libheirloom.a
	$(CC) $(LDFLAGS) $(LTO_LINK) -o $@ $^ $(LIBS) $(LUA_LIBS)

# Compiled, not interpreted: escripts without -mode(compile) would be.
$(BUILD)/%_bench.beam: bench/%_bench.erl | $(BUILD) bench-deps
	erlc -o $(BUILD) $<

# `make bench-store`: durable tables against dets (bench/store_bench.sh).
STORE_BEAM = $(BUILD)/store_bench.beam

.PHONY: bench-store

bench-store: all bench-deps $(STORE_BEAM)
	$(LUA_ENV) ./bench/run.sh "$(BUILD)" store

$(STORE_BEAM): bench/store_bench.erl | $(BUILD) bench-deps
	erlc -o $(BUILD) $<
