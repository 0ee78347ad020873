/*
 * smp_test.c - cross-hart calls and IPIs: every hart answers once, no
 * IPI is lost or doubled under a storm, reasons sent while a hart has
 * interrupts off are all handled, and misuse is refused, not hung.
 */
#include <string.h>
#include "ipi.h"
#include "ktest.h"
#include "ktime.h"
#include "mm.h"
#include "preempt.h"
#include "riscv.h"
#include "smp.h"
#include "sched_helpers.h"
#include "smp_call.h"

static int ran[NR_CPUS];
static unsigned long ran_hart[NR_CPUS];

static void report_self(void *arg)
{
	int cpu = smp_processor_id();
	__atomic_fetch_add(&ran[cpu], 1, __ATOMIC_RELAXED);
	ran_hart[cpu] = cpu_to_hartid(cpu);
}

static void smp_call_many_reaches_each_hart_once(struct ktest *t)
{
	int cpu;
	memset(ran, 0, sizeof(ran));
	/* The caller's hart must not change between the call and the check:
	 * preemption off around both, as Linux's callers do. */
	preempt_disable();
	int me = smp_processor_id();
	int rc = smp_call_function_many(cpu_online_mask, report_self, NULL, true);
	preempt_enable();
	ASSERT_EQ(t, rc, 0);
	for (cpu = 0; cpu < NR_CPUS; cpu++) {
		/* smp_call_function_many skips the caller, as Linux's does. */
		int want = cpu_online(cpu) && cpu != me;
		EXPECT_EQ(t, ran[cpu], want);
		if (want)
			EXPECT_EQ(t, ran_hart[cpu], cpu_to_hartid(cpu));
	}
	memset(ran, 0, sizeof(ran));
	ASSERT_EQ(t, on_each_cpu(report_self, NULL, true), 0);
	for (cpu = 0; cpu < NR_CPUS; cpu++)
		EXPECT_EQ(t, ran[cpu], cpu_online(cpu) ? 1 : 0);
}

static void smp_call_single_waits_for_result(struct ktest *t)
{
	int cpu;
	for_each_online_cpu(cpu) {
		memset(ran, 0, sizeof(ran));
		ASSERT_EQ(t, smp_call_function_single(cpu, report_self, NULL, true), 0);
		EXPECT_EQ(t, ran[cpu], 1); /* visible as soon as the call returns */
	}
	EXPECT_EQ(t, smp_call_function_single(-1, report_self, NULL, true), -ENXIO);
	EXPECT_EQ(t, smp_call_function_single(NR_CPUS, report_self, NULL, true), -ENXIO);
}

static void smp_wait_with_irqs_off_is_refused(struct ktest *t)
{
	if (num_online_cpus() < 2)
		ktest_skip(t, "needs two harts");
	ktest_expect_warn(t, "interrupts disabled (caller 0x", 2);
	local_irq_disable();
	int other = cpumask_next(smp_processor_id(), cpu_online_mask);
	if (other >= NR_CPUS)
		other = cpumask_first(cpu_online_mask);
	int a = smp_call_function_single(other, report_self, NULL, true);
	int b = smp_call_function_many(cpu_online_mask, report_self, NULL, true);
	local_irq_enable();
	EXPECT_EQ(t, a, -EDEADLK);
	EXPECT_EQ(t, b, -EDEADLK);
}

/* ---- IPI storm ---- */

#define STORM_BUDGET 3000  /* calls each hart sends, over all its peers */
#define STORM_CAP    40000 /* calls in all: many harts share two host cores */
#define STORM_DEPTH  4	   /* csds in flight per (sender, target) pair */

static unsigned long handled[NR_CPUS][NR_CPUS]; /* [target][sender] */
static unsigned long sent[NR_CPUS][NR_CPUS];	/* [sender][target] */
static struct call_single_data *storm_csds;	/* [sender][target][depth] */
static int storm_rounds;

