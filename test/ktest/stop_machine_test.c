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
#include "cpu_wait.h"
#include "preempt.h"
#include "smp_call.h"
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

/* ---- every waiting rule, flat and with the combining tree ---- */

static int rule_ran[NR_CPUS], rule_irqs_on;

/* On every hart: count, and check every participant's witness. */
static int rule_fn(void *arg)
{
	int cpu;
	__atomic_fetch_add(&rule_ran[smp_processor_id()], 1, __ATOMIC_RELAXED);
	for_each_online_cpu(cpu) {
		struct stop_witness w;
		if (!stop_machine_witness(cpu, &w) || !w.irqs_off)
			__atomic_fetch_add(&rule_irqs_on, 1, __ATOMIC_RELAXED);
	}
	return smp_processor_id() == cpumask_first(cpu_online_mask) ? 5 : 0;
}

static void stop_sum_stats(unsigned long *halts, unsigned long *kicks)
{
	int cpu;
	*halts = *kicks = 0;
	for_each_online_cpu(cpu) {
		struct stop_stats st;
		stop_get_stats(cpu, &st);
		*halts += st.rendezvous_halts;
		*kicks += st.rendezvous_kicks;
	}
}

/*
 * Each stop_wait rule, with the flat counter and with groups of 2 and 3
 * (uneven at most hart counts): fn on every hart exactly once per call,
 * every participant's interrupts off before any fn runs, the result
 * back. spin never halts; wfi halts (with two harts or more) and its
 * halts are ended by the publisher's kicks, not only by ticks.
 */
static void stop_machine_every_wait_rule_and_fanin(struct ktest *t)
{
	enum stop_wait saved_wait = stop_wait_get();
	int saved_fanin = stop_fanin_get(), n = num_online_cpus(), cpu;
	/* Spinning costs a host core per participant: few calls at 128. */
	int calls = n > 16 ? 2 : 6;
	for (int mode = 0; mode < STOP_WAIT_NR; mode++) {
		static const int fanins[] = {0, 2, 3};
		for (unsigned f = 0; f < ARRAY_SIZE(fanins); f++) {
			unsigned long h0, k0, h1, k1;
			/* Where the host runs one hart at a time (-icount,
			 * thread=single) a spinning participant keeps QEMU's one
			 * thread from the harts it waits for: that is what the
			 * halting rules are for, and spin can live-lock there. */
			if (mode == STOP_WAIT_SPIN && stop_host_parallelism() < 2) {
				if (!f)
					ktest_log(t, "stop_wait=spin left out: the host runs one "
						     "hart at a time");
				continue;
			}
			memset(rule_ran, 0, sizeof(rule_ran));
			rule_irqs_on = 0;
			stop_wait_set((enum stop_wait)mode);
			stop_fanin_set(fanins[f]);
			stop_sum_stats(&h0, &k0);
			int bad_rc = 0;
			for (int i = 0; i < calls; i++)
				bad_rc += stop_machine(rule_fn, NULL, cpu_online_mask) != 5;
			stop_sum_stats(&h1, &k1);
			ktest_log(t, "stop_wait=%s fanin=%d: %lu halts, %lu kicks in %d calls",
				  stop_wait_names[mode], fanins[f], h1 - h0, k1 - k0, calls);
			EXPECT_EQ(t, bad_rc, 0);
			EXPECT_EQ(t, rule_irqs_on, 0);
			for_each_online_cpu(cpu)
				EXPECT_EQ(t, rule_ran[cpu], calls);
			if (mode == STOP_WAIT_SPIN)
				EXPECT_EQ(t, h1 - h0, 0UL);
			if (mode == STOP_WAIT_WFI && n > 1) {
				EXPECT_GT(t, h1 - h0, 0UL);
				EXPECT_GT(t, k1 - k0, 0UL);
			}
		}
	}
	stop_wait_set(saved_wait);
	stop_fanin_set(saved_fanin);
	EXPECT_EQ(t, stop_wait_set(STOP_WAIT_NR), -EINVAL);
	EXPECT_EQ(t, stop_fanin_set(-1), -EINVAL);
	EXPECT_EQ(t, stop_wait_get(), saved_wait);
}

/* ---- a halted participant keeps an IPI that is not its kick ---- */

