/*
 * preempt_torture_test.c - the state a task carries from hart to hart,
 * under preemption and migration.
 *
 * Workers on every hart loop over operations that read or write what a
 * task must carry with it when it moves: its preempt count (bare, and
 * through spin_lock()), `current`, the hart number while preemption is
 * off, a mutex it owns, a sleep on a completion. Meanwhile storm threads
 * move the workers between harts (affinity changes of running tasks,
 * which the stoppers carry out) and the tick preempts them (several fair
 * workers share each hart). After every operation a worker checks that
 * its preempt count is back to 0, that `current` is itself and that
 * interrupts are on; inside, that the count and the owners are what it
 * set. A break is counted per operation and fails the case, and the
 * first one is described.
 *
 * Under QEMU's default TCG an interrupt lands only between translation
 * blocks, so a read-modify-write of per-hart state is never split; the
 * make test row with -singlestep lets interrupts land between any two
 * instructions, which is where per-hart preempt counts and `current`
 * reached through the hart (rather than the task) go wrong.
 */
#include <stdio.h>
#include <string.h>
#include "mm.h"
#include "mutex.h"
#include "preempt.h"
#include "sched_helpers.h"
#include "stop_machine.h"
#include "wait.h"

enum torture_op { OP_PREEMPT, OP_SPIN, OP_SPIN_IRQ, OP_MUTEX, OP_SLEEP, OP_CURRENT, NR_OPS };
static const char *const op_names[NR_OPS] = {"preempt_disable", "spin_lock", "spin_lock_irqsave",
					     "mutex_lock",	"sleep",     "current"};

#define TORTURE_LOCKS 4
static struct {
	spinlock_t lock[TORTURE_LOCKS];
	struct task_struct *holder[TORTURE_LOCKS]; /* set by whoever holds lock[i] */
	/* As many mutexes as spinlocks: contended now and then, but not a
	 * convoy that keeps every worker asleep (then the storm would rarely
	 * find one running). */
	struct mutex mutex[TORTURE_LOCKS];
	unsigned long mutex_count[TORTURE_LOCKS];
	struct completion never; /* never completed: OP_SLEEP times out on it */
	volatile int stop;
	int broken[NR_OPS];
	int ops[NR_OPS];
	char first[160]; /* the first break, described */
	int first_taken;
} tt;

struct tworker {
	struct task_struct *task;
	uint64_t rng;
	unsigned long rounds;
};

static void torture_break(enum torture_op op, const char *what, long got, long want)
{
	__atomic_fetch_add(&tt.broken[op], 1, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&tt.first_taken, 1, __ATOMIC_ACQ_REL) == 0)
		snprintf(tt.first, sizeof(tt.first), "%s: %s was %ld (0x%lx), expected %ld",
			 op_names[op], what, got, (unsigned long)got, want);
}

#define TCHECK(op, what, got, want)                                                                \
	do {                                                                                       \
		long __g = (long)(got), __w = (long)(want);                                        \
		if (__g != __w)                                                                    \
			torture_break(op, what, __g, __w);                                         \
	} while (0)

/* A short busy stretch: room for a tick (or, with -singlestep, any
 * interrupt) to land while the operation is in progress. */
static void dwell(uint64_t *rng)
{
	int n = (int)(ktest_rand(rng) % 64);
	for (volatile int i = 0; i < n; i++)
		;
}

static void op_preempt(struct tworker *w)
{
	preempt_disable();
	TCHECK(OP_PREEMPT, "preempt_count() inside", preempt_count(), 1);
	int cpu = smp_processor_id();
	dwell(&w->rng);
	TCHECK(OP_PREEMPT, "smp_processor_id() after a dwell", smp_processor_id(), cpu);
	TCHECK(OP_PREEMPT, "task_cpu(current)", task_cpu(current), cpu);
	preempt_enable();
}

static void op_spin(struct tworker *w, bool irqsave)
{
	enum torture_op op = irqsave ? OP_SPIN_IRQ : OP_SPIN;
	int k = (int)(ktest_rand(&w->rng) % TORTURE_LOCKS);
	unsigned long flags = 0;
	if (irqsave)
		flags = spin_lock_irqsave(&tt.lock[k]);
	else
		spin_lock(&tt.lock[k]);
	TCHECK(op, "preempt_count() under the lock", preempt_count(), 1);
	TCHECK(op, "the lock's holder before us", (uintptr_t)tt.holder[k], 0);
	tt.holder[k] = current;
	dwell(&w->rng);
	TCHECK(op, "the lock's holder (not us)", (uintptr_t)tt.holder[k], (uintptr_t)w->task);
	tt.holder[k] = NULL;
	if (irqsave)
		spin_unlock_irqrestore(&tt.lock[k], flags);
	else
		spin_unlock(&tt.lock[k]);
}

