/*
 * kernel/stop_machine_internal.h - the stoppers' insides, shared by the
 * mechanism (stop_machine.c) and what watches it (stop_machine_debug.c).
 */
#ifndef HARTSTOP_STOP_MACHINE_INTERNAL_H
#define HARTSTOP_STOP_MACHINE_INTERNAL_H

#include "percpu.h"
#include "spinlock.h"
#include "stop_machine.h"

struct multi_stop_data;

struct cpu_stopper {
	struct task_struct *thread;
	int cpu; /* whose stopper this is */
	spinlock_t lock;
	bool enabled;
	struct list_head works;
	struct cpu_stop_work stop_work; /* for stop_cpus(), under stop_cpus_mutex */
	/* What runs now, for the watchdog and panic dumps. */
	cpu_stop_fn_t fn;
	unsigned long caller;
	uint64_t started;
	bool reported;
	struct stop_stats stats;
	enum multi_stop_state state;
	/* The rendezvous this stopper is in (NULL outside one), and what it
	 * recorded about itself there once its interrupts were off. */
	const struct multi_stop_data *ms;
	const struct multi_stop_data *witness_ms;
	struct stop_witness witness;
};

DECLARE_PER_CPU(struct cpu_stopper, cpu_stopper);

/* The combining tree's groups: at most this many, so the fan-in a boot
 * asks for is raised when there are more participants than it covers. */
#define MULTI_STOP_MAX_GROUPS 32

/* One group's ack counter, alone on its cache line: the point of the
 * tree is that the harts of different groups do not share a line. */
struct multi_stop_group {
	int ack;
} __aligned(64);

/* One rendezvous: on the caller's stack, read by every participant. */
struct multi_stop_data {
	cpu_stop_fn_t fn;
	void *data;
	int num_threads;
	const cpumask_t *active_cpus; /* NULL: the first online hart */
	int first_cpu;
	enum stop_wait wait; /* stop_wait_get() when the caller prepared it */
	int fanin;	     /* participants per group; 0: flat (thread_ack only) */
	int nr_groups;
	enum multi_stop_state state;
	/* Acks still missing for the current state: participants (flat), or
	 * groups that have not completed (tree). */
	int thread_ack;
	struct multi_stop_group groups[MULTI_STOP_MAX_GROUPS];
	uint64_t state_start;
	cpumask_t participants; /* whose stoppers take part */
	cpumask_t acked;	/* who acked the current state (for the watchdog) */
	int reported;		/* state for which a stall was reported */
	unsigned long caller;
};

/* stop_machine_rendezvous.c */
int multi_cpu_stop(void *data); /* the stop fn every participant runs */
/* The caller, once fn, data, participants and the rest are filled in:
 * choose the waiting rule and the tree for this rendezvous, publish
 * PREPARE. Before any participant's stopper is queued. */
void multi_stop_prepare(struct multi_stop_data *ms);

void stop_wait_init(void); /* cpu_stop_init(): stop_wait=, stop_fanin=, the budget */

/* stop_machine_debug.c */
extern const char *const multi_stop_state_names[MULTI_STOP_NR];
void stop_watchdog_init(void); /* cpu_stop_init(): read stop_watchdog_ms */
/* From multi_cpu_stop()'s wait loop: report a state not acked within the
 * watchdog limit, and under hang_panic= panic on one that never is. */
void stop_watchdog_check(struct multi_stop_data *ms, enum multi_stop_state st);
void stop_hang_check(struct multi_stop_data *ms, enum multi_stop_state st);

#endif
