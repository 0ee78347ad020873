/*
 * sched_wake_test.c - the sched_wake suite: a wake-up of a task whose hart
 * is idle reaches that hart by a RESCHEDULE IPI, every time.
 *
 * With tickless idle nothing else wakes an idle hart: a lost IPI leaves
 * the wakee queued on a hart halted in wfi, and the case fails on its
 * timeout rather than being rescued by the next tick. The IPI count on
 * the target proves each wake took one.
 */
#include "ipi.h"
#include "ktest.h"
#include "kthread.h"
#include "ktime.h"
#include "sched_helpers.h"
#include "smp.h"
#include "tick.h"
#include "wait.h"

struct wakee {
	struct completion go, back;
	volatile int quit;
	unsigned long woken;
};

static struct wakee wakees[NR_CPUS];

static int wakee_fn(void *arg)
{
	struct wakee *w = arg;
	for (;;) {
		wait_for_completion(&w->go);
		if (READ_ONCE(w->quit))
			break;
		w->woken++;
		complete(&w->back);
	}
	return 0;
}

static void sched_wake_reaches_idle_harts_by_ipi(struct ktest *t)
{
	static struct task_struct *task[NR_CPUS];
	int self = pin_other_or_skip(t, "needs two harts: a waker and an idle one");
	self = smp_processor_id(); /* pinned: stays */
	int n = 0, cpu, rounds = 40 * (num_online_cpus() - 1);
	int targets[NR_CPUS] = {0};
	for_each_online_cpu(cpu) {
		if (cpu == self)
			continue;
		struct wakee *w = &wakees[cpu];
		init_completion(&w->go);
		init_completion(&w->back);
		w->quit = 0;
		w->woken = 0;
		task[cpu] = kthread_create_on_cpu(wakee_fn, w, cpu, "wakee/%u");
		ASSERT_TRUE(t, task[cpu] != NULL);
		get_task_struct(task[cpu]);
		wake_up_process(task[cpu]);
		targets[n++] = cpu;
	}
	ASSERT_TRUE(t, n > 0);
	int lost = 0, no_ipi = 0, excused = 0, not_idle = 0;
	for (int r = 0; r < rounds && !lost; r++) {
		int target = targets[ktest_rand(&t->rng) % (unsigned)n];
		struct wakee *w = &wakees[target];
		/* The wakee asleep, its hart idle: only an IPI can wake it. */
		/* (idle->on_cpu: the switch to the idle task is done.) */
		if (!wait_until(READ_ONCE(cpu_idle_task(target)->on_cpu) &&
					task_asleep(task[target]),
				5)) {
			not_idle++;
			continue;
		}
		unsigned long ipis = ipi_count_received(target, IPI_RESCHEDULE);
		struct rq_stats before, after;
		sched_rq_stats(target, &before);
		complete(&w->go);
		/* Generous for an oversubscribed host; a lost IPI never ends. */
		if (!wait_for_completion_timeout(&w->back, msecs_to_jiffies(10000))) {
			ktest_log(t, "round %d: the wakee on idle cpu%d never ran (lost wake-up)",
				  r, cpu);
			lost++;
			break;
		}
		/* The IPI may still be in flight if the hart woke for another
		 * reason first (its timer, a kick) and found need_resched set;
		 * it must arrive all the same. One exception: the hart had
		 * another task to switch to already (a pull by its balancer,
		 * a timer's wake-up), so need_resched was set before our wake
		 * and the wake rightly sent nothing (Linux's resched_curr()
		 * does the same). Then the hart ran more than the wakee:
		 * idle -> wakee -> idle is two switches. */
		if (!wait_until(ipi_count_received(target, IPI_RESCHEDULE) != ipis, 1)) {
			sched_rq_stats(target, &after);
			if (after.nr_switches - before.nr_switches > 2)
				excused++;
			else
				no_ipi++;
		}
	}
	ktest_log(t,
		  "%d rounds over %d idle harts (seeded); %d harts were busy at a look, %d woken "
		  "after another task",
		  rounds, n, not_idle, excused);
	for (int i = 0; i < n; i++) {
		struct wakee *w = &wakees[targets[i]];
		WRITE_ONCE(w->quit, 1);
		complete(&w->go);
		kthread_reap(task[targets[i]]);
	}
	unpin_self();
	EXPECT_EQ(t, lost, 0);
	/* Every wake of a sleeper on an idle hart took a RESCHEDULE IPI. */
	EXPECT_EQ(t, no_ipi, 0);
	EXPECT_LE(t, excused, rounds / 4);
	/* Idle harts are the point: most looks must find one. */
	EXPECT_LE(t, not_idle, rounds / 4);
}

KTEST_SUITE(sched_wake, KTEST_CASE(sched_wake_reaches_idle_harts_by_ipi));
