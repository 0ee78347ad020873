/*
 * sched_class_test.c - the pick loop's class order and each class's
 * policy, on one hart, checked by the order of a shared log (never by
 * timing).
 *
 * The "gate" pattern: a thread on the test hart disables preemption,
 * wakes the tasks under test (they queue there but cannot preempt), then
 * enables preemption: the pick loop now chooses among all of them at
 * once, so the order they first run in is the class order.
 */
#include <string.h>
#include "preempt.h"
#include "stop_machine.h"
#include "sched_helpers.h"
#include "tick.h"

enum { LOG_STOP = 1, LOG_RT, LOG_FAIR, LOG_HI_START, LOG_HI_END, LOG_LO, LOG_FIRST, LOG_SECOND };

static struct order_log order;

static int log_and_exit(void *arg)
{
	order_log_add(&order, (int)(uintptr_t)arg);
	return 0;
}

struct gate {
	struct task_struct *tasks[4];
	int n;
	cpu_stop_fn_t stop_fn; /* also queue this on the hart's stopper */
	struct cpu_stop_work stop_work;
	void (*queued)(struct gate *g); /* called with all of them queued */
};

/* Runs on the test hart: queue every task with preemption off, then let
 * the pick loop choose. */
static int gate_fn(void *arg)
{
	struct gate *g = arg;
	preempt_disable();
	for (int i = 0; i < g->n; i++)
		wake_up_process(g->tasks[i]);
	if (g->stop_fn) /* wakes migration/N, which cannot preempt us yet */
		stop_one_cpu_nowait(smp_processor_id(), g->stop_fn, (void *)LOG_STOP,
				    &g->stop_work);
	if (g->queued)
		g->queued(g);
	preempt_enable(); /* the first schedule() sees all of them queued */
	return 0;
}

/* Queue g's tasks on cpu through the gate (the caller then holds a
 * reference on each, for kthread_reap()); returns once the gate is gone. */
static int open_gate(struct gate *g, int cpu)
{
	struct task_struct *gt = kthread_create_on_cpu(gate_fn, g, cpu, "gate/%u");
	if (!gt)
		return -ENOMEM;
	/* The gate must beat everything it wakes until it lets go. */
	sched_setscheduler(gt, SCHED_FIFO, MAX_RT_PRIO - 1);
	for (int i = 0; i < g->n; i++)
		get_task_struct(g->tasks[i]);
	get_task_struct(gt);
	wake_up_process(gt);
	kthread_reap(gt);
	return 0;
}

static void run_gate(struct ktest *t, struct gate *g, int cpu)
{
	ASSERT_EQ(t, open_gate(g, cpu), 0);
	for (int i = 0; i < g->n; i++)
		kthread_reap(g->tasks[i]);
}

static int log_stop(void *arg)
{
	order_log_add(&order, (int)(uintptr_t)arg);
	return 0;
}

static void sched_class_order_stop_rt_fair(struct ktest *t)
{
	int cpu = test_hart();
	struct gate g = {.n = 2, .stop_fn = log_stop};
	memset(&order, 0, sizeof(order));
	/* Wake order is the reverse of the expected run order; the stop-class
	 * task is the hart's stopper, migration/N, given work by the gate. */
	g.tasks[0] = kthread_create_on_cpu(log_and_exit, (void *)LOG_FAIR, cpu, "fair/%u");
	g.tasks[1] = kthread_create_on_cpu(log_and_exit, (void *)LOG_RT, cpu, "rt99/%u");
	for (int i = 0; i < 2; i++)
		ASSERT_TRUE(t, g.tasks[i] != NULL);
	ASSERT_EQ(t, sched_setscheduler(g.tasks[1], SCHED_FIFO, 99), 0);
	run_gate(t, &g, cpu);

	ASSERT_EQ(t, order.n, 3);
	EXPECT_EQ(t, order.v[0], LOG_STOP);
	EXPECT_EQ(t, order.v[1], LOG_RT);
	EXPECT_EQ(t, order.v[2], LOG_FAIR);
}

