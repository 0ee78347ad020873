/*
 * sched_helpers.h - small helpers shared by the sched* suites.
 */
#ifndef HARTSTOP_TEST_SCHED_HELPERS_H
#define HARTSTOP_TEST_SCHED_HELPERS_H

#include "cpu_wait.h"
#include "ktest.h"
#include "kthread.h"
#include "ktime.h"
#include "riscv.h"
#include "sched.h"
#include "tick.h"
#include "smp.h"
#include "timer.h"

/* An order log: tasks append small integers; tests compare sequences. */
struct order_log {
	int n;
	int v[32];
};

static inline void order_log_add(struct order_log *l, int v)
{
	int i = __atomic_fetch_add(&l->n, 1, __ATOMIC_SEQ_CST);
	if (i < 32)
		l->v[i] = v;
}

/* The hart the single-hart tests use: the last online one (the init
 * thread and the console are busiest on CPU 0). */
static inline int test_hart(void)
{
	int cpu, last = 0;
	for_each_online_cpu(cpu)
		last = cpu;
	return last;
}

/*
 * For tests that hog a hart until told to stop: pin the calling test
 * thread to the hart it is on (no move needed, so this works without the
 * stopper) and return another online hart for the hogs, or -1 if there
 * is none. unpin_self() undoes the pinning.
 */
static inline int pin_self_pick_other(void)
{
	cpumask_t me;
	/* Raw: we may move before the pin takes effect; wherever we are
	 * pinned, we stay, and the check below reads it again. */
	int self = raw_smp_processor_id(), cpu, other = -1;
	cpumask_clear(&me);
	cpumask_set_cpu(self, &me);
	if (set_cpus_allowed_ptr(current, &me) != 0)
		return -1;
	self = smp_processor_id(); /* now it stays */
	for_each_online_cpu(cpu)
		if (cpu != self)
			other = cpu;
	return other;
}

static inline void unpin_self(void)
{
	set_cpus_allowed_ptr(current, cpu_online_mask);
}

/* pin_self_pick_other(), or skip the case (unpinned) when there is one hart. */
static inline int pin_other_or_skip(struct ktest *t, const char *why)
{
	int cpu = pin_self_pick_other();
	if (cpu < 0) {
		unpin_self();
		ktest_skip(t, why);
	}
	return cpu;
}

/*
 * One step of a test hog, a task that keeps its hart busy until told to
 * stop: cpu_relax(), and after each millisecond of that a `wfi` with
 * interrupts on, which returns at the next interrupt (a tick, an IPI).
 * The task stays current and runnable throughout, so for the scheduler
 * it is exactly as busy as a pure spinner (it is preempted, moved and
 * charged the same), but its vCPU lets go of the host meanwhile. Without
 * that a hog starves what it waits for: the other vCPUs of a host with
 * more harts than cores, and under -icount (QEMU 7.2's round robin gives
 * the first busy vCPU the whole budget) every hart after it.
 * *next: 0 at the start of the loop.
 */
static inline void hog_relax(uint64_t *next)
{
	uint64_t now = get_cycles();
	if (!*next) {
		*next = now + timebase_hz / 1000;
	} else if (now >= *next) {
		if (!irqs_disabled()) {
			/* The wfi must end within a tick: a hart that left
			 * idle for this one task may have its tick off. */
			unsigned long flags = local_irq_save();
			tick_nohz_restart();
			local_irq_restore(flags);
			wfi();
		}
		*next = get_cycles() + timebase_hz / 1000;
	}
	cpu_relax();
}

/* A kthread body: hog the hart (politely, see hog_relax()) until *stop,
 * an int, is set. */
static inline int hog_until(void *stop)
{
	uint64_t pace = 0;
	while (!*(volatile int *)stop)
		hog_relax(&pace);
	return 0;
}

/* p sleeps: in TASK_UNINTERRUPTIBLE, off every runqueue and off its hart. */
static inline bool task_asleep(const struct task_struct *p)
{
	return READ_ONCE(p->state) == TASK_UNINTERRUPTIBLE && !READ_ONCE(p->on_rq) &&
	       !READ_ONCE(p->on_cpu);
}

/* Poll cond, sleeping 1 ms between looks, until it holds or `seconds`
 * pass; its last value. cond is evaluated many times. */
#define wait_until(cond, seconds)                                                                  \
	({                                                                                         \
		uint64_t __deadline = get_cycles() + (uint64_t)timebase_hz * (seconds);            \
		bool __ok;                                                                         \
		while (!(__ok = (cond)) && get_cycles() < __deadline)                              \
			msleep(1);                                                                 \
		__ok;                                                                              \
	})

/* Wait (sleeping) until p is asleep or `seconds` pass; whether it is. */
static inline bool wait_asleep(const struct task_struct *p, unsigned seconds)
{
	return wait_until(task_asleep(p), seconds);
}

/* Wait (sleeping) until *flag is non-zero or `seconds` pass. */
static inline bool wait_flag(volatile int *flag, unsigned seconds)
{
	return wait_until(*flag != 0, seconds);
}

#endif
