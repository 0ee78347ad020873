/*
 * stop_machine_rendezvous.c - the multi-stop state machine: what every
 * participant of stop_machine(), stop_two_cpus() and
 * stop_cpus_rendezvous() runs in its stopper, PREPARE -> DISABLE_IRQ ->
 * RUN -> EXIT on one shared ack counter.
 *
 * The callers (stop_machine.c) build a struct multi_stop_data on their
 * stack and queue multi_cpu_stop() on every participant's stopper; the
 * last participant to ack a state publishes the next one, and waiting
 * participants spin, then halt, on the state word (cpu_wait.h).
 */
#include "cpu_wait.h"
#include "ktime.h"
#include "preempt.h"
#include "smp.h"
#include "kernel/stop_machine_internal.h"

/* Publish @newstate to every participant (its ack count reset first).
 * Called by the rendezvous' caller for PREPARE, then by the last acker. */
void multi_stop_set_state(struct multi_stop_data *ms, enum multi_stop_state newstate)
{
	/* Reset the ack count before publishing the state. */
	__atomic_store_n(&ms->thread_ack, ms->num_threads, __ATOMIC_RELAXED);
	cpumask_clear(&ms->acked);
	ms->state_start = get_cycles();
	smp_wmb();
	smp_store_release(&ms->state, newstate);
	smp_cond_wake(&ms->state); /* participants halted waiting for it */
}

/* The last hart to ack a state moves everyone to the next one. */
static void ack_state(struct multi_stop_data *ms)
{
	cpumask_set_cpu_atomic(smp_processor_id(), &ms->acked);
	if (__atomic_sub_fetch(&ms->thread_ack, 1, __ATOMIC_ACQ_REL) == 0)
		multi_stop_set_state(ms, ms->state + 1);
}

/**
 * multi_cpu_stop() - one participant's side of a rendezvous.
 * @data: the struct multi_stop_data every participant shares (on the caller's stack).
 *
 * The stop fn each participant of stop_machine(), stop_two_cpus() and stop_cpus_rendezvous()
 * runs. It follows the shared state through PREPARE, DISABLE_IRQ, RUN and EXIT, acking each;
 * the last hart to ack a state publishes the next one. PREPARE keeps interrupts as the stopper
 * had them (on): a hart that has not arrived yet may be waiting for a cross-hart call that only
 * an arrived one can answer. At DISABLE_IRQ each hart turns its interrupts off and records its
 * witness before acking, so every participant has one before any fn runs. At RUN the active
 * harts (ms->active_cpus, or ms->first_cpu if that is NULL) call ms->fn. Between states the
 * loop is the stall watchdog, since the tick cannot run with interrupts off.
 *
 * Context: only as a stop fn, queued on every participant's stopper (preemption disabled,
 * interrupts on at entry); never call it directly. Spins (halting past its budget) until every
 * participant has acked EXIT, then restores the interrupt state it found.
 * Return: ms->fn's result on an active hart, 0 on the others.
 */
int multi_cpu_stop(void *data)
{
	struct multi_stop_data *ms = data;
	struct cpu_stopper *stopper = this_cpu_ptr(&cpu_stopper);
	enum multi_stop_state curstate = MULTI_STOP_NONE;
	int cpu = smp_processor_id(), err = 0;
	bool is_active =
		ms->active_cpus ? cpumask_test_cpu(cpu, ms->active_cpus) : cpu == ms->first_cpu;
	/* PREPARE runs with interrupts as they were (on, in the stopper): a
	 * hart that has not arrived yet may be waiting for a cross-hart call
	 * that only we can answer. */
	unsigned long flags = csr_read(sstatus) & SSTATUS_SIE;
	uint64_t entered = get_cycles();
	struct cpu_wait w = {0, 0};

	stopper->stats.rendezvous++;
	WRITE_ONCE(stopper->ms, ms);
	do {
		enum multi_stop_state newstate = smp_load_acquire(&ms->state);
		if (newstate != curstate) {
			w = (struct cpu_wait){0, 0}; /* a fresh spin budget per state */
			uint64_t now = get_cycles();
			stopper->stats.state_ticks[curstate] += now - entered;
			entered = now;
			curstate = newstate;
			WRITE_ONCE(stopper->state, curstate);
			switch (curstate) {
			case MULTI_STOP_DISABLE_IRQ:
				local_irq_disable();
				/* The witness: this hart's own view of itself, taken
				 * before it acks, so every participant has one before
				 * any fn runs (RUN needs every ack). */
				stopper->witness.irqs_off = irqs_disabled();
				stopper->witness.preempt_count = preempt_count();
				smp_store_release(&stopper->witness_ms, ms);
				break;
			case MULTI_STOP_RUN:
				if (is_active)
					err = ms->fn(ms->data);
				break;
			default:
				break;
			}
			ack_state(ms);
		} else {
			/* Past PREPARE interrupts are off, so the tick cannot watch
			 * us: this loop is the watchdog (for PREPARE too). A halt
			 * ends at the next state (multi_stop_set_state() kicks) or, at the
			 * latest, a tick later (cpu_wait.h), so it keeps watching. */
			stop_watchdog_check(ms, curstate);
			stop_hang_check(ms, curstate);
			if (cpu_wait_should_halt(&w))
				cpu_wait_halt_unless(&w, &ms->state,
						     smp_load_acquire(&ms->state) != curstate);
			else
				cpu_relax();
		}
	} while (curstate != MULTI_STOP_EXIT);
	stopper->stats.state_ticks[MULTI_STOP_EXIT] += get_cycles() - entered;
	WRITE_ONCE(stopper->state, MULTI_STOP_NONE);
	WRITE_ONCE(stopper->ms, NULL);
	local_irq_restore(flags);
	return err;
}
