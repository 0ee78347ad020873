/*
 * fair.c - the fair class: weighted fair sharing by virtual runtime.
 *
 * Each runnable task's vruntime grows by its runtime scaled by
 * NICE_0_WEIGHT / weight; the task with the smallest vruntime runs next.
 * Runnable tasks wait in an AVL tree ordered by (vruntime, seq), so pick
 * is O(log n); the running task is kept out of the tree (cfs_rq->curr).
 *
 * A task's vruntime is relative to its runqueue's min_vruntime while it
 * is off a runqueue (asleep or being moved): dequeue subtracts it,
 * enqueue adds the destination's back, so moving between harts keeps the
 * task's lag. A sleeper's credit is capped at half a latency period.
 *
 * Load balancing: every BALANCE_TICKS each hart compares its number of
 * fair tasks with the busiest hart's and pulls queued ones (never the
 * running one, and only to a hart in their cpus_allowed). A hart about
 * to go idle also tries one pull (its balance hook, in the pick loop).
 */
#include "ktime.h"
#include "ipi.h"
#include "smp.h"
#include "tick.h"
#include "kernel/sched/internal.h"

#define NICE_0_WEIGHT	      1024
#define SCHED_LATENCY_NS      6000000ULL /* a period in which every task runs once */
#define MIN_GRANULARITY_NS    750000ULL
#define WAKEUP_GRANULARITY_NS 1000000ULL
#define BALANCE_TICKS	      4

/* Linux's sched_prio_to_weight: each nice step is ~1.25x the CPU share. */
static const unsigned long prio_to_weight[40] = {
	88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
	9548,  7620,  6100,  4904,  3906,  3121,  2501,	 1991,	1586,  1277,
	1024,  820,   655,   526,   423,   335,	  272,	 215,	172,   137,
	110,   87,    70,    56,    45,	   36,	  29,	 23,	18,    15,
};

unsigned long nice_to_weight(int nice)
{
	return prio_to_weight[nice + 20];
}

static inline struct task_struct *task_of(struct sched_entity *se)
{
	return container_of(se, struct task_struct, se);
}

static inline struct sched_entity *se_of(const struct avl_node *n)
{
	return container_of(n, struct sched_entity, node);
}

static bool entity_less(const struct avl_node *a, const struct avl_node *b)
{
	int64_t d = (int64_t)(se_of(a)->vruntime - se_of(b)->vruntime);
	return d < 0 || (d == 0 && se_of(a)->seq < se_of(b)->seq);
}

void init_cfs_rq(struct cfs_rq *cfs)
{
	cfs->root = NULL;
	cfs->leftmost = NULL;
	cfs->curr = NULL;
	cfs->min_vruntime = 0;
	cfs->load = 0;
	cfs->nr_running = 0;
}

static void tree_insert(struct cfs_rq *cfs, struct sched_entity *se)
{
	se->seq = ++cfs->seq;
	avl_insert(&cfs->root, &se->node, entity_less);
	se->on_tree = true;
	struct avl_node *first = avl_first(cfs->root);
	cfs->leftmost = first ? se_of(first) : NULL;
}

static void tree_erase(struct cfs_rq *cfs, struct sched_entity *se)
{
	avl_erase(&cfs->root, &se->node, entity_less);
	se->on_tree = false;
	struct avl_node *first = avl_first(cfs->root);
	cfs->leftmost = first ? se_of(first) : NULL;
}

static void update_min_vruntime(struct cfs_rq *cfs)
{
	uint64_t v = cfs->min_vruntime;
	bool have = false;
	if (cfs->curr) {
		v = cfs->curr->vruntime;
		have = true;
	}
	if (cfs->leftmost && (!have || (int64_t)(cfs->leftmost->vruntime - v) < 0))
		v = cfs->leftmost->vruntime;
	if ((int64_t)(v - cfs->min_vruntime) > 0)
		cfs->min_vruntime = v; /* never goes backwards */
}

static void update_curr_fair(struct rq *rq)
{
	struct cfs_rq *cfs = &rq->cfs;
	struct sched_entity *se = cfs->curr;
	if (!se)
		return;
	struct task_struct *p = task_of(se);
	uint64_t delta = rq->clock - p->exec_start;
	if ((int64_t)delta <= 0)
		return;
	p->exec_start = rq->clock;
	p->sum_exec_runtime += delta;
	se->vruntime += delta * NICE_0_WEIGHT / se->weight;
	update_min_vruntime(cfs);
}

/* The share of a latency period this entity should run before yielding. */
static uint64_t sched_slice(struct cfs_rq *cfs, struct sched_entity *se)
{
	uint64_t period = ns_to_ticks(SCHED_LATENCY_NS);
	uint64_t min_gran = ns_to_ticks(MIN_GRANULARITY_NS);
	if (cfs->nr_running * min_gran > period)
		period = cfs->nr_running * min_gran;
	return cfs->load ? period * se->weight / cfs->load : period;
}