/* ---- FIFO: never preempted by a lower priority ---- */

static volatile int lo_ran;

static int fifo_hi(void *arg)
{
	unsigned long start = READ_ONCE(this_cpu(tick_count));
	order_log_add(&order, LOG_HI_START);
	/* Busy through several ticks: FIFO has no time slice. */
	uint64_t pace = 0;
	while (READ_ONCE(this_cpu(tick_count)) - start < 10)
		hog_relax(&pace);
	order_log_add(&order, lo_ran ? -1 : LOG_HI_END);
	return 0;
}

static int fifo_lo(void *arg)
{
	lo_ran = 1;
	order_log_add(&order, LOG_LO);
	return 0;
}

static void sched_rt_fifo_not_preempted_by_lower(struct ktest *t)
{
	int cpu = test_hart();
	struct gate g = {.n = 2};
	memset(&order, 0, sizeof(order));
	lo_ran = 0;
	g.tasks[0] = kthread_create_on_cpu(fifo_lo, NULL, cpu, "fifo10/%u");
	g.tasks[1] = kthread_create_on_cpu(fifo_hi, NULL, cpu, "fifo50/%u");
	ASSERT_TRUE(t, g.tasks[0] && g.tasks[1]);
	ASSERT_EQ(t, sched_setscheduler(g.tasks[0], SCHED_FIFO, 10), 0);
	ASSERT_EQ(t, sched_setscheduler(g.tasks[1], SCHED_FIFO, 50), 0);
	run_gate(t, &g, cpu);
	ASSERT_EQ(t, order.n, 3);
	EXPECT_EQ(t, order.v[0], LOG_HI_START);
	EXPECT_EQ(t, order.v[1], LOG_HI_END);
	EXPECT_EQ(t, order.v[2], LOG_LO);
}

/* ---- nice on a queued rt task keeps its place in the rt queue ---- */

static void renice_first(struct gate *g)
{
	set_user_nice(g->tasks[0], 10);
}

static void sched_rt_nice_keeps_queue_position(struct ktest *t)
{
	int cpu = test_hart();
	struct gate g = {.n = 2, .queued = renice_first};
	memset(&order, 0, sizeof(order));
	g.tasks[0] = kthread_create_on_cpu(log_and_exit, (void *)LOG_FIRST, cpu, "fifo20a/%u");
	g.tasks[1] = kthread_create_on_cpu(log_and_exit, (void *)LOG_SECOND, cpu, "fifo20b/%u");
	ASSERT_TRUE(t, g.tasks[0] && g.tasks[1]);
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(t, sched_setscheduler(g.tasks[i], SCHED_FIFO, 20), 0);
	ASSERT_EQ(t, open_gate(&g, cpu), 0);
	/* The nice value is kept for the task's return to fair... */
	EXPECT_EQ(t, PRIO_TO_NICE(g.tasks[0]->static_prio), 10);
	EXPECT_EQ(t, g.tasks[0]->se.weight, 110); /* Linux's weight for nice 10 */
	for (int i = 0; i < 2; i++)
		kthread_reap(g.tasks[i]);
	/* ...but woken first at an equal rt priority, it still runs first. */
	ASSERT_EQ(t, order.n, 2);
	EXPECT_EQ(t, order.v[0], LOG_FIRST);
	EXPECT_EQ(t, order.v[1], LOG_SECOND);
}

/* ---- RR rotates equal priorities, FIFO does not ---- */

struct spinner {
	volatile int *stop;
	volatile unsigned long iters;
	volatile int *last; /* who ran last */
	volatile int switches;
	int id;
};

static int rr_spin(void *arg)
{
	struct spinner *s = arg;
	uint64_t pace = 0;
	while (!*s->stop) {
		if (*s->last != s->id) {
			*s->last = s->id;
			s->switches++;
		}
		s->iters++;
		hog_relax(&pace);
	}
	return 0;
}

