/*
 * image_test.c - the test image (build/hartstop-test.elf): run every
 * in-kernel suite (or those matching test=GLOB), then power QEMU off
 * with a status that says whether all passed.
 *
 * crash=panic|fault|overflow instead crashes on purpose, so that the
 * host can check the crash paths end to end (test/image_checks.py): a
 * clear message, a backtrace it can symbolise, QEMU exit status 3.
 */
#include <string.h>
#include "kernel.h"
#include "ktest.h"
#include "mm.h"
#include "stop_machine.h"
#include "trap.h"
#include "cmdline.h"
#include "reboot.h"

const char *const image_name = "test";

static __attribute__((noinline)) unsigned long deep(unsigned long n);
static unsigned long (*volatile deep_ptr)(unsigned long) = deep;

static unsigned long deep(unsigned long n)
{
	volatile char frame[512];
	frame[0] = (char)n;
	return deep_ptr(n + 1) + frame[0];
}

static __attribute__((noinline)) void crash(const char *how)
{
	pr_info("crash test: %s", how);
	if (strcmp(how, "panic") == 0)
		panic("crash test requested");
	if (strcmp(how, "fault") == 0) {
		volatile unsigned long *bad =
			(void *)(uintptr_t)cmdline_get_ulong("crash_addr", 0x10);
		*bad = 1; /* unmapped: a store page fault */
	}
	if (strcmp(how, "overflow") == 0)
		deep(0);
	pr_warn("crash test: unknown crash=%s", how);
}

void image_main(void)
{
	char how[16];
	if (cmdline_get("crash", how, sizeof(how)))
		crash(how);
	int failed = ktest_run_all();
	stop_stats_print(NULL);
	platform_poweroff(failed ? EXIT_TESTS_FAILED : 0);
}
