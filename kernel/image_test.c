/*
 * image_test.c - the test image (build/hartstop-test.elf): run every
 * in-kernel suite (or those matching test=GLOB), then power QEMU off
 * with a status that says whether all passed.
 */
#include "kernel.h"
#include "ktest.h"

const char *const image_name = "test";

void image_main(void)
{
	int failed = ktest_run_all();
	platform_poweroff(failed ? EXIT_TESTS_FAILED : 0);
}
