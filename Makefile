# heirloom — build, test, run.
#   make          the library (static and shared), the Lua module, the tests
#   make run      the main demo
#   make test     every C test and busted spec
#   make check-asan / check-tsan   the same under the sanitizers
#   make fuzz     the libFuzzer targets, for a long run (docs/term-format.md)
#   make bench    side-by-side benchmarks against Erlang/OTP
#   make install / uninstall   [PREFIX=/usr/local] [DESTDIR=...] (docs/c-api.md)
#   make check-install         install, pkg-config and luarocks, in temporary directories

DEPS = liblua5.4-dev lua5.4 libleveldb-dev lua-busted pkg-config libedit-dev
# Erlang's ei library (Erlang distribution, docs/distribution.md), and erl and
# epmd for its specs; escript (erlang-base, which it brings) runs the ETS
# side of spec/ets_diff_spec.lua
DEPS += erlang-dev
BENCH_DEPS = erlang-base

CC ?= cc
# make runs in parallel by default, one job per core; -jN (or -j1) on the
# command line wins, and a make run by another make shares its jobs. Every
# rule names what it needs, so any -j is safe.
ifeq ($(MAKELEVEL)$(filter -j%,$(MAKEFLAGS)),0)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif
LUA = lua5.4
SAN ?=
OPT ?= -O2
BUILD ?= build

# Where the libraries are. Elsewhere than Debian, set these on make's
# command line, with DEPS= for no package step (README.md, "Building on
# other systems"). Lua 5.4 is looked up by its pkg-config name (Debian's
# lua5.4; lua-5.4 or lua54 elsewhere).
LUA_PC := $(shell for p in lua5.4 lua-5.4 lua54; do pkg-config --exists $$p 2>/dev/null && { echo $$p; break; }; done)
LUA_CFLAGS := $(if $(LUA_PC),$(shell pkg-config --cflags $(LUA_PC)),-I/usr/include/lua5.4)
LUA_LIBS := $(if $(LUA_PC),$(shell pkg-config --libs $(LUA_PC)),-llua5.4)
LEVELDB_CFLAGS := $(shell pkg-config --cflags leveldb 2>/dev/null)
LEVELDB_LIBS := $(shell pkg-config --libs leveldb 2>/dev/null || echo -lleveldb)
EDIT_LIBS = -ledit
# ei's folder, whatever its version: found when first used (after deps has
# installed erlang-dev), from the usual place or else by asking erl.
EI_DIR = $(or $(lastword $(wildcard /usr/lib/erlang/lib/erl_interface-*)),$(shell erl -noshell -eval 'io:format("~s",[code:lib_dir(erl_interface)]),halt().' 2>/dev/null))
# _REENTRANT: erl_errno is per thread (ei.h)
EI_CFLAGS = -I$(EI_DIR)/include -D_REENTRANT
EI_LIBS = $(EI_DIR)/lib/libei.a

