/*
 * runqueue.c - the runqueues' locks and what moves tasks on and off them:
 * task_rq_lock(), double_rq_lock(), activate_task()/deactivate_task(),
 * set_task_cpu(), moving a queued task, choosing a fallback hart.
 *
 * Locking (outer to inner): p->pi_lock, then rq->lock; two rq->locks in
 * ascending CPU order, always with interrupts off. A task's ->cpu changes
 * only with its pi_lock held and it off every runqueue (wakeup), or with
 * its runqueue's lock held while it is TASK_ON_RQ_MIGRATING (moving a
 * queued task). The scheduler proper is core.c.
 */
#include "cpu_wait.h"
#include "ipi.h"
#include "smp.h"
#include "tick.h"
#include "kernel/sched/internal.h"

/* Lock p's runqueue, following p if it moves meanwhile. p->pi_lock held. */
struct rq *__task_rq_lock(struct task_struct *p)
{
	for (;;) {
		struct rq *rq = task_rq(p);
		spin_lock(&rq->lock);
		if (rq == task_rq(p) && READ_ONCE(p->on_rq) != TASK_ON_RQ_MIGRATING)
			return rq;
		spin_unlock(&rq->lock);
		smp_cond_load_acquire(&p->on_rq, VAL != TASK_ON_RQ_MIGRATING);
	}
}

/**
 * task_rq_lock() - lock a task and the runqueue it belongs to.
 * @p: the task.
 * @flags: where the caller's interrupt state is saved, for task_rq_unlock().
 *
 * Takes p->pi_lock with interrupts saved and disabled, then the lock of p's runqueue. If p
 * changes runqueue meanwhile, or a move of it is in flight (TASK_ON_RQ_MIGRATING), the
 * lock is dropped and taken again where p is going, so on return the lock held is p's
 * runqueue's. Until task_rq_unlock(), p cannot be woken, moved, or have its class,
 * priority or allowed mask changed by anyone else.
 *
 * Context: any context, any hart; does not sleep, but may spin (then halt, cpu_wait.h)
 * until another hart finishes moving p. Takes p->pi_lock and the rq lock; the caller holds
 * neither, nor any other rq lock. Returns with interrupts and preemption off.
 * Return: p's runqueue, locked.
 */
struct rq *task_rq_lock(struct task_struct *p, unsigned long *flags)
{
	*flags = spin_lock_irqsave(&p->pi_lock);
	return __task_rq_lock(p);
}

/**
 * task_rq_unlock() - release what task_rq_lock() took.
 * @rq: the runqueue locked: the one task_rq_lock() returned, or the one a move of p
 *      (move_queued_task()) left locked in its place.
 * @p: the task whose pi_lock is held.
 * @flags: the interrupt state task_rq_lock() saved.
 *
 * Drops rq->lock, then p->pi_lock, restoring the saved interrupt state. If that leaves
 * the caller preemptible and a reschedule became due meanwhile (say, the section woke a
 * task that should run here first), the caller is preempted on the way out.
 *
 * Context: the caller holds p->pi_lock and @rq's lock, from task_rq_lock().
 * Return: Nothing.
 */
void task_rq_unlock(struct rq *rq, struct task_struct *p, unsigned long flags)
{
	spin_unlock(&rq->lock);
	spin_unlock_irqrestore(&p->pi_lock, flags);
}

/**
 * double_rq_lock() - lock two runqueues without risking an ABBA deadlock.
 * @a: one runqueue.
 * @b: the other; may be @a.
 *
 * Takes the two locks in ascending CPU order, the kernel's rule for holding two runqueue
 * locks, whatever the argument order, so two harts locking the same pair cannot deadlock.
 * When @a and @b are the same runqueue its lock is taken once.
 *
 * Context: interrupts must be off (a runqueue lock is never taken with them on); this is
 * not checked. The caller holds neither lock; it may hold a p->pi_lock (outer to both).
 * Spins, never sleeps.
 * Return: Nothing.
 */
void double_rq_lock(struct rq *a, struct rq *b)
{
	if (a == b) {
		spin_lock(&a->lock);
	} else if (a->cpu < b->cpu) {
		spin_lock(&a->lock);
		spin_lock(&b->lock);
	} else {
		spin_lock(&b->lock);
		spin_lock(&a->lock);
	}
}