static void enqueue_task_fair(struct rq *rq, struct task_struct *p, int flags)
{
	struct cfs_rq *cfs = &rq->cfs;
	struct sched_entity *se = &p->se;
	update_curr_fair(rq);
	/* vruntime is relative while off a runqueue: make it ours. */
	int64_t rel = (int64_t)se->vruntime;
	if (flags & ENQUEUE_WAKEUP) {
		int64_t credit = (int64_t)ns_to_ticks(SCHED_LATENCY_NS / 2);
		if (rel < -credit)
			rel = -credit;
	}
	if (flags & ENQUEUE_NEW)
		rel = 0;
	se->vruntime = cfs->min_vruntime + (uint64_t)rel;
	cfs->nr_running++;
	cfs->nr_migratable += p->nr_cpus_allowed > 1;
	cfs->load += se->weight;
	rq->nr_running++;
	tree_insert(cfs, se);
}

static void dequeue_task_fair(struct rq *rq, struct task_struct *p, int flags)
{
	struct cfs_rq *cfs = &rq->cfs;
	struct sched_entity *se = &p->se;
	update_curr_fair(rq);
	if (se == cfs->curr)
		cfs->curr = NULL;
	else
		tree_erase(cfs, se);
	cfs->nr_running--;
	cfs->nr_migratable -= p->nr_cpus_allowed > 1;
	cfs->load -= se->weight;
	rq->nr_running--;
	/* Relative to min_vruntime as it stood with this task still counted:
	 * once the task is gone, min_vruntime may jump to the next task's
	 * vruntime, and a leftmost task measured against that would carry a
	 * huge negative lag to its next runqueue and starve everyone there. */
	se->vruntime -= cfs->min_vruntime;
	/* min_vruntime never passes a queued task by more than a sleeper's
	 * credit (enqueue places no one lower), so nor can its lag. */
	WARN_ONCE((int64_t)se->vruntime < -(int64_t)ns_to_ticks(SCHED_LATENCY_NS / 2),
		  "fair: %s dequeued %ld ticks behind min_vruntime", p->comm, (long)se->vruntime);
	update_min_vruntime(cfs);
}

static void yield_task_fair(struct rq *rq)
{
	struct cfs_rq *cfs = &rq->cfs;
	update_curr_fair(rq);
	/* Go behind everyone queued here. */
	if (cfs->curr && cfs->root) {
		struct avl_node *n = cfs->root;
		while (n->right)
			n = n->right;
		if ((int64_t)(se_of(n)->vruntime - cfs->curr->vruntime) > 0)
			cfs->curr->vruntime = se_of(n)->vruntime + 1;
	}
}

static void check_preempt_curr_fair(struct rq *rq, struct task_struct *p)
{
	struct sched_entity *curr = rq->cfs.curr;
	if (!curr)
		return;
	update_curr_fair(rq);
	int64_t lead = (int64_t)(curr->vruntime - p->se.vruntime);
	if (lead > (int64_t)ns_to_ticks(WAKEUP_GRANULARITY_NS))
		resched_curr(rq);
}

static void set_next_task_fair(struct rq *rq, struct task_struct *p)
{
	struct cfs_rq *cfs = &rq->cfs;
	if (p->se.on_tree)
		tree_erase(cfs, &p->se);
	cfs->curr = &p->se;
	p->exec_start = rq->clock;
	p->se.slice_start = p->sum_exec_runtime;
}

static int pull_fair_tasks(struct rq *this_rq, struct rq *busiest, int max_pull);
static struct rq *find_busiest_rq(int this_cpu);

/*
 * Called from the pick loop when no fair task is queued here: try to
 * pull one. Drops and retakes this_rq's lock; returns 1 if the lock was
 * dropped (the pick loop must then start over), 0 otherwise.
 */
static int balance_fair(struct rq *rq)
{
	/* At most one attempt per tick: a hart that keeps going idle must not
	 * keep hammering the busiest hart's lock. */
	if (rq->newidle_stamp == jiffies)
		return 0;
	rq->newidle_stamp = jiffies;
	struct rq *busiest = find_busiest_rq(rq->cpu);
	if (!busiest)
		return 0;
	spin_unlock(&rq->lock);
	if (double_rq_trylock_busiest(rq, busiest)) {
		pull_fair_tasks(rq, busiest, 1);
		spin_unlock(&busiest->lock);
	} else {
		spin_lock(&rq->lock); /* busiest is busy: not worth waiting for */
	}
	update_rq_clock(rq);
	return 1;
}