static volatile int late_call_cpu = -1, late_call_in_rendezvous;
static struct task_struct *volatile late_call_task;
static struct call_single_data late_csd;

static void late_call(void *arg)
{
	/* Taken as an interrupt: only once the rendezvous gave interrupts
	 * back (EXIT), never inside it, and at once then, in the stopper
	 * that restored them: the IPI is pending again by that time. A
	 * reason left in the word with no doorbell would run only at the
	 * hart's next IPI, from whatever runs then. */
	if (cpu_stop_state(smp_processor_id()) != MULTI_STOP_NONE)
		late_call_in_rendezvous = 1;
	late_call_task = current;
	smp_store_release(&late_call_cpu, smp_processor_id());
	smp_cond_wake(&late_call_cpu);
}

/* On the first hart, in RUN: wait (a while, at most) for the last hart to
 * halt in the rendezvous with its interrupts off, then send it a
 * cross-call. Its halt ends (an IPI is pending), it must take the kick
 * part only and leave the call for when interrupts are back on. */
static int send_late_call(void *arg)
{
	int target = *(int *)arg;
	uint64_t end = get_cycles() + timebase_hz / 10;
	while (!cpu_wait_waiting_on(target) && get_cycles() < end)
		cpu_relax();
	*(int *)arg = cpu_wait_waiting_on(target) != NULL;
	late_csd.fn = late_call;
	return smp_call_function_single_async(target, &late_csd);
}

static void stop_machine_halt_keeps_other_ipis(struct ktest *t)
{
	if (num_online_cpus() < 2)
		ktest_skip(t, "needs a second hart to halt");
	enum stop_wait saved = stop_wait_get();
	int target = cpumask_last(cpu_online_mask), arg = target, tries = 0;
	late_call_cpu = -1;
	late_call_in_rendezvous = 0;
	late_call_task = NULL;
	/* wfi: the other participants halt as soon as they acked RUN. */
	stop_wait_set(STOP_WAIT_WFI);
	int rc = stop_machine(send_late_call, &arg, NULL);
	stop_wait_set(saved);
	EXPECT_EQ(t, rc, 0);
	ktest_log(t, "cpu%d was %shalted when the call was sent", target, arg ? "" : "not ");
	/* The call runs once the target's interrupts are back on: wait up to
	 * 2 s (it is a matter of microseconds; a lost reason never comes). */
	while (smp_load_acquire(&late_call_cpu) < 0 && tries++ < 2000)
		msleep(1);
	EXPECT_EQ(t, late_call_cpu, target);
	EXPECT_EQ(t, late_call_in_rendezvous, 0);
	EXPECT_TRUE(t, late_call_task == cpu_stopper_task(target));
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

/* The hart list after `key` in a stall report ("0-2,5" up to a space or
 * '('), into m; false if the key or a valid list is not there. */
static bool parse_named(const char *report, const char *key, cpumask_t *m)
{
	const char *s = strstr(report, key);
	char list[96];
	size_t n = 0;
	if (!s)
		return false;
	s += strlen(key);
	while (s[n] && s[n] != ' ' && s[n] != ';' && s[n] != '(' && n < sizeof(list) - 1) {
		list[n] = s[n];
		n++;
	}
	list[n] = '\0';
	return strcmp(list, "none") == 0 || cpumask_parse(list, m) == 0;
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
	/* "... not acked after N ms by cpus LIST (...": the late hart is in
	 * the list (others may be too, on a slow host). */
	ktest_log(t, "%s", prepare_report[0] ? prepare_report : "no PREPARE report");
	cpumask_t named;
	cpumask_clear(&named);
	ASSERT_TRUE(t, parse_named(prepare_report, "by cpus ", &named));
	EXPECT_TRUE(t, cpumask_test_cpu(late, &named));
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
	    KTEST_CASE(stop_machine_every_wait_rule_and_fanin),
	    KTEST_CASE(stop_machine_halt_keeps_other_ipis),
	    KTEST_CASE(stop_machine_is_exclusive_with_irqs_off),
	    KTEST_CASE(stop_machine_runs_fn_on_mask_and_returns_errors),
	    KTEST_CASE(stop_watchdog_reports_stall_then_recovers),
	    KTEST_CASE(stop_watchdog_names_hart_that_never_arrives));
