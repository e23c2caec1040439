# Builds the C parts: BPF objects and their skeletons, the launcher and the guardian, and the C programs used
# by tests and benchmarks. The addon (node-gyp) and TypeScript are built by scripts/build.sh after this.
CLANG ?= clang-19
BPFTOOL ?= bpftool
CC ?= cc
OUT := out
BPF_SRC := $(wildcard bpf/*.bpf.c)
BPF_OBJ := $(patsubst bpf/%.bpf.c,$(OUT)/bpf/%.bpf.o,$(BPF_SRC))
SKELS := $(patsubst bpf/%.bpf.c,$(OUT)/bpf/%.skel.h,$(BPF_SRC))
PROGRAMS := $(patsubst %.c,$(OUT)/bin/%,$(notdir $(filter-out test/fixtures/lib%.c,$(wildcard test/fixtures/*.c)) $(wildcard bench/*.c))) $(OUT)/bin/gpo-launch $(OUT)/bin/gpo-guard
LIBRARIES := $(patsubst test/fixtures/%.c,$(OUT)/lib/%.so,$(wildcard test/fixtures/lib*.c))

all: $(SKELS) $(PROGRAMS) $(LIBRARIES)

bpf/vmlinux.h:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h bpf/record/*.h) bpf/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Wno-unused-function -I bpf -c $< -o $@

$(OUT)/bpf/%.skel.h: $(OUT)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

$(OUT)/bin/gpo-launch: native/launch.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -o $@ $<

$(OUT)/bin/gpo-guard: native/guard.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -o $@ $<

$(OUT)/bin/%: test/fixtures/%.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -pthread -o $@ $< -ldl

$(OUT)/lib/%.so: test/fixtures/%.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -shared -fPIC -o $@ $<

$(OUT)/bin/empty-tp: bench/empty-tp.c $(OUT)/bpf/bench-empty.skel.h
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -I $(OUT)/bpf -o $@ $< -lbpf -lelf -lz

$(OUT)/bin/%: bench/%.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -pthread -o $@ $<

clean:
	rm -rf $(OUT) bpf/vmlinux.h

.PHONY: all clean
# Keep the BPF objects: tests read their sections and bench reports their size.
.SECONDARY:

# The demo game and cheats: included after `all` above so that it stays the default goal, and adds to it.
include demo/Makefile