static struct task_struct *pick_next_task_fair(struct rq *rq)
{
	struct cfs_rq *cfs = &rq->cfs;
	if (!cfs->nr_running) {
		/* The lock was dropped: if anything got queued meanwhile (pulled,
		 * or woken here by another hart, of any class), rescan from the
		 * top. Otherwise there is nothing: no retry, so no livelock. */
		if (balance_fair(rq) && rq->nr_running)
			return RETRY_TASK;
		return NULL;
	}
	struct task_struct *p = task_of(cfs->leftmost);
	set_next_task_fair(rq, p);
	return p;
}

static void put_prev_task_fair(struct rq *rq, struct task_struct *p)
{
	struct cfs_rq *cfs = &rq->cfs;
	update_curr_fair(rq);
	if (cfs->curr == &p->se) {
		cfs->curr = NULL;
		if (task_on_rq_queued(p))
			tree_insert(cfs, &p->se);
	}
}

/* Wakeups stay where they ran last (cache), unless that hart is busier
 * than an idle allowed one. */
static int select_task_rq_fair(struct task_struct *p, int prev_cpu, int flags)
{
	if (task_allowed_on(p, prev_cpu) && READ_ONCE(cpu_rq(prev_cpu)->nr_running) == 0)
		return prev_cpu;
	int best = select_fallback_rq(p);
	if (task_allowed_on(p, prev_cpu) &&
	    READ_ONCE(cpu_rq(best)->nr_running) >= READ_ONCE(cpu_rq(prev_cpu)->nr_running))
		return prev_cpu;
	return best;
}

static void task_tick_fair(struct rq *rq, struct task_struct *p)
{
	struct cfs_rq *cfs = &rq->cfs;
	update_curr_fair(rq);
	if (cfs->nr_running > 1 &&
	    p->sum_exec_runtime - p->se.slice_start > sched_slice(cfs, &p->se))
		resched_curr(rq);
}

/* ---- load balancing ---- */

bool can_migrate_task(const struct task_struct *p, int dst_cpu)
{
	return task_allowed_on(p, dst_cpu) && !READ_ONCE(p->on_cpu) && p->se.on_tree;
}

/*
 * The hart with the most fair tasks, if it has at least two more than us
 * and any of its tasks may run elsewhere. Lock-free reads: a stale answer
 * costs one useless lock round, and pinned tasks never attract a puller
 * (a busy hart full of pinned tasks would otherwise have every idle hart
 * queueing on its lock).
 */
static struct rq *find_busiest_rq(int this_cpu)
{
	unsigned int mine = READ_ONCE(cpu_rq(this_cpu)->cfs.nr_running), most = mine + 1;
	struct rq *busiest = NULL;
	int cpu;
	for_each_online_cpu(cpu) {
		unsigned int n = READ_ONCE(cpu_rq(cpu)->cfs.nr_running);
		if (cpu != this_cpu && n > most && READ_ONCE(cpu_rq(cpu)->cfs.nr_migratable)) {
			most = n;
			busiest = cpu_rq(cpu);
		}
	}
	return busiest;
}

/* Both locks held. Move up to max_pull queued fair tasks to this_rq. */
static int pull_fair_tasks(struct rq *this_rq, struct rq *busiest, int max_pull)
{
	int moved = 0;
	update_rq_clock(busiest);
	update_rq_clock(this_rq);
	while (moved < max_pull) {
		struct task_struct *found = NULL;
		/* In-order walk is not needed: take the first movable entity
		 * found from the left (the most deserving queued task). */
		struct avl_node *stack[48], *n = busiest->cfs.root;
		int sp = 0;
		while ((n || sp) && !found) {
			while (n && sp < 48) {
				stack[sp++] = n;
				n = n->left;
			}
			n = stack[--sp];
			if (can_migrate_task(task_of(se_of(n)), this_rq->cpu))
				found = task_of(se_of(n));
			n = n->right;
		}
		if (!found)
			break;
		deactivate_task(busiest, found, DEQUEUE_MIGRATE);
		set_task_cpu(found, this_rq->cpu);
		activate_task(this_rq, found, ENQUEUE_MIGRATED);
		check_preempt_curr(this_rq, found);
		moved++;
	}
	return moved;
}

void fair_update_migratable(struct rq *rq, struct task_struct *p, int old_nr_allowed)
{
	if (p->sched_class == &fair_sched_class && task_on_rq_queued(p))
		rq->cfs.nr_migratable += (p->nr_cpus_allowed > 1) - (old_nr_allowed > 1);
}

/*
 * Active balancing: the busiest hart's running task cannot be pulled
 * while it runs, so the tick's balance (when nothing queued could move)
 * queues a work on that hart's stopper. The stopper preempts the task,
 * which is then queued like any other, and pulls one task to push_cpu.
 * Runs on the busiest hart's stopper, as Linux's does.
 */
