# wharf: one non-recursive Makefile (see docs/ARCHITECTURE.md).
#
#   make             release library build/libwharf.a and CLI build/wharf
#                    (every build first installs missing Debian packages)
#   make test        installs missing Debian packages, then runs every test
#                    (unit, spec, cli) on the release build and under
#                    AddressSanitizer + UBSan (build/asan/)
#   make test-asan   only the sanitizer half of `make test`
#   make spec SUITE=core   the official spec suite, per-file counts
#   make bench       the shared guest benchmarks against other engines
#   make bench-plugin  per-call overhead of plugin calls (bench/plugin_call.c)
#   make bench-http    `wharf serve` requests/s under wrk (bench/http)
#   make realworld   real C programs (Lua, SQLite, zlib, bzip2) from Debian's
#                    source packages under `wharf run`, against native builds
#   make deps        installs the Debian packages the build and tests need

CC      ?= cc
SHARED  ?= ../shared
SUITE   ?= core
V       ?= release

WARN     = -Wall -Wextra -Wno-unused-parameter
CFLAGS_ALL = -std=gnu11 $(WARN) -Iinclude -MMD -MP -pthread
# No -lcurl: libcurl is opened when first needed (src/host/lazycurl.h).
LDLIBS   = -lm -pthread -lcjson
# wharf serve: the HTTP front door (src/http) and wharf.yaml (src/host).
LDLIBS  += -lh2o-evloop -lyaml -lssl -lcrypto -lz

FLAGS_release = -O2 -g -DNDEBUG
FLAGS_asan    = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
                -fno-sanitize-recover=undefined

DIR_release = build
DIR_asan    = build/asan

LIB_SRC  = $(wildcard src/base/*.c src/wasm/*.c src/wasi/*.c src/host/*.c)
CLI_SRC  = $(wildcard src/cli/*.c src/http/*.c)
UNIT_SRC = $(wildcard tests/unit/*.c)
SPEC_SRC = $(wildcard tests/spec/*.c)

.PHONY: all run examples test test-asan check spec bench bench-plugin bench-http deps clean realworld
# Keep intermediate objects (test programs are built through a chain of rules).
.SECONDARY:

all: build/wharf build/libwharf.a

# $(call variant,NAME): object, library, CLI and test-program rules for one
# build flavour, so release and sanitizer builds share every rule.
define variant
$(DIR_$(1))/obj/%.o: %.c | deps
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS_ALL) $$(FLAGS_$(1)) $$(CFLAGS) -c $$< -o $$@

$(DIR_$(1))/libwharf.a: $(LIB_SRC:%.c=$(DIR_$(1))/obj/%.o)
	@rm -f $$@
	ar rcs $$@ $$^

$(DIR_$(1))/wharf: $(CLI_SRC:%.c=$(DIR_$(1))/obj/%.o) $(DIR_$(1))/libwharf.a
	$$(CC) $$(FLAGS_$(1)) -o $$@ $$^ $$(LDLIBS)

$(DIR_$(1))/unit/%: $(DIR_$(1))/obj/tests/unit/%.o $(DIR_$(1))/libwharf.a
	@mkdir -p $$(@D)
	$$(CC) $$(FLAGS_$(1)) -o $$@ $$^ $$(LDLIBS)

$(DIR_$(1))/spec-runner: $(SPEC_SRC:%.c=$(DIR_$(1))/obj/%.o) $(DIR_$(1))/libwharf.a
	$$(CC) $$(FLAGS_$(1)) -o $$@ $$^ -lcjson $$(LDLIBS)

-include $$(wildcard $(DIR_$(1))/obj/*/*.d $(DIR_$(1))/obj/*/*/*.d)
endef
$(eval $(call variant,release))
$(eval $(call variant,asan))