static int rotations(struct ktest *t, int policy)
{
	int cpu = pin_other_or_skip(t, "needs two harts: the spinners only stop when told");
	static volatile int stop, last;
	struct spinner s[2] = {{&stop, 0, &last, 0, 1}, {&stop, 0, &last, 0, 2}};
	struct gate g = {.n = 2};
	stop = 0;
	last = 0;
	for (int i = 0; i < 2; i++) {
		g.tasks[i] = kthread_create_on_cpu(rr_spin, &s[i], cpu, "rr/%u");
		if (!g.tasks[i] || sched_setscheduler(g.tasks[i], policy, 20))
			return -1;
	}
	/* The gate returns once both are queued; let them run for three RR
	 * slices of the test hart's own ticks, then stop them. */
	unsigned long start = per_cpu(tick_count, cpu);
	if (open_gate(&g, cpu))
		return -1;
	unsigned long slice = (RR_TIMESLICE_MS * HZ + 999) / 1000;
	uint64_t deadline = get_cycles() + (uint64_t)timebase_hz * 60;
	while (READ_ONCE(per_cpu(tick_count, cpu)) - start < 3 * slice + 2 &&
	       get_cycles() < deadline)
		msleep(10);
	stop = 1;
	for (int i = 0; i < 2; i++)
		kthread_reap(g.tasks[i]);
	unpin_self();
	EXPECT_GT(t, s[0].iters + s[1].iters, 0);
	return s[0].switches + s[1].switches;
}

static void sched_rt_rr_rotates_equal_priority(struct ktest *t)
{
	/* 3 slices: at least first run + 2 rotations. */
	EXPECT_GE(t, rotations(t, SCHED_RR), 3);
}

static void sched_rt_fifo_equal_priority_does_not_rotate(struct ktest *t)
{
	/* The first FIFO task keeps the hart for all three slices; the
	 * second first runs after the stop flag and never enters its loop:
	 * exactly one "who ran last" change. */
	EXPECT_EQ(t, rotations(t, SCHED_FIFO), 1);
}

/* ---- fair shares ---- */

struct hog {
	volatile int *stop;
	struct task_struct *task;
};

static int hog_fn(void *arg)
{
	struct hog *h = arg;
	uint64_t pace = 0;
	while (!*h->stop)
		hog_relax(&pace);
	return 0;
}

/* Run n fair hogs with the given nice values on one hart for `ticks` of
 * its clock; returns each one's runtime in *rt. */
static int run_hogs(struct ktest *t, int n, const int *nice, unsigned long ticks, uint64_t *rt)
{
	int cpu = pin_other_or_skip(t, "needs two harts: the hogs only stop when told");
	static volatile int stop;
	struct hog h[4];
	struct gate g = {.n = n};
	stop = 0;
	for (int i = 0; i < n; i++) {
		h[i].stop = &stop;
		g.tasks[i] = h[i].task = kthread_create_on_cpu(hog_fn, &h[i], cpu, "hog/%u");
		if (!g.tasks[i])
			return -1;
		set_user_nice(g.tasks[i], nice[i]);
	}
	unsigned long start = per_cpu(tick_count, cpu);
	if (open_gate(&g, cpu))
		return -1;
	uint64_t deadline = get_cycles() + (uint64_t)timebase_hz * 120;
	while (READ_ONCE(per_cpu(tick_count, cpu)) - start < ticks && get_cycles() < deadline)
		msleep(20);
	stop = 1;
	for (int i = 0; i < n; i++) {
		kthread_wait_exit(h[i].task);
		rt[i] = h[i].task->sum_exec_runtime;
		kthread_reap(h[i].task);
	}
	unpin_self();
	return 0;
}

/*
 * A host that runs many vCPUs on two cores can stall the test hart for
 * tens of milliseconds inside one task's stint; that time is charged to
 * it (it did hold the hart) and repaid to the others only over the next
 * slices. So each share test takes up to three samples and passes when
 * one is within bounds: an unfair scheduler fails all three.
 */