/**
 * double_rq_trylock_busiest() - lock this hart's runqueue and, if free, the busiest one.
 * @this_rq: the runqueue of the hart that balances.
 * @busiest: the runqueue to pull from; must not be @this_rq.
 *
 * For balancing, which is optional work: take this_rq's lock (spinning if need be) and
 * busiest's only if it is free right now, in the same order as double_rq_lock(), so it
 * cannot deadlock against it. Why not just wait: on a host running many vCPUs on few
 * cores, harts that all pick the same busiest hart queue on its lock with interrupts off,
 * and each hand-off to a waiter whose vCPU the host does not run costs a host wake-up.
 * With the ticket lock the convoy outgrew what drained (SMP 32 hung for minutes); with
 * the queued lock it drains, but slowly: at 128 harts the busiest hart's own stopper
 * waited 1.1 s behind the balancers for its runqueue lock.
 *
 * Context: interrupts must be off. The caller holds neither lock. @busiest must differ
 * from @this_rq: with a lower CPU than this_rq its lock is tried first and this_rq's is
 * then taken with a plain spin_lock(), a recursion if the two were the same lock.
 * Return: true with both locks held; false, holding neither lock, when busiest's is taken.
 */
bool double_rq_trylock_busiest(struct rq *this_rq, struct rq *busiest)
{
	if (this_rq->cpu < busiest->cpu) {
		spin_lock(&this_rq->lock);
		if (spin_trylock(&busiest->lock))
			return true;
		spin_unlock(&this_rq->lock);
		return false;
	}
	if (!spin_trylock(&busiest->lock))
		return false;
	spin_lock(&this_rq->lock);
	return true;
}

/**
 * double_rq_unlock() - release two runqueue locks.
 * @a: one runqueue.
 * @b: the other; may be @a, whose lock is then released once.
 *
 * Undoes double_rq_lock(), or a double_rq_trylock_busiest() that returned true.
 *
 * Context: the caller holds both locks, with interrupts off; they stay off.
 * Return: Nothing.
 */
void double_rq_unlock(struct rq *a, struct rq *b)
{
	spin_unlock(&a->lock);
	if (a != b)
		spin_unlock(&b->lock);
}

/**
 * activate_task() - queue a task on a runqueue.
 * @rq: the runqueue; its hart is the one p's ->cpu names.
 * @p: the task: on no runqueue, or TASK_ON_RQ_MIGRATING on its way to @rq.
 * @flags: ENQUEUE_WAKEUP, ENQUEUE_MIGRATED or ENQUEUE_NEW, for p's class.
 *
 * Enqueues p in its class first and only then publishes p->on_rq = TASK_ON_RQ_QUEUED
 * (a release), so whoever sees p queued sees the class's books updated. If p was
 * TASK_ON_RQ_MIGRATING, the harts waiting in __task_rq_lock() for the move to end are
 * kicked. Does not check for preemption: callers follow with check_preempt_curr().
 *
 * Context: rq->lock held (interrupts off), rq->clock updated (update_rq_clock()).
 * Return: Nothing.
 */
void activate_task(struct rq *rq, struct task_struct *p, int flags)
{
	p->sched_class->enqueue_task(rq, p, flags);
	bool was_migrating = p->on_rq == TASK_ON_RQ_MIGRATING;
	smp_store_release(&p->on_rq, TASK_ON_RQ_QUEUED);
	if (was_migrating)
		smp_cond_wake(&p->on_rq); /* __task_rq_lock() waiters */
	/* A second task on a busy hart whose tick is off (it left idle for
	 * one task): it needs the tick now, to end slices. */
	if (rq->nr_running >= 2 && rq->curr != rq->idle &&
	    READ_ONCE(per_cpu(tick_stopped, rq->cpu))) {
		if (rq->cpu == smp_processor_id())
			tick_nohz_restart();
		else
			send_ipi(rq->cpu, IPI_KICK); /* sched_tick_check() there */
	}
}

/**
 * deactivate_task() - take a task off its runqueue.
 * @rq: the runqueue p is queued on.
 * @p: the queued task; may be rq's running task, which keeps running until the next pick.
 * @flags: DEQUEUE_SLEEP when p goes to sleep; DEQUEUE_MIGRATE when it is being moved to
 *         another runqueue; 0 for a dequeue that is undone under the same lock.
 *
 * Sets p->on_rq first, then dequeues p from its class. For a move it is set to
 * TASK_ON_RQ_MIGRATING, which makes anyone locking p's runqueue (__task_rq_lock()) wait
 * until activate_task() lands p on the new one; otherwise to 0.
 *
 * Context: rq->lock held (interrupts off), rq->clock updated.
 * Return: Nothing.
 */