# Guest programs: each examples/NAME/*.c is one WASI module.
WASM_CC    = clang --target=wasm32-wasi
WASM_FLAGS = -O2 -Wall -Wextra -Wl,--strip-debug
EXAMPLES   = $(patsubst examples/%/,build/examples/%.wasm,$(sort $(dir $(wildcard examples/*/*.c))))

build/examples/%.wasm: examples/%/*.c | deps
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_FLAGS) -o $@ $(filter %.c,$^)

# Plugins that `wharf serve` runs with `executor: function` or as
# pipeline stages: WASI reactors on the C SDK (sdk/c/wharf_serve.h,
# wharf_pdk.h). tests/cli/pipeline.sh serves examples/wharf.yaml.
build/examples/echo.wasm build/examples/api.wasm build/examples/pipeline.wasm \
    build/examples/ml.wasm build/examples/stream.wasm: WASM_FLAGS += -mexec-model=reactor -Isdk/c

examples: $(EXAMPLES) $(HOST_EMBED)

# The main job: build everything and serve the examples on 127.0.0.1:8080
# (examples/wharf.yaml; try curl localhost:8080/hello).
run: build/wharf examples | deps
	build/wharf serve examples/wharf.yaml

# Plugins for the tests (tests/plugin/*.c, on the C PDK in sdk/c):
# freestanding, except wasi_*.c which are WASI reactors using libc.
PLUGIN_CC = clang -O2 -Wall -Wextra -Isdk/c -Wl,--strip-debug
PLUGINS   = $(patsubst tests/plugin/%.c,build/plugin/%.wasm,$(wildcard tests/plugin/*.c))

build/plugin/%.wasm: tests/plugin/%.c sdk/c/wharf_pdk.h | deps
	@mkdir -p $(@D)
	$(PLUGIN_CC) --target=wasm32 -nostdlib -mbulk-memory -Wl,--no-entry -o $@ $<

build/plugin/wasi_%.wasm: tests/plugin/wasi_%.c sdk/c/wharf_pdk.h | deps
	@mkdir -p $(@D)
	$(PLUGIN_CC) --target=wasm32-wasi -mexec-model=reactor -o $@ $<

# examples/host-embed: a native plugin manager on libwharf (host/) and the
# plugins it loads (plugins/), all in build/examples/host-embed.
HOST_EMBED = build/examples/host-embed/host-embed \
    $(patsubst examples/host-embed/plugins/%.c,build/examples/host-embed/%.wasm,\
        $(wildcard examples/host-embed/plugins/*.c))

build/examples/host-embed/host-embed: examples/host-embed/host/main.c build/libwharf.a
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -Iinclude $(FLAGS_release) -o $@ $^ $(LDLIBS)

build/examples/host-embed/%.wasm: examples/host-embed/plugins/%.c sdk/c/wharf_pdk.h | deps
	@mkdir -p $(@D)
	$(PLUGIN_CC) --target=wasm32 -nostdlib -mbulk-memory -Wl,--no-entry -o $@ $<

UNIT_release = $(UNIT_SRC:tests/unit/%.c=build/unit/%)
UNIT_asan    = $(UNIT_SRC:tests/unit/%.c=build/asan/unit/%)

# The decoder test sweeps the spec suite's JSON command files.
build/unit/decode_test build/asan/unit/decode_test: LDLIBS += -lcjson

deps:
	@scripts/install-deps.sh

# Spec data converted once into build/spec (wast2json output).
build/spec/.converted: $(wildcard $(SHARED)/spec/*/*.wast) | deps
	@mkdir -p build/spec
	$(SHARED)/spec/convert.sh build/spec > build/spec/convert.log 2>&1 || \
	    { cat build/spec/convert.log; exit 1; }
	@touch $@

spec: $(DIR_$(V))/spec-runner build/spec/.converted
	$(DIR_$(V))/spec-runner build/spec $(SUITE)

TEST_release = build/wharf build/spec-runner $(UNIT_release) $(PLUGINS) $(HOST_EMBED) $(EXAMPLES)
TEST_asan    = build/asan/wharf build/asan/spec-runner $(UNIT_asan) $(PLUGINS) $(EXAMPLES)

test: deps
	@$(MAKE) --no-print-directory $(TEST_release) $(TEST_asan) build/spec/.converted
	@tests/run.sh build build/asan

test-asan: deps
	@$(MAKE) --no-print-directory $(TEST_asan) build/spec/.converted
	@tests/run.sh build/asan

bench: deps build/wharf
	bench/run.sh

# Per-call overhead of wharf_plugin_call against a direct native call.
build/bench/plugin_call: bench/plugin_call.c build/libwharf.a
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -Iinclude $(FLAGS_release) -o $@ $^ $(LDLIBS)

bench-plugin: build/bench/plugin_call build/plugin/basic.wasm
	build/bench/plugin_call build/plugin/basic.wasm

# `wharf serve` under wrk (static vs. function vs. WAGI), and what a fresh
# instance per request costs without HTTP (bench/http, bench/instance.c).
build/bench/instance: bench/instance.c build/libwharf.a
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -Iinclude $(FLAGS_release) -o $@ $^ $(LDLIBS)

bench-http: deps build/wharf build/bench/instance examples
	bench/http

# Not part of `make test`: it downloads source packages and takes minutes
# (tests/realworld/run.sh; WHARF=build/asan/wharf for the sanitizer build).
realworld: build/wharf | deps
	tests/realworld/run.sh

# Layering (scripts/check-layers.sh) and a warning-free build with -Werror.
check:
	@scripts/check-layers.sh
	@$(MAKE) --no-print-directory -B build/wharf CFLAGS=-Werror

clean:
	rm -rf build
