/*
 * sched.h - tasks and the scheduler's public interface.
 *
 * Linux's names and contracts: a task is a struct task_struct; it is
 * picked by walking the scheduling classes from the highest (stop -> rt
 * -> fair -> idle, see kernel/sched/core.c); wake_up_process(),
 * schedule(), set_cpus_allowed_ptr() and sched_setscheduler() behave as
 * a Linux reader expects.
 *
 * Lock order (see also README.md): p->pi_lock, then rq->lock; two
 * runqueue locks in ascending CPU order (double_rq_lock).
 */
#ifndef HARTSTOP_SCHED_H
#define HARTSTOP_SCHED_H

#include <stdint.h>
#include "cpumask.h"
#include "kernel.h"
#include "avl.h"
#include "list.h"
#include "percpu.h"
#include "spinlock.h"
#include "thread_info.h"

/* Task states, as Linux spells them. */
#define TASK_RUNNING	     0x0000
#define TASK_INTERRUPTIBLE   0x0001
#define TASK_UNINTERRUPTIBLE 0x0002
#define TASK_PARKED	     0x0040
#define TASK_DEAD	     0x0080
#define TASK_NEW	     0x0800
#define TASK_NORMAL	     (TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE)

/* Policies. */
#define SCHED_NORMAL	0
#define SCHED_FIFO	1
#define SCHED_RR	2
#define SCHED_IDLE	5

#define MAX_RT_PRIO	100 /* prio 0..99 are rt (0 highest), 100..139 fair */
#define MAX_PRIO	140
#define DEFAULT_PRIO	120 /* nice 0 */
#define NICE_TO_PRIO(n) (DEFAULT_PRIO + (n))
#define PRIO_TO_NICE(p) ((p)-DEFAULT_PRIO)
#define RR_TIMESLICE_MS 100
#define TASK_COMM_LEN	16

struct sched_class;
struct rq;
struct set_affinity_pending;

struct sched_entity {	      /* fair class */
	struct avl_node node; /* in the cfs_rq's tree, keyed (vruntime, seq) */
	uint64_t vruntime;    /* weighted runtime; relative to min_vruntime when off a rq */
	uint64_t seq;	      /* tie-break: FIFO among equal vruntime */
	unsigned long weight; /* from nice, as Linux's sched_prio_to_weight */
	uint64_t slice_start; /* sum_exec_runtime when last picked */
	bool on_tree;
};

struct sched_rt_entity { /* rt class */
	struct list_head run_list;
	unsigned int time_slice; /* ticks left (SCHED_RR) */
};

/* Callee-saved state of a switched-out task (platform/riscv/switch.S). */
struct context {
	unsigned long ra, sp, s[12];
};

struct task_struct {
	/* Keep first: `tp` points at the task and entry.S reads TI_*. Its
	 * cpu is the runqueue the task is on or will wake on; it changes
	 * only while the task does not run (set_task_cpu()). */
	struct thread_info thread_info;
	struct context ctx;  /* switch.S: TASK_CTX */
	volatile long state; /* TASK_* */
	int on_rq;	     /* TASK_ON_RQ_* (rq->lock) */
	int on_cpu;	     /* running, or being switched out (release in finish_task_switch) */
	int need_resched;    /* set by resched_curr() on the running task */
	const struct sched_class *sched_class;
	int policy;
	int prio;	 /* effective: 0..99 rt, 100..139 fair */
	int static_prio; /* 120 + nice */
	int rt_priority; /* 1..99 for SCHED_FIFO/RR, 0 otherwise */
	struct sched_entity se;
	struct sched_rt_entity rt;
	cpumask_t cpus_allowed;
	int nr_cpus_allowed;
	uint64_t exec_start;	   /* time CSR when it last started running */
	uint64_t sum_exec_runtime; /* ticks of the time CSR it has run */
	unsigned long nvcsw;	   /* switches out (diagnostics) */
	spinlock_t pi_lock;	   /* serialises wakeups and affinity changes */
	int refcount;
	int pid;
	char comm[TASK_COMM_LEN];
	void *stack;		 /* THREAD_SIZE block, guard page lowest */
	struct list_head tasks;	 /* on the global task list (tasklist_lock) */
	struct kthread *kthread; /* kthread state, NULL for idle tasks */
	bool in_stop_fn;	 /* set while the stopper runs a stop fn */
	void *fault_catch;	 /* tests: an armed expected-fault catch (trap.c) */
	/* A running-task move in flight (p->pi_lock); sched/core.c. */
	struct set_affinity_pending *migration_pending;
};

