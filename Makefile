# lkvm — two commands on a fresh Debian 12 machine:
#   make run    set up everything and boot the default guest to a shell
#   make test   set up everything and run every test
#
# Other targets: build, deps, guest, guests, bench, fuzz, conformance, check (type-check), clean.

SHELL := /bin/bash
.DELETE_ON_ERROR:
.SECONDARY:

NODE_BIN := node_modules/.bin
ESBUILD := $(NODE_BIN)/esbuild
ASC := $(NODE_BIN)/asc
CACHE := cache
GUEST := $(CACHE)/guest
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages the tests and benchmarks need (the cross compiler builds bare-metal test
# guests, qemu-aarch64 is the instruction oracle, dtc the device-tree oracle, qemu-system-
# aarch64 the speed comparison).
DEB_TOOLS := aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu \
             aarch64-linux-gnu-objcopy:binutils-aarch64-linux-gnu \
             qemu-aarch64:qemu-user \
             dtc:device-tree-compiler \
             qemu-system-aarch64:qemu-system-arm \
             /usr/lib/ipxe/qemu/efi-virtio.rom:ipxe-qemu

.PHONY: all build deps guest guests run test test-nojit bench fuzz conformance check clean distclean

all: build

# ---- dependencies ----
# The stamp holds a copy of the lockfile it installed: npm ci (which deletes node_modules
# first) runs only when the lockfile's content changed, not when its mtime did.
node_modules/.stamp: package.json package-lock.json
	@if cmp -s package-lock.json $@; then touch $@; else npm ci --no-audit --no-fund && cp package-lock.json $@; fi

deps:
	@missing=""; for pair in $(DEB_TOOLS); do tool=$${pair%%:*}; pkg=$${pair#*:}; \
	  if [ "$${tool#/}" != "$$tool" ]; then [ -e "$$tool" ] || missing="$$missing $$pkg"; \
	  else command -v $$tool >/dev/null || missing="$$missing $$pkg"; fi; done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	else echo "deps: all Debian packages present"; fi

# ---- the core (AssemblyScript -> wasm) ----
CORE_SRC := $(shell find arm/core -name '*.ts' -not -path 'arm/core/gen/*') arm/abi.ts
DECODE_SRC := $(wildcard arm/decode/*.ts tools/decodegen/*.ts) tools/gen-decoder.ts

# A tool bundles whatever it imports (the decode table, the VMM), so it depends on all sources.
ALL_TS := $(shell find arm src hw virtio tools -name '*.ts' -not -path 'arm/core/*' 2>/dev/null)
build/tools/%.mjs: tools/%.ts $(ALL_TS) node_modules/.stamp
	@mkdir -p $(dir $@)
	$(ESBUILD) $< --bundle --platform=node --format=esm --target=node20 --log-level=warning \
	  --banner:js="import{createRequire as __cr}from'module';const require=__cr(import.meta.url);" --outfile=$@

# The JIT's emitters (arm/core/jit/*.ts) decide which rows get inline code in gen/emit.ts.
# Tools that run the VMM (the benchmark) bundle the core too.
build/tools/bench.mjs: build/core.wasm

arm/core/gen/decoder.ts: $(DECODE_SRC) $(wildcard arm/core/jit/*.ts) build/tools/gen-decoder.mjs
	node build/tools/gen-decoder.mjs arm/core/gen arm/core/jit

build/core.wasm: $(CORE_SRC) arm/core/gen/decoder.ts asconfig.json node_modules/.stamp
	@mkdir -p build
	$(ASC) arm/core/index.ts --config asconfig.json --target release -o $@

# ---- the CLI bundle ----
# string-width is yargs' measure of help text; its own module costs ~85 ms at every start
# (src/cli/text-width.ts says why), so the bundle takes lkvm's.
TS_SRC := $(shell find src hw virtio arm -name '*.ts' -not -path 'arm/core/*' 2>/dev/null)

bin/lkvm: $(TS_SRC) build/core.wasm node_modules/.stamp
	$(ESBUILD) src/cli/main.ts --bundle --platform=node --format=esm --target=node20 \
	  --loader:.wasm=binary --log-level=warning --alias:string-width=./src/cli/text-width.ts \
	  --banner:js=$$'#!/usr/bin/env node\nimport{createRequire as __cr}from"module";const require=__cr(import.meta.url);' \
	  --outfile=$@
	@chmod +x $@

build: bin/lkvm

check: node_modules/.stamp arm/core/gen/decoder.ts
	$(NODE_BIN)/tsc -p tsconfig.json

# ---- guests ----
# Debian's arm64 kernel and busybox, unpacked into $(GUEST); idempotent.
guest: deps build/tools/make-initramfs.mjs
	bash tools/fetch-guest.sh $(GUEST)
	node build/tools/make-initramfs.mjs --guest $(GUEST) --out $(GUEST)/initramfs.cpio.gz

# Bare-metal test guests, built with the cross compiler: each test/guests/NAME.S is a whole
# program; each test/guests/NAME.c is linked with the runtime in test/guests/lib.
GUEST_CC := aarch64-linux-gnu-gcc
GUEST_CFLAGS := -O2 -g -ffreestanding -fno-builtin -nostdlib -nostartfiles -static \
  -mgeneral-regs-only -mstrict-align -fno-stack-protector -Wall -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
  -Itest/guests/include -T test/guests/link.ld
GUEST_LIB := test/guests/lib/start.S test/guests/lib/lib.c
GUEST_SRC := $(wildcard test/guests/*.S test/guests/*.c)
GUEST_BIN := $(patsubst test/guests/%,build/guests/%,$(GUEST_SRC:.S=.bin))
GUEST_BIN := $(GUEST_BIN:.c=.bin)
build/guests/%.elf: test/guests/%.S test/guests/link.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -o $@ $<
build/guests/%.elf: test/guests/%.c $(GUEST_LIB) test/guests/include/guest.h test/guests/link.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -o $@ $(GUEST_LIB) $<
build/guests/%.bin: build/guests/%.elf
	aarch64-linux-gnu-objcopy -O binary $< $@
# A variant that #includes another guest's source.
build/guests/mmio-accessor-plain.elf: test/guests/mmio-accessor.c
# Benchmark guests: the same C source for lkvm (kvmtool layout) and for qemu-system-aarch64 virt,
# each short and long (-long: BENCH_SCALE rounds of every kernel, steady-state throughput).
BENCH_SRC := $(wildcard test/guests/bench/*.c)
BENCH_BIN := $(foreach v,% %-long,$(patsubst test/guests/bench/%.c,build/bench/$(v).bin,$(BENCH_SRC)) \
               $(patsubst test/guests/bench/%.c,build/bench/$(v)-virt.elf,$(BENCH_SRC)))
BENCH_DEPS := $(GUEST_LIB) test/guests/include/guest.h test/guests/bench/platform.h test/guests/link.ld
BENCH_VIRT := -DPLATFORM_QEMU_VIRT -Wl,--defsym=LOAD_ADDRESS=0x40080000
BENCH_LONG := -DBENCH_SCALE=20
build/bench/%.elf: test/guests/bench/%.c $(BENCH_DEPS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -Itest/guests -o $@ $(GUEST_LIB) $<
build/bench/%-virt.elf: test/guests/bench/%.c $(BENCH_DEPS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -Itest/guests $(BENCH_VIRT) -o $@ $(GUEST_LIB) $<
build/bench/%-long.elf: test/guests/bench/%.c $(BENCH_DEPS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -Itest/guests $(BENCH_LONG) -o $@ $(GUEST_LIB) $<
build/bench/%-long-virt.elf: test/guests/bench/%.c $(BENCH_DEPS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -Itest/guests $(BENCH_LONG) $(BENCH_VIRT) -o $@ $(GUEST_LIB) $<
build/bench/%.bin: build/bench/%.elf
	aarch64-linux-gnu-objcopy -O binary $< $@

guests: deps $(GUEST_BIN) $(BENCH_BIN)

# ---- the two commands ----
run: build guest
	bin/lkvm run -k $(GUEST)/Image -i $(GUEST)/initramfs.cpio.gz

test: deps node_modules/.stamp build guests guest
	$(NODE_BIN)/tsc -p tsconfig.json
	@rm -f build/test-results.json
	@$(NODE_BIN)/vitest run --reporter=default --reporter=json --outputFile.json=build/test-results.json; \
	  status=$$?; node tools/test-summary.mjs build/test-results.json; exit $$status

# The suites that run bin/lkvm (guests, boot) once more with the interpreter alone: LKVM_JIT=0
# makes every run that names neither --jit nor --no-jit interpret. (unit and differential run
# the core both ways already.) About 10 minutes; not part of `make test`, to keep CI short.
test-nojit: deps node_modules/.stamp build guests guest
	LKVM_JIT=0 $(NODE_BIN)/vitest run --project guests --project boot

# The benchmark runs the VMM in-process, so its bundle embeds the core.
build/tools/bench.mjs: tools/bench.ts $(ALL_TS) build/core.wasm node_modules/.stamp
	@mkdir -p $(dir $@)
	$(ESBUILD) $< --bundle --platform=node --format=esm --target=node20 --log-level=warning \
	  --loader:.wasm=binary --banner:js="import{createRequire as __cr}from'module';const require=__cr(import.meta.url);" --outfile=$@

bench: build guests build/tools/bench.mjs
	node build/tools/bench.mjs

# The long fuzz run: every target in test/fuzz, 10^6 cases each (RELIABILITY.md). One target,
# or a replay of a failing case: make fuzz FUZZ_ARGS="--target cpio --seed S --path P --runs 1".
# The quick seed set of the same targets runs in `make test`.
build/tools/fuzz.mjs: $(wildcard test/fuzz/*.ts test/support/*.ts)

fuzz: node_modules/.stamp build/tools/fuzz.mjs
	node build/tools/fuzz.mjs $(FUZZ_ARGS)

# kvmtool's arm64 test suite (kvm-unit-tests) against bin/lkvm and against QEMU TCG, as a table
# in CONFORMANCE.md: make conformance KUT_SRC=/path/to/kvm-unit-tests. The suite is built in the
# cache, never committed; this machine cannot clone it, so KUT_SRC is a local copy.
conformance: build deps
	KUT_SRC="$(KUT_SRC)" tools/conformance.sh

clean:
	rm -rf build bin/lkvm arm/core/gen

distclean: clean
	rm -rf node_modules $(CACHE)
