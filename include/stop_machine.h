/*
 * stop_machine.h - the stopper: run a function on a hart (or a set of
 * harts, or every hart) preempting whatever runs there.
 *
 * Each online hart has a stopper thread, migration/N, in the stop class:
 * when work is queued for it, it runs before anything else on that hart.
 * The APIs and their contracts are Linux's (kernel/stop_machine.c):
 *
 *   stop_one_cpu(cpu, fn, arg)        run fn on cpu and wait; fn's result,
 *                                     -ENOENT if cpu has no enabled stopper
 *   stop_one_cpu_nowait(cpu, fn, arg, work)
 *                                     queue and return (any context); false
 *                                     if disabled. work belongs to the
 *                                     stopper until fn starts; queueing it
 *                                     again before then is refused with a
 *                                     warning
 *   stop_two_cpus(cpu1, cpu2, fn, arg) both harts enter the multi-stop state
 *                                     machine, fn runs on cpu1
 *   stop_cpus(mask, fn, arg)          fn on every hart of mask, serialised;
 *   try_stop_cpus(...)                -EAGAIN instead of waiting
 *   stop_machine(fn, arg, mask)       every online hart rendezvous with
 *                                     interrupts off; fn runs on the harts of
 *                                     mask (NULL: the first online hart)
 *
 * fn runs with preemption disabled and must not sleep. The waiting calls
 * may sleep; called from a stop fn, from an interrupt, with interrupts or
 * preemption disabled they would deadlock: they warn (naming the caller)
 * and return -EDEADLK. A bad cpu or an empty mask is -EINVAL, an offline
 * hart -ENOENT.
 */
#ifndef HARTSTOP_STOP_MACHINE_H
#define HARTSTOP_STOP_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include "cpumask.h"
#include "list.h"

typedef int (*cpu_stop_fn_t)(void *arg);

struct cpu_stop_done;

struct cpu_stop_work {
	struct list_head list;
	cpu_stop_fn_t fn;
	void *arg;
	struct cpu_stop_done *done;
	unsigned long caller; /* return address of whoever queued it */
	int queued;	      /* 1 from queueing until fn starts */
};

int stop_one_cpu(int cpu, cpu_stop_fn_t fn, void *arg);
bool stop_one_cpu_nowait(int cpu, cpu_stop_fn_t fn, void *arg, struct cpu_stop_work *work_buf);
int stop_two_cpus(int cpu1, int cpu2, cpu_stop_fn_t fn, void *arg);
int stop_cpus(const cpumask_t *mask, cpu_stop_fn_t fn, void *arg);
int try_stop_cpus(const cpumask_t *mask, cpu_stop_fn_t fn, void *arg);
int stop_machine(cpu_stop_fn_t fn, void *arg, const cpumask_t *cpus);
/* The same rendezvous among the harts of `participants` only, fn on the
 * first of them (the bench measures it for 1, 2, 4, ... harts). */
int stop_cpus_rendezvous(const cpumask_t *participants, cpu_stop_fn_t fn, void *arg);

void cpu_stop_init(void); /* after SMP bring-up: one migration/N per online hart */
struct task_struct *cpu_stopper_task(int cpu);

/* Where each hart is in the multi-stop state machine (tests, stats). */
enum multi_stop_state {
	MULTI_STOP_NONE,
	MULTI_STOP_PREPARE,	/* arrive; interrupts still on */
	MULTI_STOP_DISABLE_IRQ, /* every hart turns its interrupts off */
	MULTI_STOP_RUN,		/* the active harts run fn */
	MULTI_STOP_EXIT,	/* leave, restore interrupts */
	MULTI_STOP_NR
};
enum multi_stop_state cpu_stop_state(int cpu);

/*
 * Witnesses for tests: every participant of a rendezvous (stop_machine,
 * stop_two_cpus, stop_cpus_rendezvous) records its own irqs_disabled()
 * and preempt count once it has turned its interrupts off, before it
 * acks DISABLE_IRQ, so all of them have before any fn runs. From a stop
 * fn running inside a rendezvous, stop_machine_witness() reads what
 * participant `cpu` recorded in that same rendezvous; false if it is not
 * a participant or has not got that far (or the caller is in none).
 */
struct stop_witness {
	bool irqs_off;
	unsigned int preempt_count;
};
bool stop_machine_witness(int cpu, struct stop_witness *w);

/* Diagnostics. */
extern uint64_t stop_watchdog_ticks; /* stall limit, default 1 s of timebase */
void print_stop_info(void);	     /* what every stopper is running now */
/*
 * How a participant of a rendezvous waits for the others to ack a state
 * (boot argument stop_wait=, default adaptive; stop_machine_rendezvous.c
 * says why each is safe with interrupts off):
 *   spin      poll the state word until it changes (Linux's way)
 *   wfi       halt in `wfi` at once; the hart that publishes the next
 *             state kicks the halted ones
 *   adaptive  with at most stop_host_parallelism() participants (how
 *             many harts the host runs at once, measured at boot) poll
 *             for stop_wait_budget_ticks() (a kick's cost, measured at
 *             boot), then halt as wfi does; with more, halt at once
 */
enum stop_wait { STOP_WAIT_SPIN, STOP_WAIT_WFI, STOP_WAIT_ADAPTIVE, STOP_WAIT_NR };
extern const char *const stop_wait_names[STOP_WAIT_NR];
enum stop_wait stop_wait_get(void);
/* Later rendezvous wait this way (bench, tests); returns the old mode, or
 * -EINVAL for a mode out of range. Context: any. */
int stop_wait_set(enum stop_wait mode);
uint64_t stop_wait_budget_ticks(void); /* adaptive's poll, in time ticks */
int stop_host_parallelism(void);       /* harts the host runs at once (boot) */
/* Acks combine in groups of `fanin` harts before the shared counter
 * (stop_fanin=, 0: one flat counter). Returns the old value, or -EINVAL
 * if fanin is negative. Context: any; later rendezvous use it. */
int stop_fanin_set(int fanin);
int stop_fanin_get(void);

struct stop_stats {
	unsigned long works;		     /* stop works run */
	uint64_t fn_ticks;		     /* time inside stop fns */
	unsigned long rendezvous;	     /* multi-stop participations */
	unsigned long stalls;		     /* watchdog reports */
	unsigned long migrations;	     /* running tasks migration_cpu_stop moved away */
	uint64_t state_ticks[MULTI_STOP_NR]; /* time spent in each state, summed */
	unsigned long rendezvous_halts;	     /* wfi halts while waiting in one */
	unsigned long rendezvous_kicks;	     /* ... and the kicks that ended them */
};
void stop_get_stats(int cpu, struct stop_stats *st);
/* The counters of every online hart as a table; with before (indexed by
 * cpu, from stop_get_stats()), what changed since. */
void stop_stats_print(const struct stop_stats *before);
void cpu_stop_tick(void); /* scheduler_tick(): the stall watchdog */

#endif
