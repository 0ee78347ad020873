/*
 * stop_test.c - the stopper and its rendezvous: APIs and their errors,
 * crossing stop_two_cpus() pairs mixed with stop_machine(), exclusivity
 * during RUN, running-task migration under a storm, the watchdog.
 */
#include <stdio.h>
#include <string.h>
#include "console.h"
#include "mm.h"
#include "preempt.h"
#include "sched_helpers.h"
#include "stop_machine.h"
#include "tick.h"

/* ---- stop_one_cpu ---- */

static volatile unsigned long spinner_progress;

static int rt_spinner(void *arg)
{
	uint64_t pace = 0;
	while (!*(volatile int *)arg) {
		spinner_progress++;
		hog_relax(&pace);
	}
	return 0;
}

struct preempt_probe {
	unsigned long before, after;
	int cpu;
	bool stopper, atomic;
};

static int probe_fn(void *arg)
{
	struct preempt_probe *pp = arg;
	pp->before = spinner_progress;
	udelay(3000); /* the spinner would advance thousands of times meanwhile */
	pp->after = spinner_progress;
	pp->cpu = smp_processor_id();
	pp->stopper = current == cpu_stopper_task(pp->cpu);
	pp->atomic = preempt_count() != 0;
	return 7;
}

static void stop_one_cpu_preempts_fifo99_spinner(struct ktest *t)
{
	int cpu = pin_other_or_skip(t, "needs two harts: the spinner only stops when told");
	static volatile int stop;
	stop = 0;
	spinner_progress = 0;
	struct task_struct *sp = kthread_create_on_cpu(rt_spinner, (void *)&stop, cpu, "rt99/%u");
	ASSERT_TRUE(t, sp != NULL);
	sched_setscheduler(sp, SCHED_FIFO, 99);
	get_task_struct(sp);
	wake_up_process(sp);
	while (spinner_progress < 1000) /* it runs */
		msleep(1);
	struct preempt_probe pp = {0};
	int ret = stop_one_cpu(cpu, probe_fn, &pp);
	unsigned long progress_after = spinner_progress;
	/* It runs again (within a second: it halts up to a tick at a time). */
	uint64_t deadline = get_cycles() + timebase_hz;
	while (spinner_progress == progress_after && get_cycles() < deadline)
		msleep(1);
	bool resumed = spinner_progress > progress_after;
	stop = 1;
	kthread_reap(sp);
	unpin_self();
	EXPECT_EQ(t, ret, 7);
	EXPECT_EQ(t, pp.cpu, cpu);
	EXPECT_TRUE(t, pp.stopper);
	EXPECT_TRUE(t, pp.atomic);
	EXPECT_EQ(t, pp.after, pp.before); /* the spinner stood still while fn ran */
	EXPECT_TRUE(t, resumed);
}

static int report_target(void *arg)
{
	int *seen = arg;
	seen[smp_processor_id()]++;
	return 1000 + smp_processor_id();
}

static int pair_errors;

static void every_target(void *arg)
{
	int cpu, seen[NR_CPUS];
	memset(seen, 0, sizeof(seen));
	for_each_online_cpu(cpu) {
		int ret = stop_one_cpu(cpu, report_target, seen);
		if (ret != 1000 + cpu || seen[cpu] != 1)
			__atomic_fetch_add(&pair_errors, 1, __ATOMIC_RELAXED);
	}
}

static void stop_one_cpu_from_every_hart_to_every_hart(struct ktest *t)
{
	pair_errors = 0;
	ASSERT_EQ(t, run_on_cpus(cpu_online_mask, every_target, NULL), 0);
	EXPECT_EQ(t, pair_errors, 0);
}

static int nested_call(void *arg)
{
	return stop_one_cpu(smp_processor_id(), report_target, arg);
}

/* The warnings misuse must print, by the context each names. */
static int warned_irqs, warned_preempt, warned_nested;

static void catch_deadlock_warning(const char *msg, size_t len, void *arg)
{
	if (!strstr(msg, "WARNING: ") || !strstr(msg, "would deadlock, refused with -EDEADLK"))
		return;
	if (strstr(msg, "called with interrupts disabled by 0x"))
		warned_irqs++;
	else if (strstr(msg, "called with preemption disabled by 0x"))
		warned_preempt++;
	else if (strstr(msg, "called from a stop fn by 0x"))
		warned_nested++;
}

