/*
 * ktest.c - the in-kernel test runner: KTAP output, filtering, seeds.
 *
 * Output (KTAP version 1, as Linux KUnit prints it):
 *   KTAP version 1
 *   1..S                      one line per suite follows
 *       KTAP version 1
 *       # Subtest: NAME
 *       1..C
 *       ok 1 case             or "not ok 1 case", diagnostics as "    # ..."
 *   ok 1 NAME
 *   # totals: P passed, F failed, K skipped
 * Cases run one at a time on the boot hart, in thread context.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include "console.h"
#include "ipi.h"
#include "kthread.h"
#include "ktest.h"
#include "ktime.h"
#include "preempt.h"
#include "riscv.h"
#include "sched.h"
#include "timer.h"
#include "cmdline.h"

static uint64_t boot_seed;

uint64_t ktest_rand(uint64_t *s)
{
	/* splitmix64: small, fast, and every seed gives a good stream. */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t ktest_boot_seed(void)
{
	return boot_seed;
}

void ktest_log(struct ktest *t, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	(void)t;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_printf("    # %s\n", buf);
}

void ktest_fail(struct ktest *t, const char *file, int line, bool fatal, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_printf("    # %s: %s:%d: %s\n", t->name, file, line, buf);
	t->failures++;
	if (fatal)
		longjmp(t->abort, 1);
}

void ktest_expect_warn(struct ktest *t, const char *substring, int count)
{
	(void)t;
	console_printf("    # expect-warn: %d \"%s\"\n", count, substring);
}

void ktest_expect_warn_at_least(struct ktest *t, const char *substring, int count)
{
	(void)t;
	console_printf("    # expect-warn: %d+ \"%s\"\n", count, substring);
}

void ktest_skip(struct ktest *t, const char *reason)
{
	t->skipped = true;
	strncpy(t->skip_reason, reason, sizeof(t->skip_reason) - 1);
	longjmp(t->abort, 1);
}

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ULL;
	return h;
}

static const char *glob_override; /* the shell's selftest GLOB */

/* test=GLOB[,GLOB...]: run the suites matching any of the globs. */
static bool suite_selected(const char *name)
{
	char globs[128];
	if (glob_override)
		strncpy(globs, glob_override, sizeof(globs) - 1), globs[sizeof(globs) - 1] = '\0';
	else if (!cmdline_get("test", globs, sizeof(globs)) || !globs[0])
		return true;
	for (char *g = globs, *end; g; g = end ? end + 1 : NULL) {
		end = strchr(g, ',');
		if (end)
			*end = '\0';
		if (fnmatch(g, name, 0) == 0)
			return true;
	}
	return false;
}

/*
 * The hang reporter. A case that has run for ktest_hang=S seconds (30 by
 * default; 0 turns reporting off) gets a report of every hart's runqueue
 * and of where every task waits or runs, repeated every S seconds, so a
 * hang the host runner later kills leaves a trace in the log (the runner
 * symbolises the last report). A report never fails the case: slow is
 * not wrong on an oversubscribed host. The reporter is SCHED_FIFO 1: it
 * beats fair hogs but stays out of the way of the rt cases.
 */
#define HANG_MARK "ktest hang report"
static struct {
	const char *name;
	uint64_t started; /* get_cycles() at the case's start; 0 between cases */
} running_case;

static int hang_reporter(void *arg)
{
	uint64_t period = (uint64_t)timebase_hz * (unsigned long)arg, last = 0;
	while (!kthread_should_stop()) {
		msleep(250);
		const char *name = READ_ONCE(running_case.name);
		uint64_t start = READ_ONCE(running_case.started), now = get_cycles();
		/* hang_panic=: a case that runs on is a hang, reported once more
		 * and ended by a panic rather than by the host's timeout. */
		bool give_up = start && hang_panic_ticks && now - start > hang_panic_ticks;
		if (!give_up &&
		    (!start || now - start < period || (last > start && now - last < period)))
			continue;
		last = now;
		console_printf("    # " HANG_MARK ": %s has run for %lu s\n", name,
			       (unsigned long)((now - start) / timebase_hz));
		sched_show();
		sched_show_blocked();
		trigger_all_cpu_backtrace(1000, NULL); /* and what every running task does */
		console_printf("    # " HANG_MARK " end\n");
		if (give_up)
			panic("ktest: %s has run for %lu s (hang_panic)", name,
			      (unsigned long)((now - start) / timebase_hz));
	}
	return 0;
}

