/*
 * sched_task_test.c - thread lifecycle (create/run/exit without leaks,
 * kthread_stop, park/unpark on every hart) and placement (affinity of
 * sleeping and queued tasks, bad masks, load balancing).
 */
#include <string.h>
#include "mm.h"
#include "preempt.h"
#include "sched_helpers.h"
#include "wait.h"

/* ---- lifecycle ---- */

static int ran_on[NR_CPUS];

static int note_cpu(void *arg)
{
	/* Where it ran just now (raw: it may move right after, and this
	 * only counts where threads ran). */
	__atomic_fetch_add(&ran_on[raw_smp_processor_id()], 1, __ATOMIC_RELAXED);
	return (int)(uintptr_t)arg;
}

#define LIFECYCLES 1200

static void sched_thread_lifecycle_leaks_nothing(struct ktest *t)
{
	/* Warm-up so that lazily created state (timer bases, slabs for
	 * task structs) exists before the baseline is taken. */
	struct task_struct *w = kthread_create(note_cpu, NULL, "warm");
	ASSERT_TRUE(t, w != NULL);
	get_task_struct(w);
	wake_up_process(w);
	kthread_reap(w);

	unsigned long pages = nr_free_pages();
	size_t bytes = kmalloc_bytes_in_use();
	memset(ran_on, 0, sizeof(ran_on));
	int batch = 16, done = 0;
	struct task_struct *p[16];
	while (done < LIFECYCLES) {
		for (int i = 0; i < batch; i++) {
			p[i] = kthread_create(note_cpu, (void *)(uintptr_t)i, "life%d", i);
			ASSERT_TRUE(t, p[i] != NULL);
			get_task_struct(p[i]);
			wake_up_process(p[i]);
		}
		for (int i = 0; i < batch; i++) {
			EXPECT_EQ(t, kthread_wait_exit(p[i]), i);
			kthread_reap(p[i]);
		}
		done += batch;
	}
	int total = 0, cpu;
	for_each_online_cpu(cpu)
		total += ran_on[cpu];
	EXPECT_EQ(t, total, LIFECYCLES);
	EXPECT_EQ(t, nr_free_pages(), pages);
	EXPECT_EQ(t, kmalloc_bytes_in_use(), bytes);
}

static int wait_for_stop(void *arg)
{
	while (!kthread_should_stop())
		msleep(1);
	return 42;
}

static void sched_kthread_stop_returns_result(struct ktest *t)
{
	struct task_struct *p = kthread_create(wait_for_stop, NULL, "stopme");
	ASSERT_TRUE(t, p != NULL);
	wake_up_process(p);
	msleep(5);
	EXPECT_EQ(t, kthread_stop(p), 42);
	/* Stopped before it ever ran: fn is not called at all. */
	memset(ran_on, 0, sizeof(ran_on));
	p = kthread_create(note_cpu, NULL, "never");
	ASSERT_TRUE(t, p != NULL);
	EXPECT_EQ(t, kthread_stop(p), -EINTR);
	int cpu, total = 0;
	for_each_online_cpu(cpu)
		total += ran_on[cpu];
	EXPECT_EQ(t, total, 0);
}

struct parker {
	int cpu;
	volatile int loops;
	volatile int wrong_cpu;
};

static int parker_fn(void *arg)
{
	struct parker *pk = arg;
	while (!kthread_should_stop()) {
		if (kthread_should_park())
			kthread_parkme();
		if (smp_processor_id() != pk->cpu)
			pk->wrong_cpu++;
		pk->loops++;
		msleep(1);
	}
	return 0;
}

static void sched_kthread_park_unpark_every_hart(struct ktest *t)
{
	static struct parker pk[NR_CPUS];
	static struct task_struct *th[NR_CPUS];
	int cpu;
	for_each_online_cpu(cpu) {
		pk[cpu] = (struct parker){.cpu = cpu};
		th[cpu] = kthread_run_on_cpu(parker_fn, &pk[cpu], cpu, "parker/%u");
		ASSERT_TRUE(t, th[cpu] != NULL);
	}
	for (int round = 0; round < 3; round++) {
		for_each_online_cpu(cpu) {
			EXPECT_EQ(t, kthread_park(th[cpu]), 0);
			EXPECT_EQ(t, READ_ONCE(th[cpu]->state), TASK_PARKED);
		}
		for_each_online_cpu(cpu) {
			int before = pk[cpu].loops;
			msleep(3);
			EXPECT_EQ(t, pk[cpu].loops, before); /* parked: not running */
			kthread_unpark(th[cpu]);
		}
		msleep(5);
	}
	for_each_online_cpu(cpu) {
		EXPECT_EQ(t, kthread_stop(th[cpu]), 0);
		EXPECT_GT(t, pk[cpu].loops, 0);
		EXPECT_EQ(t, pk[cpu].wrong_cpu, 0);
	}
}

/* ---- two parks of one thread ---- */

static int napper_fn(void *arg)
{
	while (!kthread_should_stop()) {
		if (kthread_should_park())
			kthread_parkme();
		msleep(50); /* a park request waits for the nap to end */
	}
	return 0;
}

