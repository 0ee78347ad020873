/*
 * timer_test.c - every busy hart's tick advances, an idle hart stops its
 * tick yet its timers fire, and ktime_get_ns() never goes backwards on
 * any hart.
 */
#include "cpu_wait.h"
#include "ktest.h"
#include "kthread.h"
#include "ktime.h"
#include "riscv.h"
#include "smp.h"
#include "stop_machine.h"
#include "timer.h"
#include "tick.h"
#include "sched_helpers.h"

static void timer_tick_advances_on_every_hart(struct ktest *t)
{
	static unsigned long start[NR_CPUS];
	static volatile int stop;
	static struct task_struct *hog[NR_CPUS];
	int cpu;
	/* An idle hart, or one running a single task, may have its tick off:
	 * keep every hart busy (ours too: we sleep between looks) with a hog
	 * whose every pause restarts the tick first (hog_relax()), so every
	 * hart must take timer interrupts. */
	stop = 0;
	for_each_online_cpu(cpu) {
		hog[cpu] = kthread_create_on_cpu(hog_until, (void *)&stop, cpu, "tick/%u");
		ASSERT_TRUE(t, hog[cpu] != NULL);
		get_task_struct(hog[cpu]);
		wake_up_process(hog[cpu]);
	}
	for_each_online_cpu(cpu)
		start[cpu] = READ_ONCE(per_cpu(tick_count, cpu));
	unsigned long j0 = jiffies;
	/* The host may run many harts on two cores: allow up to 20 s for
	 * every hart to take 5 ticks (20 ms of its own timer). */
	uint64_t deadline = get_cycles() + (uint64_t)timebase_hz * 20;
	bool all;
	/* Sleep between looks: a hart that spun here would take the host
	 * time (or, under -icount, the whole instruction budget) that the
	 * others need to take their ticks. */
	while (true) {
		all = true;
		for_each_online_cpu(cpu)
			if (READ_ONCE(per_cpu(tick_count, cpu)) < start[cpu] + 5)
				all = false;
		if (all || get_cycles() >= deadline)
			break;
		msleep(1);
	}
	stop = 1;
	for_each_online_cpu(cpu)
		kthread_reap(hog[cpu]);
	for_each_online_cpu(cpu)
		EXPECT_GE(t, READ_ONCE(per_cpu(tick_count, cpu)), start[cpu] + 5);
	EXPECT_GT(t, jiffies, j0);
}

/* ---- tickless idle ---- */

static uint64_t nap_elapsed;

static int nap_ten_times(void *arg)
{
	uint64_t t0 = get_cycles();
	for (int i = 0; i < 10; i++)
		msleep(10);
	nap_elapsed = get_cycles() - t0;
	return 0;
}

static void timer_idle_hart_stops_its_tick(struct ktest *t)
{
	if (!tick_nohz_enabled())
		ktest_skip(t, "tickless idle is off (nohz=off)");
	int cpu = pin_other_or_skip(t, "needs two harts: an idle one besides ours");
	unsigned long stops0 = READ_ONCE(per_cpu(tick_stops, cpu));
	/* A thread on that hart naps 10 x 10 ms: between naps the hart is
	 * idle with its tick stopped, and each nap's timer must still fire
	 * (the hart's timer is programmed for it, not for the tick). */
	struct task_struct *s = kthread_create_on_cpu(nap_ten_times, NULL, cpu, "nap/%u");
	ASSERT_TRUE(t, s != NULL);
	get_task_struct(s);
	wake_up_process(s);
	kthread_reap(s);
	unsigned long stops = READ_ONCE(per_cpu(tick_stops, cpu)) - stops0;
	/* And with nothing left to run there, it stays idle, tick off. */
	bool stopped = wait_until(READ_ONCE(per_cpu(tick_stopped, cpu)), 5);
	unpin_self();
	ktest_log(t, "cpu%d: %lu tickless idle periods over 10 naps of 10 ms (%lu ms in all)", cpu,
		  stops, ticks_to_ms(nap_elapsed));
	EXPECT_GE(t, stops, 5);
	EXPECT_TRUE(t, stopped);
	EXPECT_GE(t, ticks_to_ms(nap_elapsed), 100); /* no timer fired early */
}