#define SHARE_TRIES 3

static void sched_fair_equal_nice_equal_share(struct ktest *t)
{
	const int nice[3] = {0, 0, 0};
	for (int try = 1; try <= SHARE_TRIES; try++) {
		uint64_t rt[3], lo = ~0ULL, hi = 0, sum = 0;
		ASSERT_EQ(t, run_hogs(t, 3, nice, 150, rt), 0);
		for (int i = 0; i < 3; i++) {
			lo = min(lo, rt[i]);
			hi = max(hi, rt[i]);
			sum += rt[i];
		}
		ktest_log(t, "try %d: runtimes %lu %lu %lu us", try, ticks_to_us(rt[0]),
			  ticks_to_us(rt[1]), ticks_to_us(rt[2]));
		/* Within 10% of each other: (max - min) <= 10% of the mean. */
		if ((hi - lo) * 3 * 10 <= sum || try == SHARE_TRIES) {
			EXPECT_LE(t, (hi - lo) * 3 * 10, sum);
			return;
		}
	}
}

static void sched_fair_nice_10_gets_a_tenth(struct ktest *t)
{
	const int nice[2] = {0, 10};
	for (int try = 1; try <= SHARE_TRIES; try++) {
		uint64_t rt[2];
		ASSERT_EQ(t, run_hogs(t, 2, nice, 200, rt), 0);
		ASSERT_GT(t, rt[1], 0);
		unsigned long ratio10 = (unsigned long)(rt[0] * 10 / rt[1]); /* ratio x10 */
		ktest_log(t, "try %d: nice 0 / nice 10 runtime ratio %lu.%lu (Linux weights: 9.3)",
			  try, ratio10 / 10, ratio10 % 10);
		bool ok = ratio10 >= 70 && ratio10 <= 130; /* about 10x, +-30% */
		if (ok || try == SHARE_TRIES) {
			EXPECT_GE(t, ratio10, 70);
			EXPECT_LE(t, ratio10, 130);
			return;
		}
	}
}

/* ---- a remote wakeup preempts a lower class at once ---- */

static volatile int woke;

static int rt_waker_target(void *arg)
{
	woke = 1;
	return 0;
}

static void sched_remote_wakeup_preempts_fair_hog(struct ktest *t)
{
	int cpu = pin_other_or_skip(t, "needs two harts");
	static volatile int stop;
	struct hog h = {.stop = &stop};
	stop = 0;
	woke = 0;
	struct task_struct *hog = kthread_start_on_cpu(hog_fn, &h, cpu, "hog/%u");
	ASSERT_TRUE(t, hog != NULL);
	msleep(20); /* the hog is alone on its hart: no tick will preempt it */
	struct task_struct *rt = kthread_create_on_cpu(rt_waker_target, NULL, cpu, "rtw/%u");
	ASSERT_TRUE(t, rt != NULL);
	sched_setscheduler(rt, SCHED_FIFO, 1);
	get_task_struct(rt);
	wake_up_process(rt); /* resched_curr: flag + RESCHEDULE IPI if remote */
	bool ran = wait_flag(&woke, 30);
	stop = 1;
	kthread_reap(rt);
	kthread_reap(hog);
	unpin_self();
	EXPECT_TRUE(t, ran);
}

KTEST_SUITE(sched_class, KTEST_CASE(sched_class_order_stop_rt_fair),
	    KTEST_CASE(sched_rt_fifo_not_preempted_by_lower),
	    KTEST_CASE(sched_rt_nice_keeps_queue_position),
	    KTEST_CASE(sched_rt_rr_rotates_equal_priority),
	    KTEST_CASE(sched_rt_fifo_equal_priority_does_not_rotate),
	    KTEST_CASE(sched_fair_equal_nice_equal_share),
	    KTEST_CASE(sched_fair_nice_10_gets_a_tenth),
	    KTEST_CASE(sched_remote_wakeup_preempts_fair_hog));