static void count_call(void *arg)
{
	int sender = (int)(uintptr_t)arg;
	handled[smp_processor_id()][sender]++; /* only the target writes its row */
}

static void storm(void *arg)
{
	int me = smp_processor_id(), cpu;
	uint64_t rng = *(uint64_t *)arg ^ (uint64_t)me;
	for (int r = 0; r < storm_rounds; r++) {
		/* Skip a random peer every other round, so that senders
		 * collide on targets in changing patterns. */
		int skip = (int)(ktest_rand(&rng) % (unsigned)nr_cpu_ids);
		for_each_online_cpu(cpu) {
			if (cpu == me || (cpu == skip && r % 2))
				continue;
			struct call_single_data *csd =
				&storm_csds[((size_t)me * nr_cpu_ids + cpu) * STORM_DEPTH +
					    r % STORM_DEPTH];
			/* Still queued from an earlier round: its target kicks us. */
			smp_cond_load_acquire(&csd->flags, !VAL);
			csd->fn = count_call;
			csd->info = (void *)(uintptr_t)me;
			if (smp_call_function_single_async(cpu, csd) == 0)
				sent[me][cpu]++;
		}
	}
	/* Wait until every csd we queued has run. */
	for (size_t i = 0; i < (size_t)nr_cpu_ids * STORM_DEPTH; i++)
		smp_cond_load_acquire(&storm_csds[(size_t)me * nr_cpu_ids * STORM_DEPTH + i].flags,
				      !VAL);
}

static void smp_ipi_storm_loses_nothing(struct ktest *t)
{
	int n = num_online_cpus();
	if (n < 2)
		ktest_skip(t, "needs two harts");
	memset(handled, 0, sizeof(handled));
	memset(sent, 0, sizeof(sent));
	storm_rounds = max(20, min(STORM_BUDGET / (n - 1), STORM_CAP / (n * (n - 1))));
	size_t ncsd = (size_t)nr_cpu_ids * nr_cpu_ids * STORM_DEPTH;
	storm_csds = kzalloc(ncsd * sizeof(*storm_csds));
	ASSERT_TRUE(t, storm_csds != NULL);
	uint64_t seed = ktest_rand(&t->rng);
	unsigned long irqs_before = 0;
	int cpu, s;
	for_each_online_cpu(cpu)
		irqs_before += ipi_count_irqs(cpu);
	EXPECT_EQ(t, run_on_cpus(cpu_online_mask, storm, &seed), 0);
	kfree(storm_csds);
	unsigned long total = 0, irqs = 0;
	for_each_online_cpu(cpu) {
		irqs += ipi_count_irqs(cpu);
		for_each_online_cpu(s) {
			if (s == cpu)
				continue;
			EXPECT_EQ(t, handled[cpu][s], sent[s][cpu]);
			EXPECT_GE(t, sent[s][cpu], storm_rounds / 2);
			total += sent[s][cpu];
		}
	}
	ktest_log(t, "%d harts x %d rounds: %lu calls handled in %lu IPIs", n, storm_rounds, total,
		  irqs - irqs_before);
}

/* ---- reasons survive coalescing ---- */

static volatile int coalesce_phase;
static int coalesce_target;
static unsigned long test_before, call_before, test_after, call_after;

static void mark_call(void *arg)
{
	__atomic_fetch_add((int *)arg, 1, __ATOMIC_RELAXED);
}

/* The two roles step through phases; each waits (halting) for the next. */
static void coalesce_set(int phase)
{
	smp_store_release(&coalesce_phase, phase);
	smp_cond_wake(&coalesce_phase);
}

