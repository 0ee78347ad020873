# Hartstop - a RISC-V (rv64) SMP kernel built around Linux's stop class.
#
#   make qemu    build and boot the default image (SMP, MEM, FW, IRQ, IPI)
#   make test    host tests, lint, then the test image over the QEMU matrix
#   make bench   measure the stop machinery and the locks (BENCH_SMP ?= 2,4,8,16,
#                BENCH_ONLY=lock for the lock rows alone, to 128 harts; ICOUNT=1)
#   make trace   one stop_machine() per waiting rule, hart by hart: Chrome JSON + PNG
#   make mutants break each rule on purpose; the tests must notice (CI runs it)
#   make deps    install the Debian packages the build and tests need
#
# Knobs: SMP ?= 4, MEM ?= 256M, FW ?= dynamic|jump, IRQ ?= plain|aclint|aia,
# IPI=sbi forces SBI IPIs, APPEND='test=mm seed=7' adds boot arguments.

SMP ?= 4
MEM ?= 256M
FW ?= dynamic
IRQ ?= plain
IPI ?=
APPEND ?=
BUILD ?= build

CROSS := riscv64-unknown-elf-
CC := $(CROSS)gcc
OBJDUMP := $(CROSS)objdump
PICOLIBC := /usr/lib/picolibc/riscv64-unknown-elf
HOSTCC ?= gcc
PYTHON ?= python3

ARCHFLAGS := -march=rv64imac -misa-spec=2.2 -mabi=lp64 -mcmodel=medany
CFLAGS := $(ARCHFLAGS) -std=gnu11 -O2 -g -ffreestanding -fno-omit-frame-pointer \
	-fno-stack-protector -fno-pie -Wall -Wextra -Werror -Wno-unused-parameter \
	--specs=picolibc.specs -iquote include -iquote . -MMD -MP
ASFLAGS := $(ARCHFLAGS) -iquote include -MMD -MP
# Integer-only printf/scanf from picolibc: the kernel keeps floating point off.
LDFLAGS := $(ARCHFLAGS) --specs=picolibc.specs -nostartfiles -T platform/riscv/kernel.ld \
	-Wl,--defsym=vfprintf=__i_vfprintf -Wl,--defsym=vfscanf=__i_vfscanf \
	-Wl,--gc-sections -Wl,--no-warn-rwx-segments
LDLIBS := -lc -lgcc

