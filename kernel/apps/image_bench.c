/*
 * image_bench.c - the bench image (build/hartstop-bench.elf): run the
 * benchmarks (kernel/apps/bench.c) once at boot, bench_iters=N samples each
 * (default 1000), and power QEMU off.
 */
#include "kernel.h"
#include "percpu.h"
#include "spinlock.h"
#include "apps.h"
#include "cmdline.h"
#include "reboot.h"

const char *const image_name = "bench";

void image_main(void)
{
	/* Measure what a production kernel runs: no preemption debug checks
	 * (percpu.h) and no lock order checks (spinlock.h), which the other
	 * images keep on. */
	static_branch_disable(&preempt_debug);
	lock_debug = false;
	bench_run((int)cmdline_get_ulong("bench_iters", 1000));
	platform_poweroff(0);
}
