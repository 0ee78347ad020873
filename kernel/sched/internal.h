/*
 * kernel/sched/internal.h - the scheduler's insides: runqueues and classes.
 *
 * One struct rq per hart, guarded by rq->lock (interrupts off). The
 * classes are linked highest first; for_each_class() walks them in that
 * order, which is the whole of the "stop class preempts everything" rule:
 * pick_next_task() returns the first task a class offers.
 */
#ifndef HARTSTOP_SCHED_INTERNAL_H
#define HARTSTOP_SCHED_INTERNAL_H

#include "kernel.h"
#include "sched.h"
#include "stop_machine.h"

struct cfs_rq {
	struct avl_node *root;	       /* runnable fair tasks but curr, by vruntime */
	struct sched_entity *leftmost; /* cached minimum of the tree */
	struct sched_entity *curr;     /* the fair task on the hart, out of the tree */
	uint64_t min_vruntime;	       /* monotonic floor of every vruntime here */
	unsigned long load;	       /* sum of queued weights (curr included) */
	unsigned int nr_running;       /* queued fair tasks, curr included */
	unsigned int nr_migratable;    /* of those, allowed on more than one hart */
	uint64_t seq;
};

struct rt_rq {
	unsigned long bitmap[2]; /* bit p: queue[p] is not empty */
	struct list_head queue[MAX_RT_PRIO];
	unsigned int nr_running;
};

struct rq {
	spinlock_t lock;
	int cpu;
	unsigned int nr_running; /* every queued task but idle */
	struct task_struct *curr, *idle, *stop;
	struct cfs_rq cfs;
	struct rt_rq rt;
	uint64_t clock; /* time CSR, updated under the lock */
	unsigned long nr_switches;
	unsigned long balance_tick;  /* jiffies of the next periodic balance */
	unsigned long newidle_stamp; /* jiffies of the last idle-time pull attempt */
	int active_balance;	     /* a push of the running task is queued (rq->lock) */
	int push_cpu;		     /* where the active balance pushes to */
	int nohz_balance_kick;	     /* a busy hart asked this tickless idle one to balance */
	unsigned long active_pushed; /* tasks moved by active balancing */
	unsigned long stopper_moved; /* running tasks migration_cpu_stop moved off this hart */
	struct cpu_stop_work active_balance_work;
};

DECLARE_PER_CPU(struct rq, runqueues);
#define cpu_rq(cpu)	 (&per_cpu(runqueues, (cpu)))
#define this_rq()	 this_cpu_ptr(&runqueues)
#define task_rq(p)	 cpu_rq(task_cpu(p))

#define ENQUEUE_WAKEUP	 0x01
#define ENQUEUE_MIGRATED 0x02
#define ENQUEUE_NEW	 0x04
#define DEQUEUE_SLEEP	 0x01
#define DEQUEUE_MIGRATE	 0x02

#define RETRY_TASK	 ((struct task_struct *)-1UL)

struct sched_class {
	const struct sched_class *next; /* the next lower class */
	const char *name;
	void (*enqueue_task)(struct rq *rq, struct task_struct *p, int flags);
	void (*dequeue_task)(struct rq *rq, struct task_struct *p, int flags);
	void (*yield_task)(struct rq *rq);
	void (*check_preempt_curr)(struct rq *rq, struct task_struct *p);
	/* Return the task to run, made the class's current; or NULL; or
	 * RETRY_TASK when the class's balance hook dropped rq->lock and the
	 * walk must start again from the highest class. */
	struct task_struct *(*pick_next_task)(struct rq *rq);
	void (*put_prev_task)(struct rq *rq, struct task_struct *p);
	void (*set_next_task)(struct rq *rq, struct task_struct *p);
	/* Pull work from elsewhere before picking (may drop rq->lock). */
	int (*balance)(struct rq *rq);
	int (*select_task_rq)(struct task_struct *p, int prev_cpu, int flags);
	void (*task_tick)(struct rq *rq, struct task_struct *p);
	void (*update_curr)(struct rq *rq);
};

extern const struct sched_class stop_sched_class, rt_sched_class, fair_sched_class,
	idle_sched_class;
#define sched_class_highest   (&stop_sched_class)
#define for_each_class(class) for (class = sched_class_highest; class; class = class->next)

/* Is class a above class b? (walk order) */
static inline bool sched_class_above(const struct sched_class *a, const struct sched_class *b)
{
	for (const struct sched_class *c = a->next; c; c = c->next)
		if (c == b)
			return true;
	return false;
}

static inline bool task_on_rq_queued(const struct task_struct *p)
{
	return p->on_rq == TASK_ON_RQ_QUEUED;
}

static inline bool task_current(const struct rq *rq, const struct task_struct *p)
{
	return rq->curr == p;
}

static inline void update_rq_clock(struct rq *rq)
{
	rq->clock = get_cycles();
}

/* core.c */
void resched_curr(struct rq *rq);
void check_preempt_curr(struct rq *rq, struct task_struct *p);

/* runqueue.c */
void activate_task(struct rq *rq, struct task_struct *p, int flags);
void deactivate_task(struct rq *rq, struct task_struct *p, int flags);
void set_task_cpu(struct task_struct *p, int cpu);
void double_rq_lock(struct rq *a, struct rq *b);
void double_rq_unlock(struct rq *a, struct rq *b);
bool double_rq_trylock_busiest(struct rq *this_rq, struct rq *busiest);
struct rq *__task_rq_lock(struct task_struct *p); /* p->pi_lock held */
struct rq *task_rq_lock(struct task_struct *p, unsigned long *flags);
void task_rq_unlock(struct rq *rq, struct task_struct *p, unsigned long flags);
bool task_allowed_on(const struct task_struct *p, int cpu);
int select_fallback_rq(struct task_struct *p);
struct rq *move_queued_task(struct rq *rq, struct task_struct *p, int new_cpu);

/* fair.c */
void init_cfs_rq(struct cfs_rq *cfs);
unsigned long nice_to_weight(int nice);
void sched_balance_tick(struct rq *rq);
bool nohz_balance_pending(void); /* idle loop, irqs off */
void nohz_idle_balance(void);	 /* idle loop: balance if a busy hart asked */
bool can_migrate_task(const struct task_struct *p, int dst_cpu);
/* p's allowed mask changes while it may be queued on rq (rq->lock held). */
void fair_update_migratable(struct rq *rq, struct task_struct *p, int old_nr_allowed);

/* rt.c */
void init_rt_rq(struct rt_rq *rt);

#endif