# sbi/ the SBI client; platform/riscv/ the CPU (entry, traps, context switch,
# timer CSRs); platform/virt/ QEMU virt's devices; kernel/lib/ portable
# libraries (host-tested); kernel/apps/ the shell, the bench and the images.
KERNEL_SRCS := $(wildcard sbi/*.c platform/riscv/*.c platform/riscv/*.S platform/virt/*.c \
	kernel/*.c kernel/lib/*.c kernel/sched/*.c kernel/apps/*.c)
KERNEL_SRCS := $(filter-out kernel/apps/image_%.c,$(KERNEL_SRCS))
TEST_SRCS := test/ktest.c $(wildcard test/ktest/*.c)
obj = $(patsubst %,$(BUILD)/obj/%.o,$(basename $(1)))
KERNEL_OBJS := $(call obj,$(KERNEL_SRCS))
TEST_OBJS := $(call obj,$(TEST_SRCS))

IMAGE := $(BUILD)/hartstop.elf
TEST_IMAGE := $(BUILD)/hartstop-test.elf
BENCH_IMAGE := $(BUILD)/hartstop-bench.elf

# The packages `make deps` installs (Debian 12). clang-format and cppcheck
# are `make lint`; gnuplot draws the bench's plots.
DEB_PACKAGES := gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc \
	opensbi device-tree-compiler python3 gcc make clang-format cppcheck gnuplot-nox
HAVE_DEPS := $(shell command -v $(CC) >/dev/null 2>&1 && \
	command -v qemu-system-riscv64 >/dev/null 2>&1 && command -v fdtget >/dev/null 2>&1 && \
	command -v clang-format >/dev/null 2>&1 && command -v cppcheck >/dev/null 2>&1 && \
	command -v gnuplot >/dev/null 2>&1 && \
	test -d $(PICOLIBC)/lib/rv64imac/lp64 && \
	test -f /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin && echo yes)
ifeq ($(HAVE_DEPS),yes)
DEPS :=
else
DEPS := deps
endif

.PHONY: all qemu qemu-gdb test lint deps clean run-test bench mutants trace

all: $(IMAGE) $(TEST_IMAGE) $(BENCH_IMAGE)

deps:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	else echo "make deps: run as root: apt-get install -y $(DEB_PACKAGES)"; exit 1; fi; \
	echo "deps: installing $(DEB_PACKAGES)"; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
		$(DEB_PACKAGES) >/dev/null

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c | $(DEPS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.S | $(DEPS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(CC) $(ASFLAGS) -c -o $@ $<

# Each image is linked twice, for kallsyms (kernel/kallsyms.c): pass 1
# with an empty symbol table, then `nm` of pass 1 -> scripts/kallsyms.py ->
# the table (build output, never committed) -> pass 2 with it. The table is
# .rodata, after .text (kernel.ld), so no text address can move between
# the passes; to be sure, pass 2's own table must equal the one it was
# linked with, or the build fails (and keeps no image).
NM := $(CROSS)nm
KALLSYMS := $(PYTHON) scripts/kallsyms.py
KSYMS := $(BUILD)/kallsyms

# The default image carries the suites too: the shell's `selftest` runs them.
IMAGE_OBJS_hartstop := $(KERNEL_OBJS) $(TEST_OBJS) $(call obj,kernel/apps/image_default.c)
IMAGE_OBJS_hartstop-test := $(KERNEL_OBJS) $(TEST_OBJS) $(call obj,kernel/apps/image_test.c)
# The bench image takes test/ktest.c (the runner, no suites): the static
# keys' table keeps every object with a site, and so the shell's `selftest`
# with its call into the runner.
IMAGE_OBJS_hartstop-bench := $(KERNEL_OBJS) $(call obj,test/ktest.c kernel/apps/image_bench.c)

$(KSYMS)/empty.S: scripts/kallsyms.py | $(DEPS)
	@mkdir -p $(dir $@)
	$(Q)$(KALLSYMS) --empty > $@

$(KSYMS)/%.o: $(KSYMS)/%.S
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(CC) $(ASFLAGS) -c -o $@ $<

# $(1): the image's name. Pass 1, its table, then pass 2 checked.
define link_twice
$(KSYMS)/$(1).pass1.elf: $(IMAGE_OBJS_$(1)) $(KSYMS)/empty.o platform/riscv/kernel.ld
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(LDLIBS)

$(KSYMS)/$(1).S: $(KSYMS)/$(1).pass1.elf scripts/kallsyms.py
	@$$(if $$(Q),echo "  KSYMS   $$@")
	$$(Q)$$(NM) -S -n $$< | $$(KALLSYMS) > $$@.tmp && mv $$@.tmp $$@

$(BUILD)/$(1).elf: $(IMAGE_OBJS_$(1)) $(KSYMS)/$(1).o platform/riscv/kernel.ld
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@.tmp $$(filter %.o,$$^) $$(LDLIBS)
	$$(Q)$$(NM) -S -n $$@.tmp | $$(KALLSYMS) > $(KSYMS)/$(1).check.S
	$$(Q)if ! cmp -s $(KSYMS)/$(1).S $(KSYMS)/$(1).check.S; then \
		echo "kallsyms: text symbols moved between pass 1 and pass 2 of $$@:"; \
		diff $(KSYMS)/$(1).S $(KSYMS)/$(1).check.S | head -n 20; \
		rm -f $$@.tmp; exit 1; fi
	$$(Q)mv $$@.tmp $$@
endef
$(foreach i,hartstop hartstop-test hartstop-bench,$(eval $(call link_twice,$(i))))

.SECONDARY: $(foreach i,hartstop hartstop-test hartstop-bench,$(KSYMS)/$(i).pass1.elf \
	$(KSYMS)/$(i).S $(KSYMS)/$(i).o) $(KSYMS)/empty.S $(KSYMS)/empty.o

QEMU_ARGS = --smp $(SMP) --mem $(MEM) --fw $(FW) --irq $(IRQ) \
	--append '$(strip $(if $(IPI),ipi=$(IPI)) $(APPEND))'

qemu: $(IMAGE)
	$(shell $(PYTHON) test/qemu.py --print-cmd --image $(IMAGE) $(QEMU_ARGS))

GDBPORT ?= $(shell expr `id -u` % 5000 + 25000)
qemu-gdb: $(IMAGE)
	sed "s/:1234/:$(GDBPORT)/; s|IMAGE|$(IMAGE)|" test/gdbinit.tmpl > .gdbinit
	@echo "*** gdb-multiarch -x .gdbinit (port $(GDBPORT))"
	$(shell $(PYTHON) test/qemu.py --print-cmd --image $(IMAGE) $(QEMU_ARGS)) \
		-S -gdb tcp::$(GDBPORT)

C_SOURCES = $(wildcard include/*.h kernel/*.h kernel/sched/*.h sbi/*.c platform/riscv/*.c platform/virt/*.c kernel/*.c \
	kernel/lib/*.c kernel/sched/*.c kernel/apps/*.c test/*.c test/ktest/*.c test/host/*.c)

lint: | $(DEPS)
	@clang-format --dry-run --Werror $(C_SOURCES) && echo "lint: clang-format clean"
	@cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem --std=c11 -iquote include -I . \
		-I include -D__riscv -DNR_CPUS=128 $(filter %.c,$(C_SOURCES)) \
		&& echo "lint: cppcheck clean"

# One configuration: make test SMP=4 FW=jump IRQ=aia. The whole matrix
# otherwise (test/check.sh prints the closing "N passed, N failed").
comma := ,
ONLY := $(if $(filter command%,$(origin SMP) $(origin FW) $(origin IRQ)),\
	SMP=$(SMP)$(comma)FW=$(FW)$(comma)IRQ=$(IRQ))
test: all | $(DEPS)
	@BUILD=$(BUILD) PYTHON=$(PYTHON) ONLY='$(strip $(ONLY))' APPEND='$(APPEND)' \
		sh test/check.sh

# Every mutant of test/mutants.py must be killed by the tests (CI runs it).
mutants: all | $(DEPS)
	$(PYTHON) test/mutants.py

BENCH_SMP ?= 2,4,8,16
BENCH_IRQ ?= aclint
BENCH_ITERS ?= 1000
BENCH_ONLY ?=
BENCH_LOCKS ?= queued,ticket
bench: $(BENCH_IMAGE) | $(DEPS)
	$(PYTHON) test/bench.py --image $(BENCH_IMAGE) --smp $(BENCH_SMP) --irq $(BENCH_IRQ) \
		--iters $(BENCH_ITERS) --out $(BUILD)/bench $(if $(ICOUNT),--icount) \
		--locks $(BENCH_LOCKS) $(if $(BENCH_ONLY),--only $(BENCH_ONLY))

# A picture of one stop_machine() per waiting rule (test/trace.py):
# build/trace/stop_trace.json (Perfetto UI, chrome://tracing) and PNGs.
TRACE_SMP ?= 8
trace: $(BENCH_IMAGE) | $(DEPS)
	$(PYTHON) test/trace.py --image $(BENCH_IMAGE) --smp $(TRACE_SMP) --irq $(BENCH_IRQ) \
		--out $(BUILD)/trace

-include test/host/host.mk

clean:
	rm -rf $(BUILD) .gdbinit

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
