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

/* One rendezvous: on the caller's stack, read by every participant. */
struct multi_stop_data {
	cpu_stop_fn_t fn;
	void *data;
	int num_threads;
	const cpumask_t *active_cpus; /* NULL: the first online hart */
	int first_cpu;
	enum multi_stop_state state;
	int thread_ack;
	uint64_t state_start;
	cpumask_t participants; /* whose stoppers take part */
	cpumask_t acked;	/* who acked the current state (for the watchdog) */
	int reported;		/* state for which a stall was reported */
	unsigned long caller;
};

/* stop_machine_rendezvous.c */
int multi_cpu_stop(void *data); /* the stop fn every participant runs */
void multi_stop_set_state(struct multi_stop_data *ms, enum multi_stop_state newstate);

/* stop_machine_debug.c */
extern const char *const multi_stop_state_names[MULTI_STOP_NR];
void stop_watchdog_init(void); /* cpu_stop_init(): read stop_watchdog_ms */
/* From multi_cpu_stop()'s wait loop: report a state not acked within the
 * watchdog limit, and under hang_panic= panic on one that never is. */
void stop_watchdog_check(struct multi_stop_data *ms, enum multi_stop_state st);
void stop_hang_check(struct multi_stop_data *ms, enum multi_stop_state st);

#endif
