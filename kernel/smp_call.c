/*
 * smp_call.c - cross-hart function calls (see smp_call.h).
 *
 * Rules (Linux's): the calls that use this hart's csds or wait for the
 * targets refuse to run with interrupts off or from an interrupt, wait
 * or not. A hart with interrupts off cannot answer the calls of others;
 * two such harts waiting for each other's answers, or a stop fn (whose
 * rendezvous keeps every participant's interrupts off until EXIT)
 * waiting for a stopped hart to release a csd, would spin forever.
 * smp_call_function_single_async() takes a caller-owned csd and never
 * waits, so it is the one to use from atomic context.
 */
#include "cpu_wait.h"
#include "ipi.h"
#include "kernel.h"
#include "percpu.h"
#include "preempt.h"
#include "riscv.h"
#include "smp.h"
#include "smp_call.h"

DEFINE_PER_CPU(struct call_single_data *, call_queue);
/* This hart's csd for each target, reused by non-waiting calls (a csd
 * is this hart's while preemption is off; no interrupt handler uses
 * them, since calls from interrupts are refused). */
DEFINE_PER_CPU(struct call_single_data, csd_data[NR_CPUS]);

/* Release csd to its owner and kick it if it halted waiting for that. */
static void csd_unlock(struct call_single_data *csd)
{
	smp_store_release(&csd->flags, 0);
	smp_cond_wake(&csd->flags);
}

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
			csd_unlock(csd);
		} else {
			/* The owner may reuse it the moment it is unlocked. */
			csd_unlock(csd);
			fn(info);
		}
	}
}

/**
 * generic_smp_call_function_interrupt() - run the cross-hart calls queued for this hart.
 *
 * Takes this hart's whole call queue with one swap and runs it in the order it was sent. A csd
 * whose sender waits (CSD_FLAG_SYNC) is released only after its fn returned, so the waiter sees
 * the work done; any other csd is released before its fn runs, because its owner may reuse it the
 * moment it is released. Calls queued meanwhile are not lost: their sender found the queue empty
 * and rang a new IPI.
 *
 * Context: the IPI_CALL_FUNCTION handler (ipi.c): interrupt context, interrupts off, on the hart
 * whose queue it drains. Each fn runs there and must not sleep.
 * Return: Nothing.
 */
void generic_smp_call_function_interrupt(void)
{
	flush_call_queue();
}

/* Wait (interrupts on, so our own queue is served meanwhile) until csd
 * is unlocked; halts past the spin budget until the target kicks us. */
