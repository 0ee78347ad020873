/*
 * stop_machine_rendezvous.c - the multi-stop state machine: what every
 * participant of stop_machine(), stop_two_cpus() and
 * stop_cpus_rendezvous() runs in its stopper, PREPARE -> DISABLE_IRQ ->
 * RUN -> EXIT, and how a participant waits for the others.
 *
 * The callers (stop_machine.c) build a struct multi_stop_data on their
 * stack, multi_stop_prepare() it and queue multi_cpu_stop() on every
 * participant's stopper; the last participant to ack a state publishes
 * the next one.
 *
 * Acks. With stop_fanin=F (> 0) the participants, ranked by hart number,
 * form groups of F; a hart acks into its group's counter (its own cache
 * line), and the last of a group acks the group into ms->thread_ack. So
 * at most F harts meet on one line, plus one per group on the root. With
 * F = 0 everyone decrements ms->thread_ack (flat). The last ack of the
 * root publishes the next state; it has seen every ack before it
 * (acq_rel on each counter, and each group's last acker carries its
 * group's acks into the root with its own acq_rel).
 *
 * Waiting (stop_wait=). A participant that has acked waits for the state
 * word to change:
 *   spin      it polls, as Linux does. Each state then needs every
 *             participating vCPU to be scheduled by the host in turn:
 *             on a 2-core host, 8 spinning harts cost tens of milliseconds.
 *   wfi       it halts in `wfi` at once (cpu_wait.h): the host can run
 *             the harts that still have to ack. The publisher kicks the
 *             halted ones (multi_stop_set_state(): smp_cond_wake(), one
 *             IPI to the set, on the direct ACLINT/IMSIC path where the
 *             platform has one).
 *   adaptive  it polls for at most what a halt costs on this hart, then
 *             halts as wfi does; and it does not poll at all in a state
 *             whose recent waits on this hart lasted longer than that on
 *             average. What a halt costs is learned: the time from the
 *             publication of a state to the moment a hart halted for it
 *             is running again, averaged over its recent halts (until it
 *             has one, a cross-call round trip to a halted hart measured
 *             at boot, stop_wait_budget_ticks()). Polling for what
 *             a kick costs at most doubles a wait that ends just past the
 *             budget (the classic spin-then-block bound) and saves the
 *             kick when the others are quick, as at 2 harts where all of
 *             them run; when the harts outnumber the host's cores the
 *             waits are long, and the poll would only take a core from a
 *             hart that has yet to ack. The average is of the true waits
 *             (from this hart's ack to the next state's publication,
 *             ms->state_start), not of when a halted hart woke, so a
 *             kick's latency does not teach it to halt.
 *
 * Why a halt is safe with interrupts off (DISABLE_IRQ to EXIT). `wfi`
 * returns when an interrupt is pending and enabled in sie, whatever
 * sstatus.SIE says, so a kick ends the halt without being taken.
 * cpu_wait_halt_wfi() then consumes it in place (ipi_absorb_kick():
 * the doorbell is cleared first, then the IPI_KICK bit of the reason
 * word is cleared with an AMO, and if any other reason is in the word
 * the hart rings its own doorbell again). A real reason (a cross-call, a
 * reschedule) that arrives meanwhile is not lost: the sender sets its
 * bit before it rings, so either the AMO sees the bit (and the doorbell
 * is rung again) or the ring comes after the clear (and stays pending).
 * Either way the interrupt is taken when EXIT restores interrupts, as it
 * would have been after a spin. A timer that falls due is pushed a tick
 * on rather than left pending (pending, it would end every later `wfi`
 * at once), so the halt also ends at least once a tick: the wait loop
 * below is the stall watchdog and keeps running.
 *
 * No kick is lost: the waiter registers on &ms->state and re-reads it
 * after a full fence; the publisher stores the state, fences and scans
 * the registrations (cpu_wait.h has the store-buffering argument).
 */
#include "cmdline.h"
#include "cpu_wait.h"
#include "ipi.h"
#include "ktime.h"
#include "preempt.h"
#include "smp.h"
#include "smp_call.h"
#include "stop_trace.h"
#include "kernel/stop_machine_internal.h"

const char *const stop_wait_names[STOP_WAIT_NR] = {"spin", "wfi", "adaptive"};
static enum stop_wait stop_wait_mode = STOP_WAIT_ADAPTIVE;
static uint64_t stop_wait_budget = 200; /* until stop_wait_init() measures it */
static int stop_fanin;			/* flat unless stop_fanin= says otherwise */

enum stop_wait stop_wait_get(void)
{
	return READ_ONCE(stop_wait_mode);
}

int stop_wait_set(enum stop_wait mode)
{
	if ((unsigned)mode >= STOP_WAIT_NR)
		return -EINVAL;
	return (int)__atomic_exchange_n(&stop_wait_mode, mode, __ATOMIC_RELAXED);
}

uint64_t stop_wait_budget_ticks(void)
{
	return READ_ONCE(stop_wait_budget);
}

