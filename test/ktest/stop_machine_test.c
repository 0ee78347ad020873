/*
 * stop_machine_test.c - the stop_machine suite: crossing stop_two_cpus()
 * pairs mixed with whole-machine stops, exclusivity with interrupts off
 * during RUN, fn on the mask with errors returned, and the watchdog that
 * reports a stall and names a hart that never arrives.
 */
#include <stdio.h>
#include <string.h>
#include "console.h"
#include "mm.h"
#include "preempt.h"
#include "sched_helpers.h"
#include "stop_machine.h"
#include "tick.h"

/* ---- crossing pairs mixed with whole-machine stops ---- */

#define MAX_CALLS 4096
static int call_ran[MAX_CALLS], call_wrong_cpu, call_failed, stress_rounds;
static int call_next;

struct call {
	int id, cpu1;
};

static int pair_fn(void *arg)
{
	struct call *c = arg;
	__atomic_fetch_add(&call_ran[c->id], 1, __ATOMIC_RELAXED);
	if (smp_processor_id() != c->cpu1)
		__atomic_fetch_add(&call_wrong_cpu, 1, __ATOMIC_RELAXED);
	return 0;
}

static int machine_fn(void *arg)
{
	struct call *c = arg;
	__atomic_fetch_add(&call_ran[c->id], 1, __ATOMIC_RELAXED);
	return 0;
}

static void stress_member(void *arg)
{
	uint64_t rng = *(uint64_t *)arg ^ ((uint64_t)smp_processor_id() << 32);
	int me = smp_processor_id(), n = num_online_cpus();
	int next = cpumask_next(me, cpu_online_mask);
	if (next >= NR_CPUS)
		next = cpumask_first(cpu_online_mask);
	for (int r = 0; r < stress_rounds; r++) {
		struct call c = {.id = __atomic_fetch_add(&call_next, 1, __ATOMIC_RELAXED)};
		if (c.id >= MAX_CALLS)
			return;
		int ret;
		/* Harts 0, 3, 6, ... sometimes stop the machine; the others
		 * issue their pair (me, next) in a random argument order. */
		if (me % 3 == 0 && ktest_rand(&rng) % 4 == 0) {
			ret = stop_machine(machine_fn, &c, NULL);
		} else {
			bool swap = ktest_rand(&rng) & 1;
			c.cpu1 = swap ? next : me;
			ret = n > 1 ? stop_two_cpus(c.cpu1, swap ? me : next, pair_fn, &c)
				    : stop_one_cpu(me, pair_fn, &c);
		}
		if (ret)
			__atomic_fetch_add(&call_failed, 1, __ATOMIC_RELAXED);
	}
}

static void stop_two_cpus_crossing_pairs_with_stop_machine(struct ktest *t)
{
	int n = num_online_cpus();
	memset(call_ran, 0, sizeof(call_ran));
	call_next = call_wrong_cpu = call_failed = 0;
	/* A whole-machine stop costs a round of every hart; on two host
	 * cores (and another QEMU beside us) keep the total near 160 calls. */
	stress_rounds = max(8, min(40, 160 / n));
	uint64_t seed = ktest_rand(&t->rng);
	ASSERT_EQ(t, run_on_cpus(cpu_online_mask, stress_member, &seed), 0);
	int calls = min(call_next, MAX_CALLS), once = 0;
	for (int i = 0; i < calls; i++)
		once += call_ran[i] == 1;
	ktest_log(t, "%d calls over %d harts (%d rounds each)", calls, n, stress_rounds);
	EXPECT_EQ(t, calls, stress_rounds * n);
	EXPECT_EQ(t, once, calls); /* every fn ran exactly once */
	EXPECT_EQ(t, call_wrong_cpu, 0);
	EXPECT_EQ(t, call_failed, 0);
}

/* ---- stop_machine: exclusive, interrupts off, on the mask ---- */

DEFINE_PER_CPU(unsigned long, outside_progress);
static volatile int outside_stop;
static int excl_violations, excl_irqs_on, excl_runs;

static int outside_spin(void *arg)
{
	uint64_t pace = 0;
	while (!outside_stop) {
		this_cpu(outside_progress)++; /* a bound thread: its own hart's */
		hog_relax(&pace);
	}
	return 0;
}

/*
 * Three witnesses per hart while fn runs: what the hart itself recorded
 * inside this rendezvous (interrupts off, preemption disabled), and two
 * things that must stand still: a busy thread's counter (nothing else
 * runs) and the hart's tick count (fn waits longer than a tick period).
 */