#define TASK_ON_RQ_QUEUED    1
#define TASK_ON_RQ_MIGRATING 2

/* `tp` (thread_info.h): valid in any context, on any hart, from the
 * first instruction (the boot hart starts as init_task). */
static inline struct task_struct *get_current(void)
{
	return __current_tp;
}
#define current get_current()
extern struct task_struct init_task; /* the boot hart's boot context: swapper/0 */

static inline int task_cpu(const struct task_struct *p)
{
	return READ_ONCE(p->thread_info.cpu);
}

extern bool scheduler_running;				/* sched_init() has run */
void sched_init(void);					/* boot hart, before secondaries start */
struct task_struct *cpu_idle_task(int cpu);		/* swapper/N, the hart's boot context */
__attribute__((noreturn)) void cpu_startup_entry(void); /* the idle loop */

void schedule(void); /* may sleep: set_current_state() first */
int wake_up_process(struct task_struct *p);
int wake_up_state(struct task_struct *p, unsigned int state);
void yield(void);
void scheduler_tick(void);	 /* the timer interrupt, every hart */
void sched_tick_check(void);	 /* irqs off: restart a stopped tick if needed */
void preempt_schedule_irq(void); /* trap exit, if the interrupt hit with interrupts on */
unsigned long sched_affinity_violations(void); /* ticks that saw a task off its mask */
/* Linux's smp_store_mb(): the state store, then a full fence, so the
 * sleeper's next load of its wake condition cannot pass the store (a C11
 * seq_cst store alone does not order a later relaxed load; GCC emits no
 * trailing fence for it). Pairs with the fence in try_to_wake_up(). */
#define set_current_state(s)                                                                       \
	do {                                                                                       \
		WRITE_ONCE(current->state, (s));                                                   \
		smp_mb();                                                                          \
	} while (0)
#define __set_current_state(s) WRITE_ONCE(current->state, (s))

int sched_setscheduler(struct task_struct *p, int policy, int prio);
int set_user_nice(struct task_struct *p, int nice);
int set_cpus_allowed_ptr(struct task_struct *p, const cpumask_t *mask);
int sched_setaffinity(int pid, const cpumask_t *mask);
int sched_set_stop_task(int cpu, struct task_struct *stop);
void sched_show(void); /* every hart's runqueue, by class */
void sched_show_task(const struct task_struct *p);
void sched_show_blocked(void); /* sleepers and where they wait (hang reports) */

void task_list_add(struct task_struct *p);     /* a pid, and onto the task list */
struct task_struct *find_task_by_pid(int pid); /* takes a reference */
void get_task_struct(struct task_struct *p);
void put_task_struct(struct task_struct *p);
__attribute__((noreturn)) void do_exit(int code);

/* Runqueue lengths per class, for the console and tests. */
struct rq_stats {
	int nr_running, nr_stop, nr_rt, nr_fair;
	struct task_struct *curr;
	unsigned long nr_switches;
	unsigned long active_pushed; /* tasks its stopper pushed away (active balancing) */
	unsigned long stopper_moved; /* running tasks its stopper moved (affinity changes) */
};
void sched_rq_stats(int cpu, struct rq_stats *st);

/* Global task list, for ps-style dumps. */
extern struct list_head task_list;
extern spinlock_t tasklist_lock;

#endif