static void csd_lock_wait(struct call_single_data *csd)
{
	smp_cond_load_acquire(&csd->flags, !(VAL & CSD_FLAG_LOCK));
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

/* The rules above: warn naming the caller, and refuse. */
static bool would_deadlock(const char *api, unsigned long caller)
{
	if (!irqs_disabled() && !in_irq())
		return false;
	pr_warn("WARNING: %s() called from %s (caller 0x%lx) would deadlock; refused with "
		"-EDEADLK",
		api, in_irq() ? "interrupt context" : "interrupts disabled", caller);
	return true;
}

/**
 * smp_call_function_single_async() - queue a caller-owned csd on a hart, never waiting.
 * @cpu: the target hart; may be the caller's own (fn then runs from the IPI it sends itself).
 * @csd: the call: ->fn and ->info filled in, ->flags clear. Owned by the caller.
 *
 * Locks @csd, pushes it on @cpu's call queue and rings IPI_CALL_FUNCTION if that queue was empty.
 * @csd->fn runs on @cpu in interrupt context with interrupts off. @csd is released (its flags
 * cleared) just before fn runs: from then on the caller may send it again, but what @csd->info
 * points to must stay valid until fn has used it.
 *
 * Context: any context (interrupt, interrupts or preemption off, a stop fn): the csd is the
 * caller's, so nothing is waited for and no per-cpu csd is used. Does not sleep.
 * Return: 0 once queued; -ENXIO if @cpu is out of range or not online; -EBUSY if @csd->flags is
 * not clear (still in flight), in which case nothing is queued.
 */
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

/* Lock csd (waiting for its last use to finish), fill it and queue it;
 * true if the target's queue was empty. Preemption off. */
static bool csd_send(int cpu, struct call_single_data *csd, smp_call_func_t fn, void *info,
		     bool wait)
{
	csd_lock_wait(csd);
	csd->fn = fn;
	csd->info = info;
	__atomic_store_n(&csd->flags, CSD_FLAG_LOCK | (wait ? CSD_FLAG_SYNC : 0), __ATOMIC_RELAXED);
	return queue_csd(cpu, csd);
}

/**
 * smp_call_function_single() - run a function on one hart.
 * @cpu: the target hart.
 * @fn: the function; runs on @cpu in interrupt context with interrupts off, must not sleep.
 * @info: passed to @fn.
 * @wait: true to return only after @fn has returned on @cpu.
 *
 * If @cpu is the calling hart, @fn runs right here with interrupts off. Otherwise, with @wait a
 * csd on the caller's stack is queued and the caller spins until @cpu releases it after @fn;
 * without @wait this hart's csd for @cpu is reused, so the call may first spin until @cpu has
 * taken that csd's previous call, and @info must stay valid until @fn has run. Spinning is done
 * with interrupts on (halting past its budget), so this hart keeps answering calls meanwhile.
 *
 * Context: process context, also with preemption disabled (this hart's csds are its own while
 * preemption is off). Interrupts must be on and the caller not in an interrupt, wait or not: a
 * hart with interrupts off cannot answer the others, and two such harts would spin forever; both
 * are refused with a warning naming the caller. Does not sleep, but spins: do not hold a lock
 * that the target may be spinning on with interrupts off.
 * Return: 0 once @fn is queued (with @wait: has run); -ENXIO if @cpu is out of range or not
 * online; -EDEADLK if called with interrupts disabled or from interrupt context.
 */
int smp_call_function_single(int cpu, smp_call_func_t fn, void *info, bool wait)
{
	struct call_single_data stack_csd = {0};

	if (cpu < 0 || cpu >= NR_CPUS || !cpu_online(cpu))
		return -ENXIO;
	if (would_deadlock("smp_call_function_single", _RET_IP_))
		return -EDEADLK;
	preempt_disable();
	if (cpu == smp_processor_id()) {
		unsigned long flags = local_irq_save();
		fn(info);
		local_irq_restore(flags);
		preempt_enable();
		return 0;
	}
	struct call_single_data *csd = wait ? &stack_csd : this_cpu_ptr(&csd_data[cpu]);
	if (csd_send(cpu, csd, fn, info, wait))
		send_ipi(cpu, IPI_CALL_FUNCTION);
	if (wait)
		csd_lock_wait(csd);
	preempt_enable();
	return 0;
}

static int __smp_call_function_many(const cpumask_t *mask, smp_call_func_t fn, void *info,
				    bool wait)
{
	cpumask_t targets, ring;
	int cpu;

	preempt_disable();
	cpumask_and(&targets, mask, cpu_online_mask);
	cpumask_clear_cpu(smp_processor_id(), &targets);
	cpumask_clear(&ring);
	for_each_cpu(cpu, &targets)
		if (csd_send(cpu, this_cpu_ptr(&csd_data[cpu]), fn, info, wait))
			cpumask_set_cpu(cpu, &ring);
	if (!cpumask_empty(&ring))
		send_ipi_mask(&ring, IPI_CALL_FUNCTION);
	if (wait)
		for_each_cpu(cpu, &targets)
			csd_lock_wait(this_cpu_ptr(&csd_data[cpu]));
	preempt_enable();
	return 0;
}

/**
 * smp_call_function_many() - run a function on the other harts of a mask.
 * @mask: the targets (not NULL); the calling hart and harts not online are skipped.
 * @fn: the function; runs on each target in interrupt context with interrupts off, must not
 *	sleep.
 * @info: passed to every call of @fn.
 * @wait: true to return only after @fn has returned on every target.
 *
 * Queues this hart's csd for each target (first spinning until the target has taken that csd's
 * previous call), then rings one IPI to the targets whose queues were empty. @fn never runs on the
 * calling hart, even if it is in @mask: on_each_cpu() does that. Without @wait, @info must stay
 * valid until every target has run @fn.
 *
 * Context: as smp_call_function_single(): process context, preemption may be off, interrupts
 * must be on and the caller not in an interrupt (refused with a warning naming the caller). Does
 * not sleep, but spins.
 * Return: 0, also when no target is left (offline harts in @mask are skipped, never -ENXIO);
 * -EDEADLK if called with interrupts disabled or from interrupt context.
 */
int smp_call_function_many(const cpumask_t *mask, smp_call_func_t fn, void *info, bool wait)
{
	if (would_deadlock("smp_call_function_many", _RET_IP_))
		return -EDEADLK;
	return __smp_call_function_many(mask, fn, info, wait);
}

/**
 * on_each_cpu() - run a function on every online hart, the calling one included.
 * @fn: the function; runs with interrupts off everywhere (in interrupt context on the others),
 *	must not sleep.
 * @info: passed to every call of @fn.
 * @wait: true to return only after @fn has returned on every hart.
 *
 * Sends @fn to every other online hart as smp_call_function_many() does, then runs it here with
 * interrupts off; with @wait that is after the other harts have finished. Preemption stays off
 * throughout, so "here" is one hart. Without @wait the local call may overlap the remote ones.
 *
 * Context: as smp_call_function_single(): process context, preemption may be off, interrupts
 * must be on and the caller not in an interrupt (refused with a warning naming the caller). Does
 * not sleep, but spins.
 * Return: 0; -EDEADLK if called with interrupts disabled or from interrupt context (then @fn runs
 * nowhere).
 */
int on_each_cpu(smp_call_func_t fn, void *info, bool wait)
{
	if (would_deadlock("on_each_cpu", _RET_IP_))
		return -EDEADLK;
	preempt_disable();
	__smp_call_function_many(cpu_online_mask, fn, info, wait);
	unsigned long flags = local_irq_save();
	fn(info);
	local_irq_restore(flags);
	preempt_enable();
	return 0;
}