static int active_load_balance_cpu_stop(void *data)
{
	struct rq *busiest = data, *target;
	int push_cpu = READ_ONCE(busiest->push_cpu);
	local_irq_disable();
	target = cpu_rq(push_cpu);
	double_rq_lock(busiest, target);
	update_rq_clock(busiest);
	update_rq_clock(target);
	if (cpu_online(push_cpu) && busiest->cfs.nr_running > target->cfs.nr_running + 1)
		busiest->active_pushed += pull_fair_tasks(target, busiest, 1);
	busiest->active_balance = 0;
	double_rq_unlock(busiest, target);
	local_irq_enable();
	return 0;
}

static bool active_balance(struct rq *busiest, int this_cpu)
{
	bool start = false;
	if (!spin_trylock(&busiest->lock)) /* from the tick: never queue on it */
		return false;
	struct task_struct *curr = busiest->curr;
	if (!busiest->active_balance && curr->sched_class == &fair_sched_class &&
	    task_allowed_on(curr, this_cpu) && busiest->cfs.nr_running >= 2) {
		busiest->active_balance = 1;
		busiest->push_cpu = this_cpu;
		start = true;
	}
	spin_unlock(&busiest->lock);
	if (start && !stop_one_cpu_nowait(busiest->cpu, active_load_balance_cpu_stop, busiest,
					  &busiest->active_balance_work))
		WRITE_ONCE(busiest->active_balance, 0); /* never leave the flag set */
	return start;
}

/* Pull toward rq from the busiest hart; rq->lock not held, interrupts off. */
static void balance_from_busiest(struct rq *rq)
{
	struct rq *busiest = find_busiest_rq(rq->cpu);
	if (!busiest)
		return;
	if (!double_rq_trylock_busiest(rq, busiest))
		return; /* someone else is at it: try again next period */
	int imbalance = ((int)busiest->cfs.nr_running - (int)rq->cfs.nr_running) / 2;
	int moved = imbalance > 0 ? pull_fair_tasks(rq, busiest, imbalance) : 0;
	double_rq_unlock(rq, busiest);
	/* Nothing queued could move: maybe the running task can (pushed by
	 * the busiest hart's stopper, see active_balance()). */
	if (!moved && imbalance > 0)
		active_balance(busiest, rq->cpu);
}

/*
 * Tickless idle harts have no tick to balance from: a hart with fair
 * tasks waiting (and one that may move) asks one of them, by an IPI, to
 * run a balance pass now (Linux's nohz idle balance kick, one hart at a
 * time). At most once per balance period of the kicking hart.
 */
static void nohz_balancer_kick(struct rq *rq)
{
	if (rq->cfs.nr_running < 2 || !READ_ONCE(rq->cfs.nr_migratable))
		return;
	int cpu;
	for_each_cpu(cpu, &nohz_idle_mask) {
		if (cpu == rq->cpu || !cpu_online(cpu))
			continue;
		if (!__atomic_exchange_n(&cpu_rq(cpu)->nohz_balance_kick, 1, __ATOMIC_ACQ_REL))
			send_ipi(cpu, IPI_KICK);
		return;
	}
}

/* From the tick, rq->lock not held, interrupts off. */
void sched_balance_tick(struct rq *rq)
{
	if ((long)(jiffies - rq->balance_tick) < 0)
		return;
	rq->balance_tick = jiffies + BALANCE_TICKS;
	balance_from_busiest(rq);
	nohz_balancer_kick(rq);
}

bool nohz_balance_pending(void)
{
	return READ_ONCE(this_rq()->nohz_balance_kick);
}

/* The idle loop, interrupts on: a busy hart kicked us (nohz_balancer_kick()). */
void nohz_idle_balance(void)
{
	struct rq *rq = this_rq();
	if (!READ_ONCE(rq->nohz_balance_kick))
		return;
	unsigned long flags = local_irq_save();
	WRITE_ONCE(rq->nohz_balance_kick, 0);
	balance_from_busiest(rq);
	local_irq_restore(flags);
}

const struct sched_class fair_sched_class = {
	.next = &idle_sched_class,
	.name = "fair",
	.enqueue_task = enqueue_task_fair,
	.dequeue_task = dequeue_task_fair,
	.yield_task = yield_task_fair,
	.check_preempt_curr = check_preempt_curr_fair,
	.pick_next_task = pick_next_task_fair,
	.put_prev_task = put_prev_task_fair,
	.set_next_task = set_next_task_fair,
	.balance = balance_fair,
	.select_task_rq = select_task_rq_fair,
	.task_tick = task_tick_fair,
	.update_curr = update_curr_fair,
};
