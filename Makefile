# runcell: GNU make build.
#   make            build/runcell and build/runcell-server
#   make test       install what is missing, build, run every test suite
#   make run        build, then serve the API on http://127.0.0.1:8080 (data in ./data;
#                   RUN_FLAGS="--port 9000 ..." adds flags, etc/runcell.conf holds settings)
#   make bench      the benchmarks under bench/ (ratios against baselines)
#   make SANITIZE=1 ...   the same with ASan+UBSan, in build-asan/
#   make WERROR=1 ...     warnings are errors (CI)

CC ?= gcc
SANITIZE ?= 0
WERROR ?= 0

# The release binary is a static PIE: `runcell run` is started once per
# program, and skipping the dynamic loader saves about 0.4 ms of each start.
ifeq ($(SANITIZE),1)
BUILD := build-asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT := -O1
LINKMODE := -pie
else
BUILD := build
SANFLAGS :=
OPT := -O2
LINKMODE := -static-pie
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wno-format-nonliteral
ifeq ($(WERROR),1)
WARN += -Werror
endif

CFLAGS := -std=gnu11 $(OPT) -g $(WARN) -D_GNU_SOURCE -Isrc \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(LINKMODE) -Wl,-z,relro,-z,now $(SANFLAGS) $(EXTRA_LDFLAGS)
LDLIBS := -lsqlite3 -lmbedtls -lmbedx509 -lmbedcrypto -lm -lpthread

# src/preload/ holds programs of their own (the preloaders), not modules.
SRC := $(shell find src -name '*.c' -not -path 'src/preload/*' | sort)
OBJ := $(SRC:src/%.c=$(BUILD)/obj/%.o)
LIB_OBJ := $(filter-out $(BUILD)/obj/main.o,$(OBJ))

# Two binaries.  build/runcell-server is all of runcell, linked against
# glibc, SQLite and mbed TLS.  build/runcell is what users start: where
# musl-gcc is installed (musl-tools) it is every module but the server's,
# built again against musl, whose start skips the ~0.5 ms of CPUID exits a
# glibc start costs in a VM (runcell run is started once per program); its
# serve execs runcell-server beside it.  With SANITIZE=1 or without
# musl-gcc, build/runcell is a link of the full binary.
MULTIARCH := $(shell $(CC) -print-multiarch)
MUSL_CC := $(if $(filter 1,$(SANITIZE)),,$(shell command -v musl-gcc 2>/dev/null))
# musl-gcc's specs cannot link a static PIE, so gcc links the front binary
# from musl's own start files (rcrt1.o is the self-relocating one).
MUSL_LIB := $(patsubst %/rcrt1.o,%,$(firstword $(wildcard /usr/lib/$(MULTIARCH:-gnu=-musl)/rcrt1.o /usr/lib/musl/lib/rcrt1.o)))
ifeq ($(MUSL_LIB),)
MUSL_CC :=
endif
SERVER_ONLY_SRC := src/cli/serve.c $(filter src/api/% src/http/% src/queue/% src/store/% src/worker/%,$(SRC))
FRONT_OBJ := $(patsubst src/%.c,$(BUILD)/musl/%.o,$(filter-out $(SERVER_ONLY_SRC),$(SRC)))
# musl's headers leave out the kernel's: these links bring in Linux's own.
MUSL_INC := $(BUILD)/musl/include
KERNEL_ASM := /usr/include/$(MULTIARCH)/asm
FRONT_CFLAGS := $(filter-out -D_FORTIFY_SOURCE=2,$(CFLAGS)) -isystem $(MUSL_INC) \
	-DRUNCELL_SERVER_EXE='"runcell-server"'
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/obj/tests/unit/%.o)
BENCH_SRC := $(sort $(wildcard bench/*.c))

# build/runcell-python: the preloaded Python of warm cells (src/preload/,
# docs/SANDBOX.md), linked against Debian's libpython3.11 (python3-dev).
PY_CONFIG := $(firstword $(wildcard /usr/bin/python3-config))
PRELOADERS := $(if $(PY_CONFIG),$(BUILD)/runcell-python)
PRELOAD_CFLAGS := $(patsubst -I%,-isystem %,$(if $(PY_CONFIG),$(shell $(PY_CONFIG) --includes)))
PRELOAD_LIBS := $(if $(PY_CONFIG),$(shell $(PY_CONFIG) --ldflags --embed))
PRELOAD_OBJ := $(filter $(BUILD)/obj/sandbox/% $(BUILD)/obj/core/%,$(OBJ))

.PHONY: all test run bench deps clean check-asan
all: $(BUILD)/runcell $(BUILD)/runcell-server $(PRELOADERS)

$(BUILD)/runcell-python: $(BUILD)/obj/preload/python.o $(PRELOAD_OBJ)
	$(CC) -pie -Wl,-z,relro,-z,now $(SANFLAGS) -o $@ $^ $(PRELOAD_LIBS)

$(BUILD)/obj/preload/%.o: src/preload/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PRELOAD_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/runcell-server: $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

ifneq ($(MUSL_CC),)
$(BUILD)/runcell: $(FRONT_OBJ)
	$(CC) $(LDFLAGS) -nostdlib -nostartfiles -o $@ $(MUSL_LIB)/rcrt1.o $(MUSL_LIB)/crti.o \
		$(shell $(CC) -print-file-name=crtbeginS.o) $^ -L$(MUSL_LIB) -lc \
		$(shell $(CC) -print-libgcc-file-name) $(shell $(CC) -print-file-name=crtendS.o) \
		$(MUSL_LIB)/crtn.o

$(BUILD)/musl/%.o: src/%.c | $(MUSL_INC)
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(FRONT_CFLAGS) -MMD -MP -c -o $@ $<

$(MUSL_INC):
	@mkdir -p $@
	ln -sfn /usr/include/linux $@/linux
	ln -sfn /usr/include/asm-generic $@/asm-generic
	ln -sfn $(KERNEL_ASM) $@/asm
else
$(BUILD)/runcell: $(BUILD)/runcell-server
	ln -f $< $@
endif

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/obj/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -MMD -MP -c -o $@ $<

$(BUILD)/test-unit: $(UNIT_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench-sandbox: $(BENCH_SRC) $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@scripts/deps.sh

test: deps all $(BUILD)/test-unit
	RUNCELL=$(CURDIR)/$(BUILD)/runcell BUILD=$(CURDIR)/$(BUILD) tests/run.sh

RUN_FLAGS ?=
run: deps all
	$(BUILD)/runcell serve --config etc/runcell.conf $(RUN_FLAGS)

$(BUILD)/bench-api-load: bench/api/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -lpthread

bench: deps all $(BUILD)/bench-sandbox $(BUILD)/bench-api-load
	RUNCELL=$(CURDIR)/$(BUILD)/runcell bench/run-sandbox.sh
	RUNCELL=$(CURDIR)/$(BUILD)/runcell bench/judge.sh
	RUNCELL=$(CURDIR)/$(BUILD)/runcell LOADGEN=$(CURDIR)/$(BUILD)/bench-api-load bench/api.sh

clean:
	rm -rf build build-asan

-include $(OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(FRONT_OBJ:.o=.d) $(BUILD)/obj/preload/python.d