int stop_fanin_set(int fanin)
{
	if (fanin < 0)
		return -EINVAL;
	return __atomic_exchange_n(&stop_fanin, fanin, __ATOMIC_RELAXED);
}

int stop_fanin_get(void)
{
	return READ_ONCE(stop_fanin);
}

static void calibrate_nop(void *arg)
{
}

/*
 * Boot, once the secondaries are up (cpu_stop_init()): read stop_wait=
 * and stop_fanin=, and measure adaptive's budget as the median of nine
 * cross-call round trips to another hart (the target has just halted
 * after the first, as a rendezvous participant has). Clamped to 1 us ..
 * 1 ms; stop_wait_spin_us= overrides the measurement.
 */
void stop_wait_init(void)
{
	char mode[16];
	if (cmdline_get("stop_wait", mode, sizeof(mode))) {
		int m;
		for (m = 0; m < STOP_WAIT_NR && strcmp(mode, stop_wait_names[m]); m++)
			;
		if (m < STOP_WAIT_NR)
			stop_wait_mode = (enum stop_wait)m;
		else
			pr_warn("stop_wait=%s: not spin, wfi or adaptive; keeping adaptive", mode);
	}
	stop_fanin = (int)cmdline_get_ulong("stop_fanin", 0);
	uint64_t us = timebase_hz / 1000000, budget = 0;
	if (cmdline_get_ulong("stop_wait_spin_us", 0)) {
		budget = cmdline_get_ulong("stop_wait_spin_us", 0) * us;
	} else {
		int me = smp_processor_id(), other = cpumask_next(me, cpu_online_mask);
		if (other >= NR_CPUS)
			other = cpumask_first(cpu_online_mask);
		uint64_t rtt[9];
		int n = 0;
		for (int i = 0; other != me && i < 10; i++) {
			uint64_t t0 = get_cycles();
			if (smp_call_function_single(other, calibrate_nop, NULL, true))
				break;
			if (i > 0)
				rtt[n++] = get_cycles() - t0;
		}
		/* Insertion sort of nine: the median is rtt[4]. */
		for (int i = 1; i < n; i++)
			for (int j = i; j > 0 && rtt[j] < rtt[j - 1]; j--) {
				uint64_t t = rtt[j];
				rtt[j] = rtt[j - 1];
				rtt[j - 1] = t;
			}
		budget = n ? rtt[n / 2] : 20 * us;
	}
	stop_wait_budget = clamp_val(budget, us, 1000 * us);
	pr_info("stop: rendezvous waits: %s (spin budget %lu us), ack fan-in %d",
		stop_wait_names[stop_wait_mode], (unsigned long)(stop_wait_budget / us),
		stop_fanin);
}

/* Reset the ack counters for a new state. Before the state is published,
 * so no participant can ack it yet. */
static void reset_acks(struct multi_stop_data *ms)
{
	if (!ms->fanin) {
		__atomic_store_n(&ms->thread_ack, ms->num_threads, __ATOMIC_RELAXED);
		return;
	}
	for (int g = 0; g < ms->nr_groups; g++)
		__atomic_store_n(&ms->groups[g].ack,
				 min(ms->fanin, ms->num_threads - g * ms->fanin), __ATOMIC_RELAXED);
	__atomic_store_n(&ms->thread_ack, ms->nr_groups, __ATOMIC_RELAXED);
}

/* Publish @newstate to every participant (its acks reset first). Called
 * by multi_stop_prepare() for PREPARE, then by the last acker. */
static void multi_stop_set_state(struct multi_stop_data *ms, enum multi_stop_state newstate)
{
	reset_acks(ms);
	cpumask_clear(&ms->acked);
	ms->state_start = get_cycles();
	smp_wmb();
	smp_store_release(&ms->state, newstate);
	smp_cond_wake(&ms->state); /* participants halted waiting for it */
}

void multi_stop_prepare(struct multi_stop_data *ms)
{
	ms->wait = stop_wait_get();
	int fanin = stop_fanin_get();
	/* One group would only add a level: flat below the fan-in. */
	if (fanin && ms->num_threads > fanin) {
		/* No more groups than the struct has room for. */
		fanin = max(fanin,
			    (ms->num_threads + MULTI_STOP_MAX_GROUPS - 1) / MULTI_STOP_MAX_GROUPS);
		ms->fanin = fanin;
		ms->nr_groups = (ms->num_threads + fanin - 1) / fanin;
	}
	multi_stop_set_state(ms, MULTI_STOP_PREPARE);
}

/* This hart's place among the participants (0 for the lowest hart). */
static int participant_rank(const struct multi_stop_data *ms, int cpu)
{
	int rank = 0, word = cpu / BITS_PER_LONG;
	for (int i = 0; i < word; i++)
		rank += __builtin_popcountl(ms->participants.bits[i]);
	unsigned long below = (1UL << (cpu % BITS_PER_LONG)) - 1;
	return rank + __builtin_popcountl(ms->participants.bits[word] & below);
}

