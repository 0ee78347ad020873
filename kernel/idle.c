/*
 * idle.c - what a hart does when it has nothing to run.
 *
 * It sleeps in wfi. The check for work and the wfi happen with
 * interrupts masked (sstatus.SIE = 0): wfi still wakes on any pending
 * interrupt enabled in sie, and the interrupt is taken as soon as SIE is
 * set again, so a wake-up between the check and the wfi is never lost.
 */
#include "ipi.h"
#include "kernel.h"
#include "percpu.h"
#include "preempt.h"
#include "riscv.h"
#include "smp.h"

struct cpu_work {
	void (*fn)(void *);
	void *arg;
	int pending; /* harts that have not finished fn yet */
};

DEFINE_PER_CPU(struct cpu_work *, cpu_work);

static void run_posted_work(struct cpu_work *w)
{
	w->fn(w->arg);
	if (WARN(preempt_count() != 0 || irqs_disabled(), "work %p left preempt_count %u, irqs %s",
		 (void *)w->fn, preempt_count(), irqs_disabled() ? "off" : "on")) {
		this_cpu(__preempt_count) = 0;
		local_irq_enable();
	}
	__atomic_fetch_sub(&w->pending, 1, __ATOMIC_RELEASE);
}

void cpu_idle_loop(void)
{
	for (;;) {
		local_irq_disable();
		struct cpu_work *w = this_cpu(cpu_work);
		if (w) {
			this_cpu(cpu_work) = NULL;
			local_irq_enable();
			run_posted_work(w);
			continue;
		}
		wfi();
		local_irq_enable();
	}
}

int run_on_cpus(const cpumask_t *mask, void (*fn)(void *), void *arg)
{
	struct cpu_work w = {fn, arg, 0};
	cpumask_t targets, kick;
	int me = smp_processor_id(), cpu, busy = 0;

	might_sleep();
	cpumask_and(&targets, mask, cpu_online_mask);
	cpumask_clear(&kick);
	for_each_cpu (cpu, &targets) {
		if (cpu == me)
			continue;
		/* Count before publishing: the target may run it at once. */
		__atomic_fetch_add(&w.pending, 1, __ATOMIC_RELAXED);
		struct cpu_work *expect = NULL;
		if (__atomic_compare_exchange_n(per_cpu_ptr(&cpu_work, cpu), &expect, &w, false,
						__ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
			cpumask_set_cpu(cpu, &kick);
		} else {
			__atomic_fetch_sub(&w.pending, 1, __ATOMIC_RELAXED);
			busy++;
		}
	}
	send_ipi_mask(&kick, IPI_RESCHEDULE);
	if (cpumask_test_cpu(me, &targets))
		fn(arg);
	while (__atomic_load_n(&w.pending, __ATOMIC_ACQUIRE) > 0)
		cpu_relax();
	if (busy)
		pr_warn("run_on_cpus: %d harts were still busy with earlier work", busy);
	return busy ? -EBUSY : 0;
}
