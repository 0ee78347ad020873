/*
 * sched_sync_test.c - completions, wait queues, mutexes and sleeping,
 * exercised from every hart at once.
 */
#include <string.h>
#include "console.h"
#include "mutex.h"
#include "preempt.h"
#include "sched_helpers.h"
#include "wait.h"

/* ---- completions hand a token around every hart ---- */

static struct completion ring[NR_CPUS];
static int ring_next[NR_CPUS];
static int ring_seen[NR_CPUS];
#define RING_LAPS 20

static void ring_member(void *arg)
{
	int me = smp_processor_id();
	for (int lap = 0; lap < RING_LAPS; lap++) {
		if (!(me == cpumask_first(cpu_online_mask) && lap == 0))
			wait_for_completion(&ring[me]);
		ring_seen[me]++;
		complete(&ring[ring_next[me]]);
	}
}

static void sched_completion_ring_across_harts(struct ktest *t)
{
	int cpu, first = cpumask_first(cpu_online_mask);
	for_each_online_cpu(cpu) {
		init_completion(&ring[cpu]);
		ring_seen[cpu] = 0;
		int next = cpumask_next(cpu, cpu_online_mask);
		ring_next[cpu] = next < NR_CPUS ? next : first; /* the last closes the ring */
	}
	ASSERT_EQ(t, run_on_cpus(cpu_online_mask, ring_member, NULL), 0);
	/* The first hart's last complete() is left over: consume it. */
	EXPECT_TRUE(t, try_wait_for_completion(&ring[first]));
	for_each_online_cpu(cpu)
		EXPECT_EQ(t, ring_seen[cpu], RING_LAPS);
}

static void sched_completion_timeout_and_all(struct ktest *t)
{
	struct completion c;
	init_completion(&c);
	unsigned long j = jiffies;
	EXPECT_EQ(t, wait_for_completion_timeout(&c, 3), 0); /* times out */
	EXPECT_GE(t, jiffies - j, 2);
	complete_all(&c);
	wait_for_completion(&c); /* complete_all lets every waiter through */
	wait_for_completion(&c);
	EXPECT_TRUE(t, completion_done(&c));
}

/* ---- wait queues: wake_up_all wakes every waiter, on every hart ---- */

static DECLARE_WAIT_QUEUE_HEAD(wq);
static volatile int wq_go;
static struct task_struct *wq_task[NR_CPUS]; /* each waiter, once it is about to wait */
static int wq_slept[NR_CPUS];		     /* it switched out inside wait_event() */
static int wq_woken, wq_all_asleep;

static void wq_waiter(void *arg)
{
	int me = smp_processor_id(); /* a run_on_cpus() thread: bound */
	if (me == (int)(uintptr_t)arg) {
		/* The waker: wait until every other waiter is off its hart in
		 * TASK_UNINTERRUPTIBLE (or 10 s pass), then wake them all. */
		uint64_t deadline = get_cycles() + (uint64_t)timebase_hz * 10;
		int cpu;
		bool all = false;
		while (!all && get_cycles() < deadline) {
			all = true;
			for_each_online_cpu(cpu)
				if (cpu != me &&
				    (!READ_ONCE(wq_task[cpu]) || !task_asleep(wq_task[cpu])))
					all = false;
			if (!all)
				msleep(1);
		}
		wq_all_asleep = all;
		wq_go = 1;
		wake_up_all(&wq);
		return;
	}
	unsigned long switches = current->nvcsw;
	WRITE_ONCE(wq_task[me], current);
	wait_event(wq, wq_go);
	wq_slept[me] = current->nvcsw != switches;
	__atomic_fetch_add(&wq_woken, 1, __ATOMIC_SEQ_CST);
}

static void sched_waitqueue_wakes_every_hart(struct ktest *t)
{
	if (num_online_cpus() < 2)
		ktest_skip(t, "needs two harts");
	int waker = (int)cpumask_first(cpu_online_mask), cpu, slept = 0;
	wq_go = 0;
	wq_woken = 0;
	memset(wq_task, 0, sizeof(wq_task));
	memset(wq_slept, 0, sizeof(wq_slept));
	ASSERT_EQ(t, run_on_cpus(cpu_online_mask, wq_waiter, (void *)(uintptr_t)waker), 0);
	for_each_online_cpu(cpu)
		slept += wq_slept[cpu];
	/* Every waiter was asleep when the waker woke them, and each one
	 * came back out of the sleep. */
	EXPECT_TRUE(t, wq_all_asleep);
	EXPECT_EQ(t, slept, num_online_cpus() - 1);
	EXPECT_EQ(t, wq_woken, num_online_cpus() - 1);
}

/* ---- a mutex-protected counter from every hart ---- */

static DEFINE_MUTEX(counter_lock);
static unsigned long counter;
static volatile int in_section;
static int overlap;
#define MUTEX_ROUNDS 300

static void mutex_hammer(void *arg)
{
	uint64_t rng = (uint64_t)smp_processor_id() * 7919 + *(uint64_t *)arg;
	for (int i = 0; i < MUTEX_ROUNDS; i++) {
		mutex_lock(&counter_lock);
		if (__atomic_fetch_add(&in_section, 1, __ATOMIC_SEQ_CST) != 0)
			overlap++;
		unsigned long c = counter;
		if (ktest_rand(&rng) % 16 == 0)
			msleep(1); /* sleep while holding it: other harts must wait */
		counter = c + 1;
		__atomic_fetch_sub(&in_section, 1, __ATOMIC_SEQ_CST);
		mutex_unlock(&counter_lock);
	}
}

static void sched_mutex_counter_exact_from_every_hart(struct ktest *t)
{
	uint64_t seed = ktest_rand(&t->rng);
	counter = 0;
	overlap = 0;
	ASSERT_EQ(t, run_on_cpus(cpu_online_mask, mutex_hammer, &seed), 0);
	EXPECT_EQ(t, counter, (unsigned long)MUTEX_ROUNDS * num_online_cpus());
	EXPECT_EQ(t, overlap, 0);
	EXPECT_FALSE(t, mutex_is_locked(&counter_lock));
	EXPECT_TRUE(t, mutex_trylock(&counter_lock));
	EXPECT_FALSE(t, mutex_trylock(&counter_lock));
	mutex_unlock(&counter_lock);
}

static void sched_msleep_sleeps_at_least(struct ktest *t)
{
	unsigned long j = jiffies;
	msleep(40); /* 10 ticks at 250 Hz */
	EXPECT_GE(t, jiffies - j, msecs_to_jiffies(40));
}

/* ---- might_sleep() catches sleeping from atomic context ---- */

static int warned;

static void catch_warn(const char *msg, size_t len, void *arg)
{
	if (strstr(msg, "sleeping function called from invalid context"))
		warned++;
}

static void sched_might_sleep_warns_in_atomic(struct ktest *t)
{
	warned = 0;
	ktest_expect_warn(t, "sleeping function called from invalid context", 1);
	printk_set_hook(catch_warn, NULL);
	preempt_disable();
	might_sleep();
	preempt_enable();
	might_sleep(); /* fine here */
	printk_set_hook(NULL, NULL);
	EXPECT_EQ(t, warned, 1);
}

KTEST_SUITE(sched_sync, KTEST_CASE(sched_completion_ring_across_harts),
	    KTEST_CASE(sched_completion_timeout_and_all),
	    KTEST_CASE(sched_waitqueue_wakes_every_hart),
	    KTEST_CASE(sched_mutex_counter_exact_from_every_hart),
	    KTEST_CASE(sched_msleep_sleeps_at_least),
	    KTEST_CASE(sched_might_sleep_warns_in_atomic));
