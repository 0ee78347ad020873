/*
 * stop_api_test.c - the stop_api suite: stop_one_cpu() preempts even a
 * FIFO 99 task and returns fn's value, from every hart to every hart;
 * misuse is refused, not hung; stop_one_cpu_nowait(), stop_two_cpus(),
 * stop_cpus() and try_stop_cpus() keep their contracts.
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

KTEST_SUITE(stop_api, KTEST_CASE(stop_one_cpu_preempts_fifo99_spinner),
	    KTEST_CASE(stop_one_cpu_from_every_hart_to_every_hart),
	    KTEST_CASE(stop_misuse_is_refused_not_hung),
	    KTEST_CASE(stop_nowait_runs_and_refuses_requeue),
	    KTEST_CASE(stop_two_cpus_runs_fn_on_first_with_both_stopped),
	    KTEST_CASE(stop_cpus_on_mask_and_try_stop_cpus_busy));