# src/ is layered (docs/architecture.md): each folder calls only those
# before it in this list, which scripts/layers.sh checks in `make test`.
LAYERS = base store tables procs dist api lua cli
SRC_DIRS = $(LAYERS:%=src/%)
HEADERS = $(wildcard src/*/*.h) include/heirloom.h
vpath %.c $(SRC_DIRS)

# -fvisibility=hidden: the shared library and the Lua module export only
# what include/heirloom.h declares (scripts/exports.sh checks it).
# Link-time optimization for what the build ships (the two libraries'
# shared objects, the Lua module, the command, the bench): a call from one
# file into another can then be inlined as a call within one file is. The
# objects carry their plain code too (fat), so that the tests link them
# without it, quickly, and the installed archive is plain code alone. The
# sanitizer and fuzz builds set LTO= to leave it out.
LTO ?= -flto=auto -ffat-lto-objects
LTO_LINK = $(if $(LTO),$(OPT) -flto=auto)
CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(OPT) $(LTO) -g -fPIC -fvisibility=hidden \
         -Iinclude $(SRC_DIRS:%=-I%) $(LUA_CFLAGS) $(LEVELDB_CFLAGS) $(EI_CFLAGS) $(SAN)
LDFLAGS = $(SAN)
LIBS = $(LUA_LIBS) $(LEVELDB_LIBS) $(EI_LIBS) -lpthread -lm

# The store layer sees bytes, not tables (src/store.h): it is built from
# the base and its own files alone, and test_storelayer links nothing else.
BASE = buf err term crc fault
STORE = store stab sload sstop sdir ldbfile srepair
CORE = buf term err crc fault spin rwlock pheap eobj eheap htab oset obulk ocat etab einsert eupdate escan edurable treg node mspec mspec_run mspec_int logger alias ptab proc owner scheduler preempt capi tabfile graveyard $(STORE)
# deterministic mode: the node's clock and the run's trace (issue 12)
CORE += simclock trace
# a mailbox that senders push to without a lock (issue 13)
CORE += mailbox tcache
# a C node of an Erlang cluster, through ei (issue 17)
CORE += dist dist_conn dist_term dist_cookie dist_tags
# links, monitors and exit signals across nodes; monitors of names said in the handshake
CORE += dist_link dist_wire dist_net dist_sock
# the Lua process body (lbody: resume, hook, allocator), its state pool and code cache
BIND = lbody spool lready codecache lscratch lhandle lterm lcall ltable lselect linfo lproc lstate lspawn lheirloom lstore lcoro lfault
BIND += lsim llog lpinfo lremote
BIND += ldist lintern llist
CORE_OBJ = $(CORE:%=$(BUILD)/%.o)
BIND_OBJ = $(BIND:%=$(BUILD)/%.o)
TESTS = test_term test_table test_threads test_mspec test_oset test_procs test_store test_owner test_scratch
# the supervisor (issue 4)
CORE += supervisor
BIND += lsupervisor
TESTS += test_supervisor
# the store layer on its own
TESTS += test_storelayer
# kill, preemption and stop (issue 10)
TESTS += test_stop
# slices ended by the ticker's signal, the host's signals untouched
TESTS += test_preempt
# deterministic mode's clock, trace and schedule (issue 12)
TESTS += test_simclock
# a process's own heap (issue 13)
TESTS += test_pheap
# the lock-free mailbox under threads (issue 13)
TESTS += test_mailbox
# the version macros and hl_version (issue 15)
TESTS += test_version
# the C API as a host uses it (issue 15)
TESTS += test_capi
CORE += capi_term capi_proc
# hash tables' striped open-addressing storage (issue 14)
TESTS += test_htab
# the contention-adapting ordered_set store (issue 14)
TESTS += test_ocat
# a table's objects in slabs of its own (issue 14)
TESTS += test_eheap
# the reader-writer lock whose readers write only their own line (issue 14)
TESTS += test_rwlock
# short waits, and the lock of a table heap's shards (issue 14)
TESTS += test_spin
# the term mapping of Erlang distribution (issue 17)
TESTS += test_dist
TEST_BIN = $(TESTS:%=$(BUILD)/%)
CLI = cli cli_lib cli_shell cli_signal
# the remote console: the node's listener and the attaching client
CLI += cli_console cli_remsh cli_addr
CLI_OBJ = $(CLI:%=$(BUILD)/%.o)

.PHONY: all deps run test check-asan check-tsan bench clean

all: deps $(BUILD)/libheirloom.a $(BUILD)/libheirloom-core.a $(BUILD)/libheirloom.so $(BUILD)/heirloom.so $(TEST_BIN) $(BUILD)/heirloom

deps:
	@./scripts/deps.sh $(DEPS)

# The other package steps wait for this one: two apt-get runs at once, under
# make -j, would fight over dpkg's lock.
fuzz-deps bench-deps: deps

$(BUILD)/test_%.o: test/test_%.c $(HEADERS) test/*.h | $(BUILD)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.c $(HEADERS) | $(BUILD)
	$(CC) $(CFLAGS) -c $< -o $@

# Every object waits for the build directory, and the directory for the
# packages: make -j compiles nothing before the headers are installed.
$(BUILD): | deps
	mkdir -p $(BUILD)

$(BUILD)/libheirloom.a: $(CORE_OBJ) $(BIND_OBJ)
	ar rcs $@ $^

# The engine without Lua: everything but hl_spawn and hl_lua_*.
$(BUILD)/libheirloom-core.a: $(CORE_OBJ)
	ar rcs $@ $^

# The version, read from include/heirloom.h. The shared library is
# libheirloom.so.MAJOR.MINOR.PATCH, its SONAME libheirloom.so.MAJOR (what
# a program linked with it loads), and libheirloom.so the name -lheirloom
# links with.
hl_version_part = $(shell awk '$$2 == "HL_VERSION_$(1)" { print $$3 }' include/heirloom.h)
VERSION_MAJOR := $(call hl_version_part,MAJOR)
VERSION := $(VERSION_MAJOR).$(call hl_version_part,MINOR).$(call hl_version_part,PATCH)
SONAME = libheirloom.so.$(VERSION_MAJOR)

$(BUILD)/libheirloom.so.$(VERSION): $(CORE_OBJ) $(BIND_OBJ)
	$(CC) -shared $(LDFLAGS) $(LTO_LINK) -Wl,-soname,$(SONAME) -Wl,--exclude-libs,ALL -o $@ $^ $(LIBS)

$(BUILD)/libheirloom.so: $(BUILD)/libheirloom.so.$(VERSION)
	ln -sf libheirloom.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf libheirloom.so.$(VERSION) $@

# --exclude-libs: what static archives bring in (ei) stays hidden, as the
# engine's own symbols do.
# The Lua module: require("heirloom") finds build/heirloom.so.
$(BUILD)/heirloom.so: $(CORE_OBJ) $(BIND_OBJ)
	$(CC) -shared $(LDFLAGS) $(LTO_LINK) -Wl,--exclude-libs,ALL -o $@ $^ $(LEVELDB_LIBS) $(EI_LIBS) -lpthread -lm

# The Lua module alone: the build step of heirloom-scm-1.rockspec.
.PHONY: lua-module
lua-module: $(BUILD)/heirloom.so

$(BUILD)/test_%: $(BUILD)/test_%.o $(BUILD)/libheirloom.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# The C tests of terms, tables, match specs, the store, threads and the
# supervisor's decisions link the engine without Lua: a call into the Lua
# binding from below fails their link.
CORE_TESTS = test_dist test_eheap test_htab test_rwlock test_spin test_mailbox test_ocat test_pheap test_term test_table test_threads test_mspec test_oset test_store test_supervisor
$(CORE_TESTS:%=$(BUILD)/%): $(BUILD)/%: $(BUILD)/%.o $(BUILD)/libheirloom-core.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LEVELDB_LIBS) $(EI_LIBS) -lpthread -lm

# No Lua, no tables, no node: an upward call of a store file fails the link.
$(BUILD)/test_storelayer: $(BUILD)/test_storelayer.o $(BASE:%=$(BUILD)/%.o) $(STORE:%=$(BUILD)/%.o)
	$(CC) $(LDFLAGS) -o $@ $^ $(LEVELDB_LIBS) -lpthread -lm

# The heirloom command (docs/heirloom-command.md); it finds the Lua
# library as <its directory>/../lua in a build tree, else in LUA_LMOD (the
# install's), compiled into cli.o. $(BUILD)/lua_lmod holds the directory
# cli.o was built with and changes only with it, so that `make install
# PREFIX=...` rebuilds cli.o and nothing else.
$(BUILD)/heirloom: $(CLI_OBJ) $(BUILD)/libheirloom.a
	$(CC) $(LDFLAGS) $(LTO_LINK) -o $@ $^ $(LIBS) $(EDIT_LIBS)
$(BUILD)/cli.o: CFLAGS += -DHL_LUA_DIR='"$(LUA_LMOD)"'
$(BUILD)/cli.o: $(BUILD)/lua_lmod
$(BUILD)/lua_lmod: FORCE | $(BUILD)
	@echo '$(LUA_LMOD)' | cmp -s - $@ || echo '$(LUA_LMOD)' > $@
FORCE:

# examples/embed: a C host program that embeds the engine and runs etscounter.
all: $(BUILD)/embed_example
$(BUILD)/embed_example: examples/embed/embed.c include/heirloom.h $(BUILD)/libheirloom.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libheirloom.a $(LDFLAGS) $(LIBS)

# src/cli/cli_lib.lua, compiled in as a C string literal.
$(BUILD)/cli_lib.inc: src/cli/cli_lib.lua | $(BUILD)
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@
$(BUILD)/cli_lib.o: $(BUILD)/cli_lib.inc
$(BUILD)/cli_lib.o: CFLAGS += -I$(BUILD)

LUA_ENV = LUA_CPATH="$(CURDIR)/$(BUILD)/?.so;;" LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;"
export HEIRLOOM_BUILD = $(CURDIR)/$(BUILD)

# seed 002's story: count, kill the server, kill the table manager; the count survives
run: all
	$(LUA_ENV) $(LUA) examples/etscounter/story.lua

# Each suite prints "N passed, N failed"; scripts/run-tests.sh adds them
# up. The plain run ends with a short run of the fuzz targets (FUZZ_SMOKE:
# their build directory; empty: none), the sanitizer runs without.
FUZZ_BUILD = build-fuzz
FUZZ_SMOKE ?= $(FUZZ_BUILD)
test: all $(if $(FUZZ_SMOKE),fuzz-build) $(if $(filter tsan,$(SAN_ENV)),$(BUILD)/tsan_longjmp.so)
	@LAYERS="$(LAYERS)" ./scripts/run-tests.sh "$(BUILD)" "$(TESTS)" "$(SAN_ENV)" "$(FUZZ_SMOKE)"

# Preloaded after TSan's runtime in the check-tsan pass, so that TSan sees
# the long jumps of Debian's Lua (test/tsan_longjmp.c says why). Built
# without the sanitizer: its longjmp must reach TSan's interceptor.
$(BUILD)/tsan_longjmp.so: test/tsan_longjmp.c | $(BUILD)
	$(CC) -std=c11 -Wall -Wextra -Werror -O1 -fPIC -shared -o $@ $<

check-asan:
	$(MAKE) test BUILD=build-asan OPT=-O1 LTO= SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" SAN_ENV=asan FUZZ_SMOKE=

check-tsan:
	$(MAKE) test BUILD=build-tsan OPT=-O1 LTO= SAN="-fsanitize=thread" SAN_ENV=tsan FUZZ_SMOKE=

# ---- installing (docs/c-api.md, "Building, installing and linking") ----
# make install / make uninstall, both with PREFIX (default /usr/local) and
# DESTDIR (a staging root). The Lua module and its Lua files go where Lua
# 5.4 looks by default under PREFIX: LUA_CMOD and LUA_LMOD, both on the
# default package.cpath and package.path of Debian's lua5.4 for /usr/local
# and /usr. make install-lua installs those two alone (the rockspec's step).
PREFIX = /usr/local
BINDIR = $(PREFIX)/bin
INCLUDEDIR = $(PREFIX)/include
LIBDIR = $(PREFIX)/lib
PKGCONFIGDIR = $(LIBDIR)/pkgconfig
MANDIR = $(PREFIX)/share/man
LUA_CMOD = $(LIBDIR)/lua/5.4
LUA_LMOD = $(PREFIX)/share/lua/5.4
LUA_FILES = $(wildcard lua/heirloom/*.lua)
INSTALL = install
# The installed archive keeps the objects' plain code alone: GCC's
# link-time code is read only by the GCC that wrote it.
STRIP_LTO = objcopy --wildcard -R '.gnu.lto_*' -R '.gnu.debuglto_*'
# refreshes ld.so's cache after (un)installing the shared library, when
# run as root without DESTDIR; LDCONFIG=: for none
LDCONFIG = ldconfig

.PHONY: install install-lua uninstall

# heirloom.pc (from heirloom.pc.in) requires Lua by its pkg-config name,
# LUA_PC, when pkg-config knows it, else it carries LUA_CFLAGS and LUA_LIBS.

install: install-lua $(BUILD)/libheirloom.a $(BUILD)/libheirloom.so $(BUILD)/heirloom
	$(INSTALL) -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	  $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 644 include/heirloom.h $(DESTDIR)$(INCLUDEDIR)/heirloom.h
	$(INSTALL) -m 644 $(BUILD)/libheirloom.a $(DESTDIR)$(LIBDIR)/libheirloom.a
	$(if $(LTO),$(STRIP_LTO) $(DESTDIR)$(LIBDIR)/libheirloom.a)
	$(INSTALL) -m 755 $(BUILD)/libheirloom.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libheirloom.so.$(VERSION)
	ln -sf libheirloom.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf libheirloom.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libheirloom.so
	sed -e 's|@prefix@|$(PREFIX)|' -e 's|@libdir@|$(LIBDIR)|' -e 's|@includedir@|$(INCLUDEDIR)|' \
	    -e 's|@lua_cmod@|$(LUA_CMOD)|' -e 's|@lua_lmod@|$(LUA_LMOD)|' -e 's|@version@|$(VERSION)|' \
	    -e 's|@requires@|$(LUA_PC)|' -e 's|@lua_cflags@|$(if $(LUA_PC),,$(LUA_CFLAGS))|' \
	    -e 's|@lua_libs@|$(if $(LUA_PC),,$(LUA_LIBS))|' -e 's|@libs_private@|$(LEVELDB_LIBS) $(EI_LIBS) -lpthread -lm|' \
	    heirloom.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/heirloom.pc
	$(INSTALL) -m 755 $(BUILD)/heirloom $(DESTDIR)$(BINDIR)/heirloom
	$(INSTALL) -m 644 docs/heirloom.1 $(DESTDIR)$(MANDIR)/man1/heirloom.1
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then $(LDCONFIG); fi

# make install and make uninstall, pkg-config, the installed command and
# module, and luarocks, checked in temporary directories
CHECK_INSTALL_DEPS = luarocks
.PHONY: check-install
check-install: all
	@./scripts/deps.sh $(CHECK_INSTALL_DEPS)
	@MAKE="$(MAKE)" BUILD="$(BUILD)" ./scripts/check-install.sh

install-lua: $(BUILD)/heirloom.so
	$(INSTALL) -d $(DESTDIR)$(LUA_CMOD) $(DESTDIR)$(LUA_LMOD)/heirloom
	$(INSTALL) -m 755 $(BUILD)/heirloom.so $(DESTDIR)$(LUA_CMOD)/heirloom.so
	$(INSTALL) -m 644 $(LUA_FILES) $(DESTDIR)$(LUA_LMOD)/heirloom/

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/heirloom.h $(DESTDIR)$(LIBDIR)/libheirloom.a \
	  $(DESTDIR)$(LIBDIR)/libheirloom.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	  $(DESTDIR)$(LIBDIR)/libheirloom.so $(DESTDIR)$(PKGCONFIGDIR)/heirloom.pc \
	  $(DESTDIR)$(BINDIR)/heirloom $(DESTDIR)$(MANDIR)/man1/heirloom.1 \
	  $(DESTDIR)$(LUA_CMOD)/heirloom.so $(LUA_FILES:lua/%=$(DESTDIR)$(LUA_LMOD)/%)
	rmdir $(DESTDIR)$(LUA_LMOD)/heirloom 2>/dev/null || true
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then $(LDCONFIG); fi

# ---- fuzzing (docs/term-format.md, "Fuzzing") ----
# libFuzzer targets for the term readers and Lua decoder (fuzz/fuzz_term.c),
# the match-spec compiler (fuzz/fuzz_mspec.c) and the term mapping of Erlang
# distribution (fuzz/fuzz_dist.c), built with clang in a directory of their
# own: the library instrumented for coverage, ASan and UBSan. `make fuzz` runs each for FUZZ_SECONDS (600 by default).
FUZZ_DEPS = clang libclang-rt-dev
FUZZ_SAN = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_TARGETS = $(FUZZ_BUILD)/fuzz_term $(FUZZ_BUILD)/fuzz_mspec $(FUZZ_BUILD)/fuzz_dist
FUZZ_SECONDS ?=

.PHONY: fuzz fuzz-build fuzz-deps fuzz-corpus

fuzz-deps:
	@./scripts/deps.sh $(FUZZ_DEPS)

fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS) BUILD=$(FUZZ_BUILD) CC=clang OPT=-O1 LTO= SAN="$(FUZZ_SAN)"

$(BUILD)/fuzz_%: fuzz/fuzz_%.c $(BUILD)/libheirloom.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libheirloom.a $(LIBS)

fuzz: fuzz-build
	./scripts/fuzz.sh $(FUZZ_BUILD) long $(FUZZ_SECONDS)

# Rewrites the corpora's seeds from fuzz/corpus.lua (the files that crashes
# were saved as, kept beside them, stay).
fuzz-corpus: all
	$(CC) $(CFLAGS) -o $(BUILD)/corpus_gen fuzz/corpus_gen.c $(BUILD)/libheirloom.a $(LIBS)
	rm -f fuzz/corpus/term/seed-* fuzz/corpus/mspec/seed-*
	mkdir -p fuzz/corpus/term fuzz/corpus/mspec
	$(BUILD)/corpus_gen fuzz/corpus.lua fuzz/corpus

-include bench/bench.mk

clean:
	rm -rf build build-asan build-tsan build-fuzz
