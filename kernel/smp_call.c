/*
 * smp_call.c - cross-hart function calls (see smp_call.h).
 */
#include "ipi.h"
#include "kernel.h"
#include "percpu.h"
#include "preempt.h"
#include "riscv.h"
#include "smp.h"
#include "smp_call.h"

DEFINE_PER_CPU(struct call_single_data *, call_queue);
/* This hart's csd for each target, reused by non-waiting calls. */
DEFINE_PER_CPU(struct call_single_data, csd_data[NR_CPUS]);

static void flush_call_queue(void)
{
	struct call_single_data *list, *rev = NULL;

	list = __atomic_exchange_n(this_cpu_ptr(&call_queue), NULL, __ATOMIC_ACQUIRE);
	while (list) { /* the queue is a stack: reverse it into send order */
		struct call_single_data *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		struct call_single_data *csd = rev;
		rev = csd->next;
		smp_call_func_t fn = csd->fn;
		void *info = csd->info;
		if (csd->flags & CSD_FLAG_SYNC) {
			fn(info);
			__atomic_store_n(&csd->flags, 0, __ATOMIC_RELEASE);
		} else {
			/* The owner may reuse it the moment it is unlocked. */
			__atomic_store_n(&csd->flags, 0, __ATOMIC_RELEASE);
			fn(info);
		}
	}
}

void generic_smp_call_function_interrupt(void)
{
	flush_call_queue();
}

/* Spin until csd is unlocked. With interrupts off, keep serving our own
 * queue meanwhile: the hart we wait for may be waiting on us. */
static void csd_lock_wait(struct call_single_data *csd)
{
	while (__atomic_load_n(&csd->flags, __ATOMIC_ACQUIRE) & CSD_FLAG_LOCK) {
		if (irqs_disabled())
			flush_call_queue();
		cpu_relax();
	}
}

/* Push csd; true if the queue was empty (the target needs an IPI). */
static bool queue_csd(int cpu, struct call_single_data *csd)
{
	struct call_single_data **head = per_cpu_ptr(&call_queue, cpu);
	struct call_single_data *first = __atomic_load_n(head, __ATOMIC_RELAXED);
	do {
		csd->next = first;
	} while (!__atomic_compare_exchange_n(head, &first, csd, true, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
	return first == NULL;
}

static bool would_deadlock(bool wait, unsigned long caller)
{
	if (wait && (irqs_disabled() || in_irq())) {
		pr_warn("WARNING: smp_call_function with wait from %s (caller 0x%lx) would "
			"deadlock; refused",
			in_irq() ? "interrupt context" : "interrupts disabled", caller);
		return true;
	}
	return false;
}

int smp_call_function_single_async(int cpu, struct call_single_data *csd)
{
	if (cpu < 0 || cpu >= NR_CPUS || !cpu_online(cpu))
		return -ENXIO;
	unsigned int expect = 0;
	if (!__atomic_compare_exchange_n(&csd->flags, &expect, CSD_FLAG_LOCK, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return -EBUSY;
	preempt_disable();
	if (queue_csd(cpu, csd))
		send_ipi(cpu, IPI_CALL_FUNCTION);
	preempt_enable();
	return 0;
}

int smp_call_function_single(int cpu, smp_call_func_t fn, void *info, bool wait)
{
	struct call_single_data stack_csd = {0};

	if (cpu < 0 || cpu >= NR_CPUS || !cpu_online(cpu))
		return -ENXIO;
	preempt_disable();
	if (cpu == smp_processor_id()) {
		unsigned long flags = local_irq_save();
		fn(info);
		local_irq_restore(flags);
		preempt_enable();
		return 0;
	}
	if (would_deadlock(wait, _RET_IP_)) {
		preempt_enable();
		return -EDEADLK;
	}
	struct call_single_data *csd = wait ? &stack_csd : this_cpu_ptr(&csd_data[cpu]);
	/* Interrupts off from the wait to the push: an interrupt handler on
	 * this hart using the same per-cpu csd would otherwise queue it twice. */
	unsigned long flags = local_irq_save();
	csd_lock_wait(csd);
	csd->fn = fn;
	csd->info = info;
	__atomic_store_n(&csd->flags, CSD_FLAG_LOCK | (wait ? CSD_FLAG_SYNC : 0), __ATOMIC_RELAXED);
	if (queue_csd(cpu, csd))
		send_ipi(cpu, IPI_CALL_FUNCTION);
	local_irq_restore(flags);
	if (wait)
		csd_lock_wait(csd);
	preempt_enable();
	return 0;
}

int smp_call_function_many(const cpumask_t *mask, smp_call_func_t fn, void *info, bool wait)
{
	cpumask_t targets, ring;
	int cpu, me;

	preempt_disable();
	me = smp_processor_id();
	cpumask_and(&targets, mask, cpu_online_mask);
	cpumask_clear_cpu(me, &targets);
	if (cpumask_empty(&targets)) {
		preempt_enable();
		return 0;
	}
	if (would_deadlock(wait, _RET_IP_)) {
		preempt_enable();
		return -EDEADLK;
	}
	cpumask_clear(&ring);
	unsigned long flags = local_irq_save(); /* as in smp_call_function_single() */
	for_each_cpu(cpu, &targets) {
		struct call_single_data *csd = this_cpu_ptr(&csd_data[cpu]);
		csd_lock_wait(csd);
		csd->fn = fn;
		csd->info = info;
		__atomic_store_n(&csd->flags, CSD_FLAG_LOCK | (wait ? CSD_FLAG_SYNC : 0),
				 __ATOMIC_RELAXED);
		if (queue_csd(cpu, csd))
			cpumask_set_cpu(cpu, &ring);
	}
	if (!cpumask_empty(&ring))
		send_ipi_mask(&ring, IPI_CALL_FUNCTION);
	local_irq_restore(flags);
	if (wait)
		for_each_cpu(cpu, &targets)
			csd_lock_wait(this_cpu_ptr(&csd_data[cpu]));
	preempt_enable();
	return 0;
}

int on_each_cpu(smp_call_func_t fn, void *info, bool wait)
{
	preempt_disable();
	int rc = smp_call_function_many(cpu_online_mask, fn, info, wait);
	if (rc == 0) {
		unsigned long flags = local_irq_save();
		fn(info);
		local_irq_restore(flags);
	}
	preempt_enable();
	return rc;
}