static void coalesce_roles(void *arg)
{
	static struct call_single_data csd;
	static int calls;
	int me = smp_processor_id();
	if (me == coalesce_target) {
		local_irq_disable();
		test_before = ipi_count_received(me, IPI_TEST);
		call_before = calls;
		coalesce_set(1);
		smp_cond_load_acquire(&coalesce_phase, VAL == 2); /* both reasons arrive, masked */
		udelay(1000);
		local_irq_enable(); /* ... and are both handled here */
		udelay(1000);
		test_after = ipi_count_received(me, IPI_TEST);
		call_after = calls;
		coalesce_set(3);
	} else if (me == 0) {
		smp_cond_load_acquire(&coalesce_phase, VAL == 1);
		calls = 0;
		call_before = 0;
		csd.fn = mark_call;
		csd.info = &calls;
		csd.flags = 0;
		send_ipi(coalesce_target, IPI_TEST);
		smp_call_function_single_async(coalesce_target, &csd);
		coalesce_set(2);
		smp_cond_load_acquire(&coalesce_phase, VAL == 3);
	}
}

static void smp_ipi_reasons_are_not_coalesced(struct ktest *t)
{
	if (num_online_cpus() < 2)
		ktest_skip(t, "needs two harts");
	cpumask_t two;
	cpumask_clear(&two);
	coalesce_target = cpumask_next(0, cpu_online_mask);
	cpumask_set_cpu(0, &two);
	cpumask_set_cpu(coalesce_target, &two);
	coalesce_phase = 0;
	ASSERT_EQ(t, run_on_cpus(&two, coalesce_roles, NULL), 0);
	EXPECT_EQ(t, test_after - test_before, 1);
	EXPECT_EQ(t, call_after - call_before, 1);
}

static void smp_async_csd_busy_is_refused(struct ktest *t)
{
	struct call_single_data csd = {.fn = mark_call, .info = NULL, .flags = CSD_FLAG_LOCK};
	EXPECT_EQ(t, smp_call_function_single_async(0, &csd), -EBUSY);
	EXPECT_EQ(t, smp_call_function_single_async(NR_CPUS + 5, &csd), -ENXIO);
}

/* ---- the hang reporter's all-harts backtrace ---- */

static int bt_holding, bt_release;

/* Interrupts off until released: it cannot answer the backtrace IPI.
 * It halts meanwhile (cpu_wait.h), which answers nothing either. */
static int hold_with_irqs_off(void *arg)
{
	unsigned long flags = local_irq_save();
	WRITE_ONCE(bt_holding, 1);
	smp_cond_load_acquire(&bt_release, VAL);
	local_irq_restore(flags);
	return 0;
}

static void smp_backtrace_names_silent_harts(struct ktest *t)
{
	/* This thread (and its sleep timers) stays off the hart to be held. */
	int held = pin_other_or_skip(t, "needs two harts");
	cpumask_t silent;
	/* Every hart answers while interrupts are on... */
	EXPECT_EQ(t, trigger_all_cpu_backtrace(20000, &silent), 0);
	/* ...and a hart spinning with interrupts off is named. */
	bt_holding = bt_release = 0;
	struct task_struct *h = kthread_create_on_cpu(hold_with_irqs_off, NULL, held, "hold/%u");
	ASSERT_TRUE(t, h != NULL);
	get_task_struct(h);
	wake_up_process(h);
	while (!READ_ONCE(bt_holding))
		msleep(1);
	trigger_all_cpu_backtrace(300, &silent);
	smp_store_release(&bt_release, 1);
	smp_cond_wake(&bt_release);
	kthread_reap(h);
	unpin_self();
	EXPECT_TRUE(t, cpumask_test_cpu(held, &silent));
}

KTEST_SUITE(smp, KTEST_CASE(smp_call_many_reaches_each_hart_once),
	    KTEST_CASE(smp_call_single_waits_for_result),
	    KTEST_CASE(smp_wait_with_irqs_off_is_refused), KTEST_CASE(smp_ipi_storm_loses_nothing),
	    KTEST_CASE(smp_ipi_reasons_are_not_coalesced),
	    KTEST_CASE(smp_async_csd_busy_is_refused),
	    KTEST_CASE(smp_backtrace_names_silent_harts));
