# test/host/host.mk - host-side tests of the device tree parser
# (kernel/lib/fdt.c, devicetree.c, riscv_isa.c), built with the host compiler and
# ASan/UBSan.
#
# Included by the top-level Makefile; also works standalone from the
# repository root:
#   make -f test/host/host.mk host-test    # build + run; last line is the summary
#   make -f test/host/host.mk fuzz         # libFuzzer run (needs clang), FUZZ_TIME=60
#   make -f test/host/host.mk host-clean
#
# host-test runs dt_unit (synthetic trees), dt_vs_fdtget.py (QEMU DTBs,
# including ones read back after OpenSBI's fixups, vs fdtget) and dt_corrupt
# (truncations, header lies, random mutations; SEED=n replays) on the DTBs
# left in $(BUILD)/host/dtb. Its last line on stdout is
# "host: N passed, M failed"; it exits non-zero if M > 0 or a test binary
# died (e.g. a sanitizer report), in which case make adds its own
# "*** Error" line on stderr.
#
# Variables here are prefixed HT_ so they cannot collide with the kernel's.

HOSTCC ?= gcc
BUILD ?= build
FUZZ_TIME ?= 60
FUZZ_CC ?= clang

HT_SAVED_GOAL := $(.DEFAULT_GOAL)

HT_OUT := $(BUILD)/host
HT_DTB := $(HT_OUT)/dtb
HT_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -g -fsanitize=address,undefined \
	-fno-sanitize-recover=all -I include
HT_SRCS := kernel/lib/fdt.c kernel/lib/devicetree.c kernel/lib/riscv_isa.c
HT_DEPS := $(HT_SRCS) include/fdt.h include/devicetree.h test/host/fdt_build.h test/host/tap.h
HT_BINS := $(HT_OUT)/dtdump $(HT_OUT)/dt_unit $(HT_OUT)/dt_corrupt

.PHONY: host-test host-clean fuzz

host-test: $(HT_BINS)
	@log=$(HT_OUT)/host-test.log; : > $$log; \
	run() { \
		name=$$1; shift; \
		"$$@" > $(HT_OUT)/$$name.log 2>&1; rc=$$?; \
		cat $(HT_OUT)/$$name.log; cat $(HT_OUT)/$$name.log >> $$log; \
		if [ $$rc -ne 0 ] && ! grep -q '^not ok ' $(HT_OUT)/$$name.log; then \
			echo "not ok - $$name exited with status $$rc" | tee -a $$log; \
		fi; \
	}; \
	run dt_unit $(HT_OUT)/dt_unit; \
	run dt_vs_fdtget python3 test/host/dt_vs_fdtget.py \
		--dtdump $(HT_OUT)/dtdump --outdir $(HT_DTB); \
	run dt_corrupt $(HT_OUT)/dt_corrupt $(HT_DTB)/*.dtb; \
	pass=$$(grep -c '^ok ' $$log); fail=$$(grep -c '^not ok ' $$log); \
	echo "host: $$pass passed, $$fail failed"; \
	[ $$fail -eq 0 ]

$(HT_BINS): $(HT_OUT)/%: test/host/%.c $(HT_DEPS)
	@mkdir -p $(@D)
	$(HOSTCC) $(HT_CFLAGS) -I test/host -o $@ $< $(HT_SRCS)

# libFuzzer needs clang; seeds are the QEMU DTBs, new inputs go to fuzz-corpus/.
fuzz:
	@command -v $(FUZZ_CC) > /dev/null 2>&1 || { \
		echo "fuzz: $(FUZZ_CC) not found; install it with: apt-get install clang"; \
		exit 1; }
	@mkdir -p $(HT_OUT)/fuzz-corpus
	$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -I include -o $(HT_OUT)/fuzz_dt \
		test/host/fuzz_dt.c $(HT_SRCS)
	python3 test/host/dt_vs_fdtget.py --outdir $(HT_DTB) --dump-only
	$(HT_OUT)/fuzz_dt -max_total_time=$(FUZZ_TIME) -max_len=262144 \
		-artifact_prefix=$(HT_OUT)/ $(HT_OUT)/fuzz-corpus $(HT_DTB)

host-clean:
	rm -rf $(HT_OUT)

# Standalone, host-test is the default goal; when included, leave the
# including Makefile's default goal alone (or let its next target take it).
ifneq ($(HT_SAVED_GOAL),)
.DEFAULT_GOAL := $(HT_SAVED_GOAL)
else ifneq ($(words $(MAKEFILE_LIST)),1)
.DEFAULT_GOAL :=
endif