static struct task_struct *start_hang_reporter(void)
{
	unsigned long secs = cmdline_get_ulong("ktest_hang", 30);
	if (hang_panic_ticks && hang_panic_ticks / timebase_hz < secs) /* report before the panic */
		secs = max(1UL, (unsigned long)(hang_panic_ticks / timebase_hz) / 2);
	if (!secs)
		return NULL;
	struct task_struct *p = kthread_create(hang_reporter, (void *)secs, "ktest-hang");
	if (p) {
		sched_setscheduler(p, SCHED_FIFO, 1);
		wake_up_process(p);
	}
	return p;
}

struct totals {
	int passed, failed, skipped;
};

static void run_case(const struct ktest_case *c, int n, struct totals *tot)
{
	static struct ktest t; /* static: longjmp target data outlives frames */
	memset(&t, 0, sizeof(t));
	t.name = c->name;
	t.rng = boot_seed ^ hash_name(c->name);
	uint64_t start = ktime_get_ns();
	WRITE_ONCE(running_case.name, c->name);
	WRITE_ONCE(running_case.started, get_cycles() | 1);
	if (setjmp(t.abort) == 0)
		c->run(&t);
	WRITE_ONCE(running_case.started, 0);
	if (preempt_count() != 0 || irqs_disabled()) {
		console_printf("    # %s: left preempt_count 0x%x, interrupts %s\n", c->name,
			       preempt_count(), irqs_disabled() ? "off" : "on");
		t.failures++;
		preempt_count_set(0);
		local_irq_enable();
	}
	unsigned long ms = (unsigned long)((ktime_get_ns() - start) / 1000000);
	if (t.skipped && !t.failures) {
		console_printf("    ok %d %s # SKIP %s\n", n, c->name, t.skip_reason);
		tot->skipped++;
	} else if (t.failures) {
		console_printf("    not ok %d %s # %lu ms\n", n, c->name, ms);
		tot->failed++;
	} else {
		console_printf("    ok %d %s # %lu ms\n", n, c->name, ms);
		tot->passed++;
	}
}

int ktest_run_all(void)
{
	/* The linker section is an array of suite pointers: count it by
	 * address (the two symbols are distinct objects to the compiler). */
	size_t count = ((uintptr_t)__ktest_suites_end - (uintptr_t)__ktest_suites_start) /
		       sizeof(__ktest_suites_start[0]);
	struct totals tot = {0, 0, 0};
	int nsuites = 0, idx = 0;

	boot_seed = cmdline_get_ulong("seed", get_cycles() & 0xffffffff);
	for (size_t i = 0; i < count; i++)
		nsuites += suite_selected(__ktest_suites_start[i]->name);

	console_printf("KTAP version 1\n# seed=%lu (replay with seed=%lu)\n1..%d\n",
		       (unsigned long)boot_seed, (unsigned long)boot_seed, nsuites);
	struct task_struct *reporter = start_hang_reporter();
	for (size_t i = 0; i < count; i++) {
		const struct ktest_suite *suite = __ktest_suites_start[i];
		if (!suite_selected(suite->name))
			continue;
		int ncases = 0;
		while (suite->cases[ncases].name)
			ncases++;
		console_printf("    KTAP version 1\n    # Subtest: %s\n    1..%d\n", suite->name,
			       ncases);
		int before = tot.failed;
		for (int i = 0; i < ncases; i++)
			run_case(&suite->cases[i], i + 1, &tot);
		console_printf("%s %d %s\n", tot.failed > before ? "not ok" : "ok", ++idx,
			       suite->name);
	}
	if (reporter)
		kthread_stop(reporter);
	console_printf("# totals: %d passed, %d failed, %d skipped\n", tot.passed, tot.failed,
		       tot.skipped);
	console_printf("%d passed, %d failed\n", tot.passed, tot.failed);
	return tot.failed;
}

/* The shell's `selftest [GLOB]`. */
int ktest_run_glob(const char *glob)
{
	glob_override = glob;
	int failed = ktest_run_all();
	glob_override = NULL;
	return failed;
}