void deactivate_task(struct rq *rq, struct task_struct *p, int flags)
{
	WRITE_ONCE(p->on_rq, (flags & DEQUEUE_MIGRATE) ? TASK_ON_RQ_MIGRATING : 0);
	p->sched_class->dequeue_task(rq, p, flags);
}

/**
 * set_task_cpu() - set the hart a task is queued on, or will wake on.
 * @p: the task; not running: queued and being moved, asleep, or new.
 * @cpu: the hart.
 *
 * Updates p's ->cpu and the per-cpu offset that goes with it. p must not be running: a
 * running task reads its own hart from this field (smp_processor_id()).
 *
 * Context: with p->pi_lock held and p off every runqueue (a wakeup, or an asleep task
 * whose allowed mask changed); or with the lock of p's runqueue held and p
 * TASK_ON_RQ_MIGRATING (moving a queued task); or before p is visible to anyone (creation,
 * boot). Takes no lock.
 * Return: Nothing.
 */
void set_task_cpu(struct task_struct *p, int cpu)
{
	p->thread_info.pcpu_offset = __per_cpu_offset[cpu];
	WRITE_ONCE(p->thread_info.cpu, cpu);
}

/**
 * task_allowed_on() - may a task run on a hart?
 * @p: the task.
 * @cpu: the hart.
 *
 * Reads p's allowed mask and the online mask without locks.
 *
 * Context: any; the answer is stable only while the caller holds p->pi_lock or the lock
 * of p's runqueue (set_cpus_allowed_ptr() holds both to change the mask).
 * Return: true if @cpu is in p's allowed mask and online; false otherwise.
 */
bool task_allowed_on(const struct task_struct *p, int cpu)
{
	return cpumask_test_cpu(cpu, &p->cpus_allowed) && cpu_online(cpu);
}

/**
 * select_fallback_rq() - the least loaded hart a task may run on.
 * @p: the task.
 *
 * Used when prev_cpu will not do: the hart a class chose, or the one p is on, is not
 * allowed (or, for a fair wakeup, busier than an idle allowed one). Loads are each allowed
 * online hart's nr_running, read without its lock: a stale answer costs balance only.
 *
 * Context: any; takes no lock. The caller holds p->pi_lock or the lock of p's runqueue,
 * so that p's allowed mask does not change meanwhile.
 * Return: the allowed online hart with the fewest queued tasks (the lowest-numbered of
 * equals); task_cpu(p) if no allowed hart is online, which then is not an allowed one.
 */
int select_fallback_rq(struct task_struct *p)
{
	int cpu, best = -1;
	unsigned int best_load = ~0U;
	for_each_cpu(cpu, &p->cpus_allowed) {
		if (!cpu_online(cpu))
			continue;
		unsigned int load = READ_ONCE(cpu_rq(cpu)->nr_running);
		if (load < best_load) {
			best = cpu;
			best_load = load;
		}
	}
	return best >= 0 ? best : task_cpu(p);
}

/**
 * move_queued_task() - move a queued, not running, task to another hart's runqueue.
 * @rq: p's runqueue, locked.
 * @p: the task; queued on @rq and not running.
 * @new_cpu: where to move it; meant to be an allowed online hart (not checked); may be
 *           rq's own hart.
 *
 * Dequeues p as TASK_ON_RQ_MIGRATING, sets its ->cpu, drops rq->lock, takes new_cpu's,
 * enqueues p there and checks whether it preempts that hart's running task. While the
 * locks change hands, anyone locking p's runqueue waits in __task_rq_lock() for the move
 * to end.
 *
 * Context: called with rq->lock held (interrupts off, rq->clock updated) and p->pi_lock,
 * which keeps p's mask and wakeups out. The caller must not hold new_cpu's lock too: it is
 * taken here, so a caller holding both runqueue locks (double_rq_lock()) would recurse on
 * it; the balancer moves tasks under both locks without this helper (pull_fair_tasks()).
 * Return: new_cpu's runqueue, locked instead of @rq (the caller unlocks that one).
 */
struct rq *move_queued_task(struct rq *rq, struct task_struct *p, int new_cpu)
{
	deactivate_task(rq, p, DEQUEUE_MIGRATE);
	set_task_cpu(p, new_cpu);
	spin_unlock(&rq->lock);
	rq = cpu_rq(new_cpu);
	spin_lock(&rq->lock);
	update_rq_clock(rq);
	activate_task(rq, p, ENQUEUE_MIGRATED);
	check_preempt_curr(rq, p);
	return rq;
}
