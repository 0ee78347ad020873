/*
 * stop_machine_debug.c - watching the stoppers: the stall watchdog, the
 * hang_panic= check, the witnesses the tests read, what every stopper
 * runs (panic dumps) and the per-hart counters.
 *
 * The mechanism itself is stop_machine.c; everything here reads its
 * state without taking the stopper locks (a panic must be able to print
 * whatever is held), so the numbers may be a moment old.
 */
#include <stdio.h>
#include "cmdline.h"
#include "cpu_wait.h"
#include "console.h"
#include "ktime.h"
#include "sched.h"
#include "smp.h"
#include "kernel/stop_machine_internal.h"

/* The stall limit, stop_watchdog_ms= (1 s by default), in time ticks. */
uint64_t stop_watchdog_ticks;

void stop_watchdog_init(void)
{
	stop_watchdog_ticks = cmdline_get_ulong("stop_watchdog_ms", 1000) * (timebase_hz / 1000);
}

const char *const multi_stop_state_names[MULTI_STOP_NR] = {"NONE", "PREPARE", "DISABLE_IRQ", "RUN",
							   "EXIT"};

/* A hart waiting in a state for longer than the watchdog limit names the
 * participants that have not acked it (once per state). In PREPARE those
 * are the harts whose stoppers have not arrived: the stall that matters
 * most, a hart that never gets there (preemption off, or spinning with
 * interrupts off), is named while it lasts. It also names the
 * participants halted in `wfi` (cpu_wait.h): those that acked and wait
 * for the state to change, and any that have not acked because they are
 * halted in some other wait (a lock, a cross-call) whose kick has not
 * come. */
void stop_watchdog_check(struct multi_stop_data *ms, enum multi_stop_state st)
{
	/*
	 * Signed: the start read may be the next state's, written by
	 * multi_stop_set_state() after our clock read (and before it publishes the
	 * state, so the state may still read as st): then the wait is
	 * negative, not 2^64 ticks. A newer start only shortens the wait.
	 */
	int64_t waited = (int64_t)(get_cycles() - READ_ONCE(ms->state_start));
	if (waited < (int64_t)stop_watchdog_ticks || READ_ONCE(ms->state) != st)
		return;
	if (__atomic_exchange_n(&ms->reported, (int)st, __ATOMIC_SEQ_CST) == (int)st)
		return; /* someone reported this state already */
	cpumask_t missing, asleep, stuck_asleep;
	int cpu;
	cpumask_clear(&missing);
	cpumask_clear(&asleep);
	cpumask_clear(&stuck_asleep);
	for_each_cpu(cpu, &ms->participants) {
		const volatile void *on = cpu_wait_waiting_on(cpu);
		if (!cpumask_test_cpu(cpu, &ms->acked)) {
			cpumask_set_cpu(cpu, &missing);
			if (on)
				cpumask_set_cpu(cpu, &stuck_asleep);
		} else if (on == &ms->state) {
			cpumask_set_cpu(cpu, &asleep);
		}
	}
	char m[128], a[128], s[128];
	this_cpu(cpu_stopper).stats.stalls++;
	pr_warn("stop_machine stall: state %s not acked after %lu ms by cpus %s (of them halted in "
		"another wait: %s); halted waiting for the next state: %s; fn %p, caller 0x%lx",
		multi_stop_state_names[st], ticks_to_ms(waited),
		cpumask_format_list(&missing, m, sizeof(m)),
		cpumask_format_list(&stuck_asleep, s, sizeof(s)),
		cpumask_format_list(&asleep, a, sizeof(a)), (void *)ms->fn, ms->caller);
}

