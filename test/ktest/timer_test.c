/*
 * timer_test.c - every hart's tick advances and ktime_get_ns() never
 * goes backwards on any hart.
 */
#include "ktest.h"
#include "ktime.h"
#include "riscv.h"
#include "smp.h"

static void timer_tick_advances_on_every_hart(struct ktest *t)
{
	static unsigned long start[NR_CPUS];
	int cpu;
	for_each_online_cpu(cpu)
		start[cpu] = READ_ONCE(per_cpu(tick_count, cpu));
	unsigned long j0 = jiffies;
	/* The host may run many harts on two cores: allow up to 20 s for
	 * every hart to take 5 ticks (20 ms of its own timer). */
	uint64_t deadline = get_cycles() + (uint64_t)timebase_hz * 20;
	bool all;
	do {
		all = true;
		for_each_online_cpu(cpu)
			if (READ_ONCE(per_cpu(tick_count, cpu)) < start[cpu] + 5)
				all = false;
	} while (!all && get_cycles() < deadline);
	for_each_online_cpu(cpu)
		EXPECT_GE(t, READ_ONCE(per_cpu(tick_count, cpu)), start[cpu] + 5);
	EXPECT_GT(t, jiffies, j0);
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

KTEST_SUITE(timer, KTEST_CASE(timer_tick_advances_on_every_hart),
	    KTEST_CASE(timer_ktime_is_monotonic), KTEST_CASE(timer_conversions));