static void op_mutex(struct tworker *w)
{
	int k = (int)(ktest_rand(&w->rng) % TORTURE_LOCKS);
	struct mutex *m = &tt.mutex[k];
	mutex_lock(m);
	TCHECK(OP_MUTEX, "the mutex's owner (not us)", (uintptr_t)READ_ONCE(m->owner),
	       (uintptr_t)w->task);
	unsigned long c = tt.mutex_count[k];
	dwell(&w->rng);
	tt.mutex_count[k] = c + 1;
	if (ktest_rand(&w->rng) % 8 == 0)
		yield(); /* sleep-free switch with the mutex held */
	TCHECK(OP_MUTEX, "the mutex's owner after a dwell", (uintptr_t)READ_ONCE(m->owner),
	       (uintptr_t)w->task);
	mutex_unlock(m);
}

static void op_sleep(struct tworker *w)
{
	/* Sleeps on a wait queue until a timer wakes it: the waiter and the
	 * sleeper recorded must both be this task, wherever it runs next. */
	long left = wait_for_completion_timeout(&tt.never, 1);
	TCHECK(OP_SLEEP, "wait_for_completion_timeout()", left, 0);
	TCHECK(OP_SLEEP, "current after the sleep", (uintptr_t)current, (uintptr_t)w->task);
}

/* Back-to-back reads of `current` and preempt count updates: most of
 * the time spent here is inside those short sequences, where a move
 * from hart to hart must not change what they read or write. */
static void op_current(struct tworker *w)
{
	for (int i = 0; i < 32; i++) {
		TCHECK(OP_CURRENT, "current", (uintptr_t)current, (uintptr_t)w->task);
		preempt_disable();
		preempt_enable();
	}
}

/*
 * A sleep lasts a whole tick while the other operations take
 * microseconds: drawn as often as they are, sleeps would keep the workers
 * asleep most of the time, and the storm would rarely find one running.
 */
static const unsigned char op_weight[NR_OPS] = {
	[OP_PREEMPT] = 8, [OP_SPIN] = 8,  [OP_SPIN_IRQ] = 8,
	[OP_MUTEX] = 4,	  [OP_SLEEP] = 1, [OP_CURRENT] = 8,
};

static enum torture_op pick_op(uint64_t *rng)
{
	unsigned total = 0;
	for (int op = 0; op < NR_OPS; op++)
		total += op_weight[op];
	unsigned r = (unsigned)(ktest_rand(rng) % total);
	int op = 0;
	while (r >= op_weight[op])
		r -= op_weight[op++];
	return (enum torture_op)op;
}

static int torture_worker(void *arg)
{
	struct tworker *w = arg;
	while (!READ_ONCE(tt.stop)) {
		enum torture_op op = pick_op(&w->rng);
		switch (op) {
		case OP_PREEMPT:
			op_preempt(w);
			break;
		case OP_SPIN:
		case OP_SPIN_IRQ:
			op_spin(w, op == OP_SPIN_IRQ);
			break;
		case OP_MUTEX:
			op_mutex(w);
			break;
		case OP_SLEEP:
			op_sleep(w);
			break;
		default:
			op_current(w);
			break;
		}
		__atomic_fetch_add(&tt.ops[op], 1, __ATOMIC_RELAXED);
		/* The invariants between operations. */
		TCHECK(op, "preempt_count() after", preempt_count(), 0);
		TCHECK(op, "irqs_disabled() after", irqs_disabled(), 0);
		TCHECK(op, "current after", (uintptr_t)current, (uintptr_t)w->task);
		w->rounds++;
	}
	return 0;
}

/*
 * Storm threads (FIFO, so the workers cannot starve them) on every hart
 * pick a worker that is running on another hart and give it a random mask
 * without that hart: its stopper must preempt it wherever it is, in the
 * middle of any of the sequences above, and move it. Each change waits
 * for the move, so the storm thread sleeps meanwhile and the workers of
 * its own hart run too.
 */
static struct tworker *tworkers;
static int nworkers, storm_changes;

static struct tworker *running_elsewhere(uint64_t *rng)
{
	int start = (int)(ktest_rand(rng) % (unsigned)nworkers);
	for (int i = 0; i < nworkers; i++) {
		struct tworker *w = &tworkers[(start + i) % nworkers];
		if (READ_ONCE(w->task->on_cpu) && task_cpu(w->task) != raw_smp_processor_id())
			return w;
	}
	return NULL;
}