/* hang_panic=: a state that never completes is a deadlock, not a stall. */
void stop_hang_check(struct multi_stop_data *ms, enum multi_stop_state st)
{
	if (!hang_panic_ticks)
		return;
	/* Signed, as in stop_watchdog_check(): a newer state's start only
	 * makes the wait look shorter. */
	int64_t waited = (int64_t)(get_cycles() - READ_ONCE(ms->state_start));
	if (waited > (int64_t)hang_panic_ticks && READ_ONCE(ms->state) == st)
		panic("stop_machine: state %s stuck (fn %p, caller 0x%lx; hang_panic)",
		      multi_stop_state_names[st], (void *)ms->fn, ms->caller);
}

bool stop_machine_witness(int cpu, struct stop_witness *w)
{
	const struct multi_stop_data *ms = this_cpu(cpu_stopper).ms;
	if (!ms || cpu < 0 || cpu >= NR_CPUS || !cpu_online(cpu))
		return false;
	struct cpu_stopper *s = per_cpu_ptr(&cpu_stopper, cpu);
	if (smp_load_acquire(&s->witness_ms) != ms)
		return false;
	*w = s->witness;
	return true;
}

/* From each hart's tick (scheduler_tick()): name a stop work that runs
 * too long. Interrupt context. */
void cpu_stop_tick(void)
{
	struct cpu_stopper *stopper = this_cpu_ptr(&cpu_stopper);
	cpu_stop_fn_t fn = smp_load_acquire(&stopper->fn);
	if (!fn || stopper->reported || fn == multi_cpu_stop)
		return;
	uint64_t ran = get_cycles() - stopper->started;
	if (ran < stop_watchdog_ticks)
		return;
	stopper->reported = true;
	stopper->stats.stalls++;
	pr_warn("cpu_stop: cpu%d has been running fn %p (caller 0x%lx) for %lu ms",
		smp_processor_id(), (void *)fn, stopper->caller, ticks_to_ms(ran));
}

void print_stop_info(void)
{
	int cpu;
	for_each_online_cpu(cpu) {
		struct cpu_stopper *s = per_cpu_ptr(&cpu_stopper, cpu);
		cpu_stop_fn_t fn = smp_load_acquire(&s->fn);
		if (fn)
			console_printf(
				"  cpu%d: stopper running fn %p (caller 0x%lx) for %lu ms, state "
				"%s\n",
				cpu, (void *)fn, s->caller, ticks_to_ms(get_cycles() - s->started),
				multi_stop_state_names[READ_ONCE(s->state)]);
	}
}

void stop_get_stats(int cpu, struct stop_stats *st)
{
	struct rq_stats rs;
	*st = per_cpu(cpu_stopper, cpu).stats;
	sched_rq_stats(cpu, &rs);
	st->migrations = rs.stopper_moved; /* counted by migration_cpu_stop() */
}

void stop_stats_print(const struct stop_stats *before)
{
	static const struct stop_stats zero;
	int cpu;
	console_printf("  cpu   works   fn_us  rendezvous stalls  moved  prepare_us disable_us  "
		       "run_us  exit_us\n");
	for_each_online_cpu(cpu) {
		struct stop_stats st;
		const struct stop_stats *b = before ? &before[cpu] : &zero;
		stop_get_stats(cpu, &st);
		console_printf("  %3d %7lu %7lu %11lu %6lu %6lu %11lu %10lu %7lu %8lu\n", cpu,
			       st.works - b->works, ticks_to_us(st.fn_ticks - b->fn_ticks),
			       st.rendezvous - b->rendezvous, st.stalls - b->stalls,
			       st.migrations - b->migrations,
			       ticks_to_us(st.state_ticks[MULTI_STOP_PREPARE] -
					   b->state_ticks[MULTI_STOP_PREPARE]),
			       ticks_to_us(st.state_ticks[MULTI_STOP_DISABLE_IRQ] -
					   b->state_ticks[MULTI_STOP_DISABLE_IRQ]),
			       ticks_to_us(st.state_ticks[MULTI_STOP_RUN] -
					   b->state_ticks[MULTI_STOP_RUN]),
			       ticks_to_us(st.state_ticks[MULTI_STOP_EXIT] -
					   b->state_ticks[MULTI_STOP_EXIT]));
	}
}