static void stop_misuse_is_refused_not_hung(struct ktest *t)
{
	int seen[NR_CPUS];
	cpumask_t empty, offline;
	cpumask_clear(&empty);
	cpumask_clear(&offline);
	cpumask_set_cpu(NR_CPUS - 1, &offline);
	EXPECT_EQ(t, stop_one_cpu(-1, report_target, seen), -EINVAL);
	EXPECT_EQ(t, stop_one_cpu(NR_CPUS, report_target, seen), -EINVAL);
	if (!cpu_online(NR_CPUS - 1)) {
		EXPECT_EQ(t, stop_one_cpu(NR_CPUS - 1, report_target, seen), -ENOENT);
		EXPECT_EQ(t, stop_machine(report_target, seen, &offline), -ENOENT);
		EXPECT_EQ(t, stop_cpus(&offline, report_target, seen), -ENOENT);
	}
	EXPECT_EQ(t, stop_machine(report_target, seen, &empty), -EINVAL);
	EXPECT_EQ(t, stop_cpus(&empty, report_target, seen), -EINVAL);
	EXPECT_EQ(t, stop_two_cpus(0, 0, report_target, seen), -EINVAL);
	warned_irqs = warned_preempt = warned_nested = 0;
	ktest_expect_warn(t, "would deadlock, refused with -EDEADLK", 4);
	printk_set_hook(catch_deadlock_warning, NULL);
	local_irq_disable();
	int a = stop_one_cpu(0, report_target, seen);
	int b = stop_machine(report_target, seen, NULL);
	local_irq_enable();
	EXPECT_EQ(t, a, -EDEADLK);
	EXPECT_EQ(t, b, -EDEADLK);
	preempt_disable();
	int c = stop_one_cpu(0, report_target, seen);
	preempt_enable();
	EXPECT_EQ(t, c, -EDEADLK);
	/* From inside a stop fn: the outer call returns the inner's -EDEADLK. */
	EXPECT_EQ(t, stop_one_cpu(0, nested_call, seen), -EDEADLK);
	printk_set_hook(NULL, NULL);
	/* Each refusal warned, naming why and the caller's address. */
	EXPECT_EQ(t, warned_irqs, 2);
	EXPECT_EQ(t, warned_preempt, 1);
	EXPECT_EQ(t, warned_nested, 1);
}

/* ---- stop_one_cpu_nowait ---- */

/* Set (and kicked: release_hold()) to let hold_fn and slow_stop_cpus go. */
static int hold;

/* Keeps a stopper busy until released; halts meanwhile (cpu_wait.h). */
static int hold_fn(void *arg)
{
	smp_cond_load_acquire(&hold, VAL);
	return 0;
}

static void release_hold(void)
{
	smp_store_release(&hold, 1);
	smp_cond_wake(&hold);
}