static int backwards;

static void check_monotonic(void *arg)
{
	uint64_t prev = ktime_get_ns();
	for (int i = 0; i < 20000; i++) {
		uint64_t now = ktime_get_ns();
		if (now < prev)
			__atomic_fetch_add(&backwards, 1, __ATOMIC_RELAXED);
		prev = now;
	}
}

static void timer_ktime_is_monotonic(struct ktest *t)
{
	backwards = 0;
	ASSERT_EQ(t, run_on_cpus(cpu_online_mask, check_monotonic, NULL), 0);
	EXPECT_EQ(t, backwards, 0);
}

static void timer_conversions(struct ktest *t)
{
	EXPECT_EQ(t, ticks_to_ns(timebase_hz), 1000000000ULL);
	EXPECT_EQ(t, ns_to_ticks(1000000000ULL), timebase_hz);
	/* Large values do not overflow: a year of ticks. */
	uint64_t year = (uint64_t)timebase_hz * 3600 * 24 * 365;
	EXPECT_EQ(t, ticks_to_ns(year), 1000000000ULL * 3600 * 24 * 365);
}

/* ---- timers keep expiring while CPU 0 is held with interrupts off ---- */

static int holding, sleeper_done, sleeper_saw_hold;

static void set_and_kick(int *flag, int v)
{
	smp_store_release(flag, v);
	smp_cond_wake(flag);
}

/* Holds CPU 0 with interrupts off for up to 500 ms, halting meanwhile
 * (cpu_wait.h: its own tick is deferred, not taken, while it halts). */
static int hold_irqs_off(void *arg)
{
	unsigned long flags = local_irq_save();
	uint64_t end = get_cycles() + (uint64_t)timebase_hz / 2; /* 500 ms */
	struct cpu_wait w = {0, 0};
	set_and_kick(&holding, 1);
	while (get_cycles() < end && !smp_load_acquire(&sleeper_done)) {
		if (cpu_wait_should_halt(&w))
			cpu_wait_halt_unless(&w, &sleeper_done, smp_load_acquire(&sleeper_done));
		else
			cpu_relax();
	}
	set_and_kick(&holding, 0);
	local_irq_restore(flags);
	return 0;
}

static int sleep_while_held(void *arg)
{
	smp_cond_load_acquire(&holding, VAL);
	msleep(10);
	WRITE_ONCE(sleeper_saw_hold, READ_ONCE(holding));
	set_and_kick(&sleeper_done, 1);
	return 0;
}

static void timer_expires_while_cpu0_is_held(struct ktest *t)
{
	if (num_online_cpus() < 2)
		ktest_skip(t, "needs two harts");
	static struct cpu_stop_work work;
	holding = sleeper_done = sleeper_saw_hold = 0;
	int other = cpumask_next(0, cpu_online_mask);
	struct task_struct *s = kthread_create_on_cpu(sleep_while_held, NULL, other, "sleeper/%u");
	ASSERT_TRUE(t, s != NULL);
	get_task_struct(s);
	wake_up_process(s);
	/* CPU 0 stops taking ticks for up to 500 ms; a 10 ms sleep on
	 * another hart must still end inside that window. */
	ASSERT_TRUE(t, stop_one_cpu_nowait(0, hold_irqs_off, NULL, &work));
	kthread_reap(s);
	smp_cond_load_acquire(&holding, !VAL);
	EXPECT_TRUE(t, sleeper_saw_hold);
}

KTEST_SUITE(timer, KTEST_CASE(timer_tick_advances_on_every_hart),
	    KTEST_CASE(timer_idle_hart_stops_its_tick), KTEST_CASE(timer_ktime_is_monotonic),
	    KTEST_CASE(timer_expires_while_cpu0_is_held), KTEST_CASE(timer_conversions));