static int exclusive_fn(void *arg)
{
	unsigned long snap[NR_CPUS], ticks[NR_CPUS];
	int cpu;
	__atomic_fetch_add(&excl_runs, 1, __ATOMIC_RELAXED);
	for_each_online_cpu(cpu) {
		snap[cpu] = READ_ONCE(per_cpu(outside_progress, cpu));
		ticks[cpu] = READ_ONCE(per_cpu(tick_count, cpu));
		struct stop_witness w;
		if (!stop_machine_witness(cpu, &w) || !w.irqs_off || w.preempt_count < 1)
			__atomic_fetch_add(&excl_irqs_on, 1, __ATOMIC_RELAXED);
	}
	if (!irqs_disabled())
		__atomic_fetch_add(&excl_irqs_on, 1, __ATOMIC_RELAXED);
	udelay(2 * 1000000 / HZ);
	for_each_online_cpu(cpu) {
		if (READ_ONCE(per_cpu(outside_progress, cpu)) != snap[cpu])
			__atomic_fetch_add(&excl_violations, 1, __ATOMIC_RELAXED);
		if (READ_ONCE(per_cpu(tick_count, cpu)) != ticks[cpu])
			__atomic_fetch_add(&excl_irqs_on, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

static void concurrent_stop_machine(void *arg)
{
	for (int i = 0; i < *(int *)arg; i++)
		if (stop_machine(exclusive_fn, NULL, NULL))
			__atomic_fetch_add(&excl_violations, 1000, __ATOMIC_RELAXED);
}

static void stop_machine_is_exclusive_with_irqs_off(struct ktest *t)
{
	static struct task_struct *sp[NR_CPUS];
	int cpu, n = num_online_cpus();
	excl_violations = excl_irqs_on = excl_runs = 0;
	outside_stop = 0;
	/* Something busy that the rendezvous must freeze, on up to 8 harts:
	 * with more, every busy vCPU competes for the two host cores and one
	 * rendezvous takes seconds. The tick witness covers every hart. */
	memset(sp, 0, sizeof(sp));
	for_each_online_cpu(cpu) {
		if (cpu >= 8)
			break;
		sp[cpu] = kthread_start_on_cpu(outside_spin, NULL, cpu, "outside/%u");
		ASSERT_TRUE(t, sp[cpu] != NULL);
	}
	int each = max(1, 8 / n); /* every hart calls it, concurrently */
	ASSERT_EQ(t, run_on_cpus(cpu_online_mask, concurrent_stop_machine, &each), 0);
	outside_stop = 1;
	for_each_online_cpu(cpu)
		if (sp[cpu])
			kthread_reap(sp[cpu]);
	EXPECT_EQ(t, excl_runs, each * n);
	EXPECT_EQ(t, excl_violations, 0);
	EXPECT_EQ(t, excl_irqs_on, 0);
}

static int mask_irqs_on; /* fn ran with interrupts on, or a participant had them on */

static int mask_fn(void *arg)
{
	int cpu;
	__atomic_fetch_add(&((int *)arg)[smp_processor_id()], 1, __ATOMIC_RELAXED);
	if (!irqs_disabled())
		__atomic_fetch_add(&mask_irqs_on, 1, __ATOMIC_RELAXED);
	for_each_online_cpu(cpu) {
		struct stop_witness w;
		if (!stop_machine_witness(cpu, &w) || !w.irqs_off)
			__atomic_fetch_add(&mask_irqs_on, 1, __ATOMIC_RELAXED);
	}
	return smp_processor_id() == test_hart() ? -EIO : 0;
}

static void stop_machine_runs_fn_on_mask_and_returns_errors(struct ktest *t)
{
	static int ran[NR_CPUS];
	cpumask_t mask;
	int cpu;
	mask_irqs_on = 0;
	for (int round = 0; round < 4; round++) {
		memset(ran, 0, sizeof(ran));
		cpumask_clear(&mask);
		for_each_online_cpu(cpu)
			if (ktest_rand(&t->rng) & 1)
				cpumask_set_cpu(cpu, &mask);
		if (cpumask_empty(&mask))
			cpumask_set_cpu(0, &mask);
		int ret = stop_machine(mask_fn, ran, &mask);
		for_each_online_cpu(cpu)
			EXPECT_EQ(t, ran[cpu], cpumask_test_cpu(cpu, &mask) ? 1 : 0);
		EXPECT_EQ(t, ret, cpumask_test_cpu(test_hart(), &mask) ? -EIO : 0);
	}
	memset(ran, 0, sizeof(ran)); /* NULL: the first online hart only */
	stop_machine(mask_fn, ran, NULL);
	for_each_online_cpu(cpu)
		EXPECT_EQ(t, ran[cpu], cpu == cpumask_first(cpu_online_mask) ? 1 : 0);
	/* Every fn, on every hart of the mask, saw every participant with its
	 * interrupts off (its own witness), itself included. */
	EXPECT_EQ(t, mask_irqs_on, 0);
}

/* ---- the watchdog ---- */

static int stall_reports;

static void catch_stall(const char *msg, size_t len, void *arg)
{
	if (strstr(msg, "stop_machine stall: state RUN") || strstr(msg, "has been running fn"))
		stall_reports++;
}

/* ---- the watchdog names a hart that never arrives ---- */

static char prepare_report[200];
static volatile int late_holding;

static void catch_prepare(const char *msg, size_t len, void *arg)
{
	const char *s = strstr(msg, "stop_machine stall: state PREPARE");
	if (s && !prepare_report[0]) {
		strncpy(prepare_report, s, sizeof(prepare_report) - 1);
		smp_cond_wake(prepare_report); /* the late hart may halt waiting for it */
	}
}

/* Keeps its hart's stopper out (preemption off) until the watchdog has
 * named it, or for 2 s at most. */
static int late_hart(void *arg)
{
	preempt_disable();
	WRITE_ONCE(late_holding, 1);
	uint64_t end = get_cycles() + (uint64_t)timebase_hz * 2;
	struct cpu_wait w = {0, 0};
	while (!READ_ONCE(prepare_report[0]) && get_cycles() < end) {
		if (cpu_wait_should_halt(&w)) /* ends at the report, or a tick later */
			cpu_wait_halt_unless(&w, prepare_report, READ_ONCE(prepare_report[0]));
		else
			cpu_relax();
	}
	preempt_enable();
	return 0;
}

static int nop_fn(void *arg)
{
	return 0;
}

static void stop_watchdog_names_hart_that_never_arrives(struct ktest *t)
{
	if (num_online_cpus() < 2)
		ktest_skip(t, "needs two harts");
	int late = cpumask_last(cpu_online_mask);
	/* This thread stays off the late hart, which will not schedule. */
	cpumask_t saved = current->cpus_allowed, elsewhere;
	cpumask_copy(&elsewhere, cpu_online_mask);
	cpumask_clear_cpu(late, &elsewhere);
	ASSERT_EQ(t, set_cpus_allowed_ptr(current, &elsewhere), 0);
	late_holding = 0;
	memset(prepare_report, 0, sizeof(prepare_report));
	struct task_struct *h = kthread_create_on_cpu(late_hart, NULL, late, "late/%u");
	ASSERT_TRUE(t, h != NULL);
	get_task_struct(h);
	wake_up_process(h);
	while (!READ_ONCE(late_holding))
		msleep(1);

	uint64_t saved_ticks = stop_watchdog_ticks;
	stop_watchdog_ticks = ns_to_ticks(50 * 1000000ULL);
	/* The late hart is named in PREPARE; once it arrives, a slow host may
	 * make another state take over 50 ms as well. */
	ktest_expect_warn_at_least(t, "stop_machine stall: state PREPARE", 1);
	ktest_expect_warn_at_least(t, "stop_machine stall: state", 1);
	printk_set_hook(catch_prepare, NULL);
	int rc = stop_machine(nop_fn, NULL, NULL); /* returns once the late hart arrives */
	printk_set_hook(NULL, NULL);
	stop_watchdog_ticks = saved_ticks;
	kthread_reap(h);
	set_cpus_allowed_ptr(current, &saved);
	EXPECT_EQ(t, rc, 0);
	/* "... not acked after N ms by: cpuA cpuB; fn ...": the late hart is
	 * the highest numbered, so it ends the list. */
	char want[16];
	snprintf(want, sizeof(want), " cpu%d;", late);
	ktest_log(t, "%s", prepare_report[0] ? prepare_report : "no PREPARE report");
	EXPECT_TRUE(t, strstr(prepare_report, want) != NULL);
}

static int slow_fn(void *arg)
{
	udelay(*(int *)arg * 1000);
	return 3;
}

static void stop_watchdog_reports_stall_then_recovers(struct ktest *t)
{
	if (num_online_cpus() < 2)
		ktest_skip(t, "a stall is seen by the harts that wait: needs two");
	uint64_t saved = stop_watchdog_ticks;
	int ms = 400;
	stop_watchdog_ticks = ns_to_ticks(50 * 1000000ULL); /* 50 ms for this test */
	stall_reports = 0;
	/* The rendezvous's waiters name the RUN state (a slow host may add
	 * others); the tick names the 400 ms stop_one_cpu fn. */
	ktest_expect_warn_at_least(t, "stop_machine stall: state", 1);
	ktest_expect_warn_at_least(t, "has been running fn", 1);
	printk_set_hook(catch_stall, NULL);
	int a = stop_machine(slow_fn, &ms, NULL); /* others see RUN not acked */
	int b = stop_one_cpu(test_hart(), slow_fn, &ms);
	printk_set_hook(NULL, NULL);
	stop_watchdog_ticks = saved;
	EXPECT_EQ(t, a, 3);
	EXPECT_EQ(t, b, 3);
	EXPECT_GE(t, stall_reports, 2);
	/* And the machine works normally afterwards. */
	EXPECT_EQ(t, stop_machine(machine_fn, &(struct call){.id = 0}, NULL), 0);
}

KTEST_SUITE(stop_machine, KTEST_CASE(stop_two_cpus_crossing_pairs_with_stop_machine),
	    KTEST_CASE(stop_machine_is_exclusive_with_irqs_off),
	    KTEST_CASE(stop_machine_runs_fn_on_mask_and_returns_errors),
	    KTEST_CASE(stop_watchdog_reports_stall_then_recovers),
	    KTEST_CASE(stop_watchdog_names_hart_that_never_arrives));