static int count_fn(void *arg)
{
	__atomic_fetch_add((int *)arg, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static int requeue_warnings;

static void catch_requeue(const char *msg, size_t len, void *arg)
{
	if (strstr(msg, "is still queued"))
		requeue_warnings++;
}

static void stop_nowait_runs_and_refuses_requeue(struct ktest *t)
{
	int cpu = pin_self_pick_other();
	if (cpu < 0)
		cpu = 0; /* one hart: hold_fn is never queued below */
	static struct cpu_stop_work blocker, work;
	static int count;
	count = 0;
	hold = 0;
	requeue_warnings = 0;
	bool two = cpu != smp_processor_id();
	if (two)
		ktest_expect_warn(t, "is still queued", 1);
	if (two) /* keep the stopper busy so that `work` stays queued */
		EXPECT_TRUE(t, stop_one_cpu_nowait(cpu, hold_fn, NULL, &blocker));
	EXPECT_TRUE(t, stop_one_cpu_nowait(cpu, count_fn, &count, &work));
	printk_set_hook(catch_requeue, NULL);
	bool again = two ? stop_one_cpu_nowait(cpu, count_fn, &count, &work) : false;
	printk_set_hook(NULL, NULL);
	release_hold();
	uint64_t deadline = get_cycles() + (uint64_t)timebase_hz * 30;
	while (__atomic_load_n(&count, __ATOMIC_SEQ_CST) < 1 && get_cycles() < deadline)
		msleep(1);
	msleep(5);
	unpin_self();
	EXPECT_EQ(t, count, 1); /* ran once, not twice, and the list is intact */
	if (two) {
		EXPECT_FALSE(t, again);
		EXPECT_EQ(t, requeue_warnings, 1);
	}
	EXPECT_FALSE(t, stop_one_cpu_nowait(-1, count_fn, &count, &work));
	/* Reusable once fn has started. */
	EXPECT_TRUE(t, stop_one_cpu_nowait(cpu, count_fn, &count, &work));
	while (__atomic_load_n(&count, __ATOMIC_SEQ_CST) < 2 && get_cycles() < deadline)
		msleep(1);
	EXPECT_EQ(t, count, 2);
	if (!two)
		ktest_skip(t,
			   "the re-queue refusal needs a second hart to keep busy (the rest ran)");
}

/* ---- stop_two_cpus and stop_cpus ---- */

struct two_probe {
	int cpu1, cpu2;
	int ran_on;
	bool irqs_off;
	bool peer_seen; /* the peer's witness from this rendezvous */
	struct stop_witness peer;
};

static int two_fn(void *arg)
{
	struct two_probe *tp = arg;
	tp->ran_on = smp_processor_id();
	tp->irqs_off = irqs_disabled();
	tp->peer_seen = stop_machine_witness(tp->cpu2, &tp->peer);
	return 5;
}

static void stop_two_cpus_runs_fn_on_first_with_both_stopped(struct ktest *t)
{
	if (num_online_cpus() < 2)
		ktest_skip(t, "needs two harts");
	int a = cpumask_first(cpu_online_mask), b = test_hart();
	for (int order = 0; order < 2; order++) {
		struct two_probe tp = {.cpu1 = order ? b : a, .cpu2 = order ? a : b, .ran_on = -1};
		EXPECT_EQ(t, stop_two_cpus(tp.cpu1, tp.cpu2, two_fn, &tp), 5);
		EXPECT_EQ(t, tp.ran_on, tp.cpu1);
		EXPECT_TRUE(t, tp.irqs_off);
		/* The peer, by its own account from inside this rendezvous, had
		 * its interrupts off and preemption disabled while fn ran. */
		EXPECT_TRUE(t, tp.peer_seen);
		EXPECT_TRUE(t, tp.peer.irqs_off);
		EXPECT_GE(t, tp.peer.preempt_count, 1);
	}
}

static volatile int holding_mutex;

static int slow_stop_cpus(void *arg)
{
	holding_mutex = 1;
	smp_cond_load_acquire(&hold, VAL);
	return 0;
}

static int hold_stop_cpus(void *arg)
{
	cpumask_t one;
	cpumask_clear(&one);
	cpumask_set_cpu(*(int *)arg, &one);
	return stop_cpus(&one, slow_stop_cpus, NULL);
}

/* What a stop_cpus() fn sees on each hart: run by that hart's stopper,
 * preemption off, interrupts on (stop_cpus is not a rendezvous). */
struct ctx_probe {
	int ran, stopper, atomic, irqs_on;
};

static int context_fn(void *arg)
{
	int cpu = smp_processor_id();
	struct ctx_probe *p = &((struct ctx_probe *)arg)[cpu];
	p->ran++;
	p->stopper = current == cpu_stopper_task(cpu);
	p->atomic = preempt_count() != 0;
	p->irqs_on = !irqs_disabled();
	return 0;
}

static void stop_cpus_on_mask_and_try_stop_cpus_busy(struct ktest *t)
{
	static int seen[NR_CPUS];
	cpumask_t mask;
	int cpu;
	memset(seen, 0, sizeof(seen));
	cpumask_clear(&mask);
	for_each_online_cpu(cpu)
		if (cpu % 2 == 0)
			cpumask_set_cpu(cpu, &mask);
	EXPECT_EQ(t, stop_cpus(&mask, count_fn, &seen[0]), 0);
	EXPECT_EQ(t, seen[0], cpumask_weight(&mask));
	static struct ctx_probe ctx[NR_CPUS];
	memset(ctx, 0, sizeof(ctx));
	EXPECT_EQ(t, stop_cpus(&mask, context_fn, ctx), 0);
	for_each_cpu(cpu, &mask) {
		EXPECT_EQ(t, ctx[cpu].ran, 1);
		EXPECT_TRUE(t, ctx[cpu].stopper);
		EXPECT_TRUE(t, ctx[cpu].atomic);
		EXPECT_TRUE(t, ctx[cpu].irqs_on);
	}
	memset(seen, 0, sizeof(seen));
	/* Every fn returns non-zero: stop_cpus() returns one of them. */
	EXPECT_GE(t, stop_cpus(&mask, report_target, seen), 1000);
	for_each_online_cpu(cpu)
		EXPECT_EQ(t, seen[cpu], cpumask_test_cpu(cpu, &mask) ? 1 : 0);

	/* While one stop_cpus() holds the mutex, try_stop_cpus() says -EAGAIN. */
	int other = pin_self_pick_other();
	if (other < 0) {
		unpin_self();
		ktest_skip(t, "try_stop_cpus() -EAGAIN needs a second hart (stop_cpus ran)");
	}
	hold = 0;
	holding_mutex = 0;
	cpumask_t on_other;
	cpumask_clear(&on_other);
	cpumask_set_cpu(other, &on_other);
	struct task_struct *h =
		kthread_create_on_cpu(hold_stop_cpus, &other, smp_processor_id(), "holder/%u");
	ASSERT_TRUE(t, h != NULL);
	get_task_struct(h);
	wake_up_process(h);
	while (!holding_mutex)
		msleep(1);
	EXPECT_EQ(t, try_stop_cpus(&on_other, count_fn, &seen[0]), -EAGAIN);
	release_hold();
	kthread_reap(h);
	unpin_self();
	EXPECT_EQ(t, try_stop_cpus(&on_other, count_fn, &seen[0]), 0);
}

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

/* ---- moving running tasks under a storm of affinity changes ---- */

/*
 * Four busy workers per hart (16 at most) spin until the storm is over.
 * The storm (FIFO, so that the spinners cannot starve it) runs
 * on the first half of the harts (one of two), so workers keep running on
 * the others; every storm hart changes random workers' masks at once, so
 * concurrent requests on one task share its pending move. Half of the
 * changes are aimed: at a worker running on another hart, with a mask
 * that excludes that hart, which only the stopper can carry out. The
 * others send a worker waiting behind a storm thread (where it would
 * never run) to random harts that run no storm.
 */
struct worker {
	struct task_struct *task;
	volatile unsigned long done;
};

static volatile int storm_stop;

static int storm_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t pace = 0;
	while (!READ_ONCE(storm_stop)) {
		w->done++;
		hog_relax(&pace);
	}
	return 0;
}

static struct worker *storm_workers;
static int storm_nworkers, storm_setaff_rounds, storm_setaff_failed, storm_aimed, storm_calls;
static cpumask_t storm_harts;

/* From a random start: a worker running on a hart other than ours
 * (running), or one waiting behind a storm thread (!running); or NULL. */
static struct worker *find_worker(uint64_t *rng, bool running)
{
	int start = (int)(ktest_rand(rng) % (unsigned)storm_nworkers);
	for (int i = 0; i < storm_nworkers; i++) {
		struct worker *w = &storm_workers[(start + i) % storm_nworkers];
		int cpu = task_cpu(w->task);
		if (running ? READ_ONCE(w->task->on_cpu) && cpu != smp_processor_id()
			    : !READ_ONCE(w->task->on_cpu) && cpumask_test_cpu(cpu, &storm_harts))
			return w;
	}
	return NULL;
}

static void affinity_storm(void *arg)
{
	uint64_t rng = *(uint64_t *)arg ^ ((uint64_t)smp_processor_id() * 0x9e37);
	/* Rounds, or 5 s on a slow (oversubscribed) host. */
	uint64_t deadline = get_cycles() + (uint64_t)timebase_hz * 5;
	sched_setscheduler(current, SCHED_FIFO, 10); /* a run_on_cpus() thread: ours */
	for (int r = 0; r < storm_setaff_rounds && get_cycles() < deadline; r++) {
		bool aim = ktest_rand(&rng) & 1;
		struct worker *w = find_worker(&rng, aim);
		int away = aim && w ? task_cpu(w->task) : -1; /* aimed: move it off there */
		if (!w)
			w = &storm_workers[ktest_rand(&rng) % (unsigned)storm_nworkers];
		cpumask_t mask, from;
		int cpu;
		cpumask_copy(&from, cpu_online_mask);
		if (away >= 0)
			cpumask_clear_cpu(away, &from);
		else
			cpumask_andnot(&from, &from, &storm_harts);
		cpumask_clear(&mask);
		for_each_cpu(cpu, &from)
			if (ktest_rand(&rng) % 3 == 0)
				cpumask_set_cpu(cpu, &mask);
		if (cpumask_empty(&mask)) { /* one of them, at random */
			int skip = (int)(ktest_rand(&rng) % (unsigned)cpumask_weight(&from));
			cpu = cpumask_first(&from);
			while (skip--)
				cpu = cpumask_next(cpu, &from);
			cpumask_set_cpu(cpu, &mask);
		}
		__atomic_fetch_add(&storm_calls, 1, __ATOMIC_RELAXED);
		if (away >= 0)
			__atomic_fetch_add(&storm_aimed, 1, __ATOMIC_RELAXED);
		if (set_cpus_allowed_ptr(w->task, &mask) != 0)
			__atomic_fetch_add(&storm_setaff_failed, 1, __ATOMIC_RELAXED);
	}
}

static unsigned long stopper_migrations(void)
{
	unsigned long sum = 0;
	int cpu;
	for_each_online_cpu(cpu) {
		struct stop_stats st;
		stop_get_stats(cpu, &st);
		sum += st.migrations;
	}
	return sum;
}

static void stop_migration_storm_keeps_tasks_on_their_masks(struct ktest *t)
{
	int n = num_online_cpus(), cpu, k = 0;
	if (n < 2)
		ktest_skip(t, "needs two harts");
	unsigned long pages = nr_free_pages();
	size_t bytes = kmalloc_bytes_in_use();
	unsigned long viol = sched_affinity_violations(), moved = stopper_migrations();
	cpumask_clear(&storm_harts);
	for_each_online_cpu(cpu)
		if (k++ < max(1, n / 2))
			cpumask_set_cpu(cpu, &storm_harts);
	storm_nworkers = min(4 * n, 16); /* more spinning vCPUs only slow the host */
	storm_setaff_rounds = max(50, 1600 / cpumask_weight(&storm_harts));
	storm_setaff_failed = storm_aimed = storm_calls = 0;
	storm_stop = 0;
	/* This thread too must not be starved by the spinners it starts. */
	int policy = current->policy, prio = current->rt_priority;
	ASSERT_EQ(t, sched_setscheduler(current, SCHED_FIFO, 20), 0);
	storm_workers = kzalloc(sizeof(*storm_workers) * (size_t)storm_nworkers);
	ASSERT_TRUE(t, storm_workers != NULL);
	for (int i = 0; i < storm_nworkers; i++) {
		struct worker *w = &storm_workers[i];
		w->task = kthread_create(storm_worker, w, "busy%d", i);
		ASSERT_TRUE(t, w->task != NULL);
		get_task_struct(w->task);
		wake_up_process(w->task);
	}
	uint64_t seed = ktest_rand(&t->rng);
	EXPECT_EQ(t, run_on_cpus(&storm_harts, affinity_storm, &seed), 0);
	/* Every change has completed: each worker is on a hart it allows. */
	int misplaced = 0;
	for (int i = 0; i < storm_nworkers; i++) {
		struct task_struct *p = storm_workers[i].task;
		if (!cpumask_test_cpu(task_cpu(p), &p->cpus_allowed))
			misplaced++;
	}
	moved = stopper_migrations() - moved;
	storm_stop = 1;
	for (int i = 0; i < storm_nworkers; i++)
		kthread_reap(storm_workers[i].task);
	kfree(storm_workers);
	sched_setscheduler(current, policy, policy == SCHED_NORMAL ? 0 : prio);
	ktest_log(t,
		  "%d workers, %d harts: %d affinity changes, %d aimed at a running task; "
		  "the stoppers moved %lu running tasks",
		  storm_nworkers, n, storm_calls, storm_aimed, moved);
	EXPECT_EQ(t, misplaced, 0);
	EXPECT_EQ(t, storm_setaff_failed, 0);
	EXPECT_EQ(t, sched_affinity_violations() - viol, 0);
	/* An aimed change finds its task running unless the tick preempted it
	 * in the microseconds between; a quarter leaves a wide margin, and
	 * none at all would mean the stopper path never ran. */
	/* A storm at all, even on a slow host, and the stopper path in it: at
	 * 2 harts the aimed share swings widely (seen 15-234 of 1600) with
	 * where the storm happens to herd the workers; none at all means the
	 * running-task path never ran. */
	EXPECT_GE(t, storm_calls, 50);
	EXPECT_GE(t, storm_aimed, 8);
	EXPECT_GE(t, moved, (unsigned long)storm_aimed / 4);
	EXPECT_EQ(t, nr_free_pages(), pages);
	EXPECT_EQ(t, kmalloc_bytes_in_use(), bytes);
}

/* ---- active load balancing pushes a running task ---- */

static unsigned long active_pushes(void)
{
	unsigned long sum = 0;
	int cpu;
	for_each_online_cpu(cpu) {
		struct rq_stats st;
		sched_rq_stats(cpu, &st);
		sum += st.active_pushed;
	}
	return sum;
}

static void stop_active_balance_pushes_running_task(struct ktest *t)
{
	if (num_online_cpus() < 2)
		ktest_skip(t, "needs two harts");
	int home = test_hart();
	unsigned long pushed = active_pushes();
	static volatile int stop;
	stop = 0;
	/* A pinned nice-19 task and a movable nice -20 one share `home`: the
	 * movable one is nearly always the running one, so only the stopper
	 * (active balancing) can move it. */
	struct task_struct *pinned =
		kthread_create_on_cpu(rt_spinner, (void *)&stop, home, "pin/%u");
	struct task_struct *mover = kthread_create(rt_spinner, (void *)&stop, "mover");
	ASSERT_TRUE(t, pinned && mover);
	set_user_nice(pinned, 19);
	set_user_nice(mover, -20);
	kthread_bind(mover, home);
	get_task_struct(pinned);
	get_task_struct(mover);
	wake_up_process(pinned);
	wake_up_process(mover);
	while (!READ_ONCE(mover->on_cpu))
		msleep(1);
	EXPECT_EQ(t, set_cpus_allowed_ptr(mover, cpu_online_mask), 0);
	uint64_t deadline = get_cycles() + (uint64_t)timebase_hz * 30;
	while (task_cpu(mover) == home && get_cycles() < deadline)
		msleep(5);
	int where = task_cpu(mover);
	stop = 1;
	kthread_reap(mover);
	kthread_reap(pinned);
	EXPECT_NE(t, where, home);
	/* And it was the stopper that moved it: an active balance pushed a
	 * task (the periodic balance never moves a running one). */
	EXPECT_GT(t, active_pushes(), pushed);
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

KTEST_SUITE(stop_api, KTEST_CASE(stop_one_cpu_preempts_fifo99_spinner),
	    KTEST_CASE(stop_one_cpu_from_every_hart_to_every_hart),
	    KTEST_CASE(stop_misuse_is_refused_not_hung),
	    KTEST_CASE(stop_nowait_runs_and_refuses_requeue),
	    KTEST_CASE(stop_two_cpus_runs_fn_on_first_with_both_stopped),
	    KTEST_CASE(stop_cpus_on_mask_and_try_stop_cpus_busy));

KTEST_SUITE(stop_machine, KTEST_CASE(stop_two_cpus_crossing_pairs_with_stop_machine),
	    KTEST_CASE(stop_machine_is_exclusive_with_irqs_off),
	    KTEST_CASE(stop_machine_runs_fn_on_mask_and_returns_errors),
	    KTEST_CASE(stop_watchdog_reports_stall_then_recovers),
	    KTEST_CASE(stop_watchdog_names_hart_that_never_arrives));

KTEST_SUITE(stop_users, KTEST_CASE(stop_migration_storm_keeps_tasks_on_their_masks),
	    KTEST_CASE(stop_active_balance_pushes_running_task));