/* The last hart to ack a state moves everyone to the next one. */
static void ack_state(struct multi_stop_data *ms, int group)
{
	cpumask_set_cpu_atomic(smp_processor_id(), &ms->acked);
	stop_trace(STOP_EV_ACK, ms->state);
	if (group >= 0 && __atomic_sub_fetch(&ms->groups[group].ack, 1, __ATOMIC_ACQ_REL) != 0)
		return; /* not the last of the group */
	if (__atomic_sub_fetch(&ms->thread_ack, 1, __ATOMIC_ACQ_REL) == 0)
		multi_stop_set_state(ms, ms->state + 1);
}

/* Should a participant that has waited since w->start in state st halt
 * now? */
static bool rendezvous_should_halt(const struct multi_stop_data *ms, struct cpu_stopper *stopper,
				   enum multi_stop_state st, struct cpu_wait *w)
{
	uint64_t now = get_cycles();
	if (ms->wait == STOP_WAIT_SPIN)
		return false;
	if (!w->start)
		w->start = now | 1;
	uint64_t budget = stopper->kick_avg ? stopper->kick_avg : stop_wait_budget;
	if (ms->wait == STOP_WAIT_WFI || stopper->wait_avg[st] > budget)
		return true;
	return now - w->start >= budget;
}

/* A wait in state st that began at w->start has ended: the next state was
 * published at ms->state_start (written before the state, so the acquire
 * that saw the state sees it). Fold it into adaptive's average (1/4 new). */
static void learn_wait(const struct multi_stop_data *ms, struct cpu_stopper *stopper,
		       enum multi_stop_state st, const struct cpu_wait *w)
{
	if (!w->start || st == MULTI_STOP_NONE)
		return;
	int64_t waited = (int64_t)(READ_ONCE(ms->state_start) - w->start);
	uint64_t avg = stopper->wait_avg[st], v = waited > 0 ? (uint64_t)waited : 0;
	stopper->wait_avg[st] = avg - avg / 4 + v / 4;
	if (w->halts) {
		/* We halted: from the publication to now is what waking cost. */
		int64_t woke = (int64_t)(get_cycles() - READ_ONCE(ms->state_start));
		uint64_t k = stopper->kick_avg ? stopper->kick_avg : stop_wait_budget;
		if (woke > 0)
			stopper->kick_avg = k - k / 4 + (uint64_t)woke / 4;
	}
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
 * interrupts on at entry); never call it directly. Waits as ms->wait says (the file comment)
 * until every participant has acked EXIT, then restores the interrupt state it found.
 * Return: ms->fn's result on an active hart, 0 on the others.
 */
int multi_cpu_stop(void *data)
{
	struct multi_stop_data *ms = data;
	struct cpu_stopper *stopper = this_cpu_ptr(&cpu_stopper);
	enum multi_stop_state curstate = MULTI_STOP_NONE;
	int cpu = smp_processor_id(), err = 0;
	int group = ms->fanin ? participant_rank(ms, cpu) / ms->fanin : -1;
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
			learn_wait(ms, stopper, curstate, &w);
			w = (struct cpu_wait){0, 0}; /* a fresh spin budget per state */
			uint64_t now = get_cycles();
			stopper->stats.state_ticks[curstate] += now - entered;
			entered = now;
			curstate = newstate;
			WRITE_ONCE(stopper->state, curstate);
			stop_trace(STOP_EV_STATE, curstate);
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
				if (is_active) {
					stop_trace(STOP_EV_FN, 0);
					err = ms->fn(ms->data);
					stop_trace(STOP_EV_FN_END, err);
				}
				break;
			default:
				break;
			}
			ack_state(ms, group);
		} else {
			/* Past PREPARE interrupts are off, so the tick cannot watch
			 * us: this loop is the watchdog (for PREPARE too). A halt
			 * ends at the next state (multi_stop_set_state() kicks) or,
			 * at the latest, a tick later (cpu_wait.h), so it keeps
			 * watching. */
			stop_watchdog_check(ms, curstate);
			stop_hang_check(ms, curstate);
			if (rendezvous_should_halt(ms, stopper, curstate, &w)) {
				unsigned int halts = w.halts;
				/* Kicks taken while halted here: registered on
				 * &ms->state alone, only its publisher sends them. */
				unsigned long kicks = ipi_count_received(cpu, IPI_KICK);
				stop_trace(STOP_EV_WFI, curstate);
				cpu_wait_halt_unless(&w, &ms->state,
						     smp_load_acquire(&ms->state) != curstate);
				stopper->stats.rendezvous_halts += w.halts - halts;
				stopper->stats.rendezvous_kicks +=
					ipi_count_received(cpu, IPI_KICK) - kicks;
				stop_trace(STOP_EV_WFI_END, curstate);
			} else {
				cpu_relax();
			}
		}
	} while (curstate != MULTI_STOP_EXIT);
	stopper->stats.state_ticks[MULTI_STOP_EXIT] += get_cycles() - entered;
	WRITE_ONCE(stopper->state, MULTI_STOP_NONE);
	WRITE_ONCE(stopper->ms, NULL);
	local_irq_restore(flags);
	return err;
}