struct park_call {
	struct task_struct *target;
	volatile int rc, done;
};

static int park_caller(void *arg)
{
	struct park_call *pc = arg;
	pc->rc = kthread_park(pc->target);
	smp_store_release(&pc->done, 1);
	return 0;
}

static void sched_kthread_double_park_refused(struct ktest *t)
{
	/* Two parks of a napping thread, the second while the first waits
	 * for the nap to end: one parks it, the other is refused with a
	 * warning. Two waiters on the one "parked" completion would leave
	 * one of them waiting forever. */
	ktest_expect_warn(t, "already parked or being parked", 1);
	struct task_struct *nap = kthread_run_on_cpu(napper_fn, NULL, test_hart(), "napper/%u");
	ASSERT_TRUE(t, nap != NULL);
	msleep(5); /* it naps */
	static struct park_call pc[2];
	struct task_struct *c[2];
	for (int i = 0; i < 2; i++) {
		pc[i] = (struct park_call){.target = nap, .rc = 1};
		c[i] = kthread_create(park_caller, &pc[i], "park%d", i);
		ASSERT_TRUE(t, c[i] != NULL);
		get_task_struct(c[i]);
		wake_up_process(c[i]);
		if (i == 0)
			msleep(5); /* the first request is in, the nap goes on */
	}
	bool both = wait_flag(&pc[0].done, 10) && wait_flag(&pc[1].done, 10);
	ktest_log(t, "park results %d and %d", pc[0].rc, pc[1].rc);
	ASSERT_TRUE(t, both); /* on failure a caller is stuck: leave it */
	kthread_reap(c[0]);
	kthread_reap(c[1]);
	EXPECT_EQ(t, pc[0].rc + pc[1].rc, -EBUSY); /* one 0, one -EBUSY */
	EXPECT_EQ(t, READ_ONCE(nap->state), TASK_PARKED);
	kthread_unpark(nap);
	EXPECT_EQ(t, kthread_stop(nap), 0);
}

/* ---- placement ---- */

struct sleeper {
	struct completion go;
	volatile int cpu_seen;
};

static int report_after_wake(void *arg)
{
	struct sleeper *s = arg;
	wait_for_completion(&s->go);
	s->cpu_seen = raw_smp_processor_id(); /* where it woke (it may move on: raw) */
	return 0;
}

static void sched_affinity_of_sleeping_task(struct ktest *t)
{
	for (int round = 0; round < 20; round++) {
		cpumask_t mask;
		cpumask_clear(&mask);
		int cpu;
		for_each_online_cpu(cpu)
			if (ktest_rand(&t->rng) & 1)
				cpumask_set_cpu(cpu, &mask);
		if (cpumask_empty(&mask))
			cpumask_set_cpu(cpumask_first(cpu_online_mask), &mask);
		struct sleeper s = {.cpu_seen = -1};
		init_completion(&s.go);
		struct task_struct *p = kthread_create(report_after_wake, &s, "sleepy");
		ASSERT_TRUE(t, p != NULL);
		get_task_struct(p);
		wake_up_process(p);
		/* The case is about a sleeping task: it must be asleep in
		 * wait_for_completion() before, and still after, the change. */
		EXPECT_TRUE(t, wait_asleep(p, 10));
		EXPECT_EQ(t, set_cpus_allowed_ptr(p, &mask), 0);
		EXPECT_TRUE(t, task_asleep(p));
		complete(&s.go);
		kthread_reap(p);
		EXPECT_TRUE(t, cpumask_test_cpu(s.cpu_seen, &mask));
	}
}

struct queued_move {
	struct task_struct *victim;
	int dest;
	int rc;
};

/* On the source hart with preemption off: the victim is queued behind
 * us (not running), and we move it. */
static int move_queued(void *arg)
{
	struct queued_move *m = arg;
	cpumask_t dest;
	cpumask_clear(&dest);
	cpumask_set_cpu(m->dest, &dest);
	preempt_disable();
	wake_up_process(m->victim);
	m->rc = set_cpus_allowed_ptr(m->victim, &dest);
	preempt_enable();
	return 0;
}

static void sched_affinity_of_queued_task(struct ktest *t)
{
	int src = test_hart(), dest = cpumask_first(cpu_online_mask);
	if (src == dest)
		ktest_skip(t, "needs two harts");
	memset(ran_on, 0, sizeof(ran_on));
	struct task_struct *victim = kthread_create(note_cpu, NULL, "victim");
	ASSERT_TRUE(t, victim != NULL);
	kthread_bind(victim, src);
	victim->kthread->bound_cpu = -1; /* bound by hand: allow the move */
	struct queued_move m = {.victim = victim, .dest = dest, .rc = 1};
	get_task_struct(victim);
	struct task_struct *mover = kthread_start_on_cpu(move_queued, &m, src, "mover/%u");
	ASSERT_TRUE(t, mover != NULL);
	kthread_reap(mover);
	kthread_reap(victim);
	EXPECT_EQ(t, m.rc, 0);
	EXPECT_EQ(t, ran_on[dest], 1);
	EXPECT_EQ(t, ran_on[src], 0);
}