static void torture_storm(void *arg)
{
	uint64_t rng =
		*(uint64_t *)arg ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(raw_smp_processor_id() + 1));
	/* 3 s, and at least 40 moves (a slow host, -icount) within 20 s. */
	uint64_t start = get_cycles(), hz = timebase_hz;
	sched_setscheduler(current, SCHED_FIFO, 10);
	while (get_cycles() - start < 3 * hz ||
	       (READ_ONCE(storm_changes) < 40 && get_cycles() - start < 20 * hz)) {
		/* Look for a while, not once: a storm thread wakes on a tick,
		 * which is also when workers asleep in OP_SLEEP wake up, so
		 * right then they are queued but not running yet. */
		struct tworker *w = NULL;
		for (uint64_t look = get_cycles(); !w && get_cycles() - look < hz / 500;)
			if (!(w = running_elsewhere(&rng)))
				cpu_relax();
		if (!w) {
			/* Nobody runs elsewhere: the other storm threads are
			 * probably running too. A random sleep keeps them from
			 * waking on the same tick, every tick, and finding
			 * each other again. */
			msleep(1 + (unsigned)(ktest_rand(&rng) % 8));
			continue;
		}
		int away = task_cpu(w->task), cpu;
		cpumask_t mask;
		cpumask_clear(&mask);
		for_each_online_cpu(cpu)
			if (cpu != away && ktest_rand(&rng) % 2)
				cpumask_set_cpu(cpu, &mask);
		if (cpumask_empty(&mask))
			cpumask_set_cpu(away == cpumask_first(cpu_online_mask)
						? cpumask_next(away, cpu_online_mask)
						: cpumask_first(cpu_online_mask),
					&mask);
		if (set_cpus_allowed_ptr(w->task, &mask) == 0)
			__atomic_fetch_add(&storm_changes, 1, __ATOMIC_RELAXED);
	}
}

static void preempt_torture_migrating_workers(struct ktest *t)
{
	int n = num_online_cpus();
	if (n < 2)
		ktest_skip(t, "needs two harts to migrate between");
	unsigned long pages = nr_free_pages();
	memset(&tt, 0, sizeof(tt));
	for (int i = 0; i < TORTURE_LOCKS; i++) {
		spin_lock_init(&tt.lock[i]);
		mutex_init(&tt.mutex[i]);
	}
	init_completion(&tt.never);
	nworkers = min(2 * n, 16);
	storm_changes = 0;
	tworkers = kzalloc(sizeof(*tworkers) * (size_t)nworkers);
	ASSERT_TRUE(t, tworkers != NULL);
	int policy = current->policy, prio = current->rt_priority;
	ASSERT_EQ(t, sched_setscheduler(current, SCHED_FIFO, 20), 0);
	for (int i = 0; i < nworkers; i++) {
		struct tworker *w = &tworkers[i];
		w->rng = ktest_rand(&t->rng);
		w->task = kthread_create(torture_worker, w, "torture%d", i);
		ASSERT_TRUE(t, w->task != NULL);
		get_task_struct(w->task);
		wake_up_process(w->task);
	}
	uint64_t seed = ktest_rand(&t->rng);
	EXPECT_EQ(t, run_on_cpus(cpu_online_mask, torture_storm, &seed), 0);
	WRITE_ONCE(tt.stop, 1);
	unsigned long rounds = 0;
	for (int i = 0; i < nworkers; i++) {
		kthread_reap(tworkers[i].task);
		rounds += tworkers[i].rounds;
	}
	kfree(tworkers);
	sched_setscheduler(current, policy, policy == SCHED_NORMAL ? 0 : prio);

	ktest_log(t, "%d workers on %d harts: %lu operations, %d affinity changes", nworkers, n,
		  rounds, storm_changes);
	int broken = 0;
	for (int op = 0; op < NR_OPS; op++) {
		if (tt.broken[op])
			ktest_log(t, "%s: %d of %d broke", op_names[op], tt.broken[op], tt.ops[op]);
		broken += tt.broken[op];
	}
	if (broken)
		ktest_log(t, "first: %s", tt.first);
	EXPECT_EQ(t, broken, 0);
	/* It did run: every operation, and the storm moved workers. */
	for (int op = 0; op < NR_OPS; op++)
		EXPECT_GT(t, tt.ops[op], 0);
	EXPECT_GE(t, storm_changes, 10);
	unsigned long mutex_total = 0;
	for (int i = 0; i < TORTURE_LOCKS; i++)
		mutex_total += tt.mutex_count[i];
	EXPECT_EQ(t, mutex_total, (unsigned long)tt.ops[OP_MUTEX]);
	EXPECT_EQ(t, nr_free_pages(), pages);
}

KTEST_SUITE(preempt_torture, KTEST_CASE(preempt_torture_migrating_workers));
