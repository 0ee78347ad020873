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
 *   adaptive  when the rendezvous has no more participants than the host
 *             can run at once (host_parallelism, measured at boot: what all
 *             harts count in one 4 ms window over what one counts alone),
 *             it polls for
 *             stop_wait_budget_ticks() (eight cross-call round trips to a
 *             halted hart, measured at boot, kept within 100 us .. 1 ms),
 *             then halts as wfi does. With more participants than that it
 *             halts at once: a poll would only take a host core from a
 *             hart that has yet to ack. With a core each, polling costs
 *             the others nothing, and it saves the kicks: one halt makes
 *             the next state wait for a host wake-up, which makes its
 *             waiters halt in turn.
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
#include <stdlib.h>
#include <string.h>
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
static int host_parallelism = 1;	/* harts the host runs at once (boot) */

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

int stop_host_parallelism(void)
{
	return READ_ONCE(host_parallelism);
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

/* The median of nine cross-call round trips to another hart (the target
 * has just halted after the first, as a rendezvous participant has). */
static uint64_t measure_kick_cost(void)
{
	int me = smp_processor_id(), other = cpumask_next(me, cpu_online_mask);
	uint64_t rtt[9] = {0};
	int n = 0;
	if (other >= NR_CPUS)
		other = cpumask_first(cpu_online_mask);
	for (int i = 0; other != me && i < 10; i++) {
		uint64_t t0 = get_cycles();
		if (smp_call_function_single(other, calibrate_nop, NULL, true))
			break;
		if (i > 0)
			rtt[n++] = get_cycles() - t0;
	}
	qsort(rtt, (size_t)n, sizeof(rtt[0]), cmp_u64);
	return n ? rtt[n / 2] : 0;
}

static volatile uint64_t par_start, par_end;
static unsigned long par_count[NR_CPUS];
static int par_done;

/* On every hart at once (an IPI handler, and the caller): count in the
 * shared window. */
static void count_in_window(void *arg)
{
	unsigned long n = 0;
	while (get_cycles() < par_start)
		cpu_relax();
	while (get_cycles() < par_end)
		n++;
	par_count[smp_processor_id()] = n;
	__atomic_fetch_add(&par_done, 1, __ATOMIC_RELEASE);
	smp_cond_wake(&par_done);
}

/*
 * How many harts the host runs side by side. The calling hart first
 * counts alone in a 4 ms window, then every hart counts in one window of
 * the same length: the host's cores' worth of counting that happened is
 * the sum of the second over the first. (The largest single count would
 * be no ruler: with more harts than cores the host shares each core in
 * time slices, and no hart counts a whole window.) Three rounds, the
 * median of them (a busy host may take a core away for one), rounded to
 * nearest, at least 1.
 */
static unsigned long count_window(const cpumask_t *others)
{
	unsigned long sum = 0;
	int cpu;
	memset(par_count, 0, sizeof(par_count));
	par_done = 0;
	/* Time for the IPIs to reach everyone: 2 ms, and 100 us a hart past
	 * 20 (each doorbell takes the host's big lock). */
	par_start = get_cycles() + max(timebase_hz / 500,
				       (uint64_t)cpumask_weight(others) * (timebase_hz / 10000));
	par_end = par_start + timebase_hz / 250;
	/* No waiting for the others before our own count: all count at once. */
	if (!cpumask_empty(others) && smp_call_function_many(others, count_in_window, NULL, false))
		return 0;
	count_in_window(NULL);
	smp_cond_load_acquire(&par_done, VAL >= cpumask_weight(others) + 1);
	for_each_online_cpu(cpu)
		sum += par_count[cpu];
	return sum;
}

static int measure_host_parallelism(void)
{
	cpumask_t none, others;
	int p[3];
	cpumask_clear(&none);
	cpumask_copy(&others, cpu_online_mask);
	cpumask_clear_cpu(smp_processor_id(), &others);
	for (int round = 0; round < 3; round++) {
		unsigned long solo = count_window(&none), all = count_window(&others);
		p[round] = solo ? max(1, (int)((all + solo / 2) / solo)) : 1;
	}
	/* The median of three. */
	return max(min(p[0], p[1]), min(max(p[0], p[1]), p[2]));
}

/*
 * Boot, once the secondaries are up (cpu_stop_init()): read stop_wait=
 * and stop_fanin=, and measure what adaptive needs: its poll budget,
 * eight kicks' cost (kept within 100 us .. 1 ms; stop_wait_spin_us=
 * replaces the measurement), and how many harts the host runs at once
 * (stop_host_parallelism= replaces that). Polling only happens when
 * every participant has a host core, so it costs the others nothing; the
 * budget only bounds how long a hart polls for a partner the host
 * descheduled after all (the parallelism is a boot-time snapshot). Eight
 * round trips cover a stopper's wake-up from idle (a PREPARE wait of
 * 30-60 us at two harts here), which a shorter budget would turn into a
 * halt, and the halt into a chain of kicks through the later states.
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
	uint64_t us = timebase_hz / 1000000;
	uint64_t budget = cmdline_get_ulong("stop_wait_spin_us", 0) * us;
	if (!budget)
		budget = clamp_val(8 * measure_kick_cost(), 100 * us, 1000 * us);
	stop_wait_budget = budget;
	host_parallelism = (int)cmdline_get_ulong("stop_host_parallelism", 0);
	if (host_parallelism <= 0)
		host_parallelism = measure_host_parallelism();
	pr_info("stop: rendezvous waits: %s (poll %lu us while at most %d harts take part), ack "
		"fan-in %d",
		stop_wait_names[stop_wait_mode], (unsigned long)(stop_wait_budget / us),
		host_parallelism, stop_fanin);
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

/* Should a participant that has waited since w->start halt now? */
static bool rendezvous_should_halt(const struct multi_stop_data *ms, struct cpu_wait *w)
{
	uint64_t now = get_cycles();
	if (ms->wait == STOP_WAIT_SPIN)
		return false;
	if (ms->wait == STOP_WAIT_WFI || ms->num_threads > host_parallelism)
		return true;
	if (!w->start) {
		w->start = now | 1; /* 0 means "not started"; may be now + 1 */
		return false;
	}
	return (int64_t)(now - w->start) >= (int64_t)stop_wait_budget;
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
			if (rendezvous_should_halt(ms, &w)) {
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