static void sched_affinity_bad_masks_refused(struct ktest *t)
{
	cpumask_t empty, offline;
	cpumask_clear(&empty);
	cpumask_clear(&offline);
	cpumask_set_cpu(NR_CPUS - 1, &offline); /* never online below NR_CPUS harts */
	struct sleeper s;
	init_completion(&s.go);
	struct task_struct *p = kthread_create(report_after_wake, &s, "masks");
	ASSERT_TRUE(t, p != NULL);
	get_task_struct(p);
	wake_up_process(p);
	EXPECT_EQ(t, set_cpus_allowed_ptr(p, &empty), -EINVAL);
	if (!cpu_online(NR_CPUS - 1))
		EXPECT_EQ(t, set_cpus_allowed_ptr(p, &offline), -EINVAL);
	EXPECT_EQ(t, set_cpus_allowed_ptr(NULL, cpu_online_mask), -EINVAL);
	EXPECT_EQ(t, sched_setaffinity(-5, cpu_online_mask), -ESRCH);
	complete(&s.go);
	kthread_reap(p);

	/* A running task is moved by its hart's stopper: the call returns
	 * once it runs on an allowed hart. */
	bool two = num_online_cpus() > 1;
	if (two) {
		static volatile int halt;
		int home = test_hart(), away = cpumask_first(cpu_online_mask);
		cpumask_t there;
		cpumask_clear(&there);
		cpumask_set_cpu(away, &there);
		halt = 0;
		struct task_struct *r = kthread_create(hog_until, (void *)&halt, "runner");
		ASSERT_TRUE(t, r != NULL);
		kthread_bind(r, home);
		get_task_struct(r);
		wake_up_process(r);
		while (!READ_ONCE(r->on_cpu))
			msleep(1);
		r->kthread->bound_cpu = -1; /* bound by hand: allow the move */
		EXPECT_EQ(t, set_cpus_allowed_ptr(r, &there), 0);
		EXPECT_EQ(t, task_cpu(r), away);
		halt = 1;
		kthread_reap(r);
	}

	/* A per-cpu thread's affinity is fixed. */
	static volatile int stop;
	stop = 1;
	struct task_struct *pc = kthread_create_on_cpu(hog_until, (void *)&stop, 0, "pcpu/%u");
	ASSERT_TRUE(t, pc != NULL);
	EXPECT_EQ(t, set_cpus_allowed_ptr(pc, cpu_online_mask),
		  num_online_cpus() > 1 ? -EINVAL : 0);
	kthread_stop(pc);
	if (!two)
		ktest_skip(t, "moving a running task needs a second hart (the masks were checked)");
}

/* ---- periodic load balancing ---- */

static void sched_load_balance_spreads_spinners(struct ktest *t)
{
	int n = num_online_cpus();
	if (n < 2)
		ktest_skip(t, "needs two harts");
	int total = 4 * n, first = cpumask_first(cpu_online_mask), cpu;
	static volatile int stop;
	struct task_struct **ts = kzalloc(sizeof(*ts) * (size_t)total);
	ASSERT_TRUE(t, ts != NULL);
	stop = 0;
	/* All start on one hart (bound), then may go anywhere: only the
	 * balancer can spread them, since they never sleep. */
	for (int i = 0; i < total; i++) {
		ts[i] = kthread_create(hog_until, (void *)&stop, "spin%d", i);
		ASSERT_TRUE(t, ts[i] != NULL);
		kthread_bind(ts[i], first);
		get_task_struct(ts[i]);
		wake_up_process(ts[i]);
	}
	for (int i = 0; i < total; i++)
		EXPECT_EQ(t, set_cpus_allowed_ptr(ts[i], cpu_online_mask), 0);

	int lo = 0, hi = 0, count[NR_CPUS];
	uint64_t deadline = get_cycles() + (uint64_t)timebase_hz * 60;
	do {
		msleep(50);
		memset(count, 0, sizeof(count));
		for (int i = 0; i < total; i++)
			count[task_cpu(ts[i])]++;
		lo = total;
		hi = 0;
		for_each_online_cpu(cpu) {
			lo = min(lo, count[cpu]);
			hi = max(hi, count[cpu]);
		}
	} while (hi - lo > 1 && get_cycles() < deadline);
	stop = 1;
	for (int i = 0; i < total; i++)
		kthread_reap(ts[i]);
	kfree(ts);
	ktest_log(t, "%d spinners over %d harts: %d..%d per hart", total, n, lo, hi);
	EXPECT_LE(t, hi - lo, 1);
	EXPECT_GE(t, lo, 3);
}

KTEST_SUITE(sched_task, KTEST_CASE(sched_thread_lifecycle_leaks_nothing),
	    KTEST_CASE(sched_kthread_stop_returns_result),
	    KTEST_CASE(sched_kthread_park_unpark_every_hart),
	    KTEST_CASE(sched_kthread_double_park_refused),
	    KTEST_CASE(sched_affinity_of_sleeping_task), KTEST_CASE(sched_affinity_of_queued_task),
	    KTEST_CASE(sched_affinity_bad_masks_refused),
	    KTEST_CASE(sched_load_balance_spreads_spinners));
