/*
 * policy.c - changing a task's scheduling class and priority:
 * sched_setscheduler() (SCHED_FIFO/SCHED_RR/SCHED_NORMAL) and
 * set_user_nice(). Linux keeps these in kernel/sched/syscalls.c.
 *
 * Both take p->pi_lock then p's rq->lock (task_rq_lock()), so p cannot
 * wake, move or change class meanwhile.
 */
#include "kernel/sched/internal.h"

/* Change p's class/priority under its rq lock, Linux's dequeue-change-
 * enqueue dance (put_prev/set_next around it when p is running). */
static void __setscheduler(struct rq *rq, struct task_struct *p, int policy, int prio, int nice)
{
	/* "Current but not queued" only happens while its hart is inside
	 * __schedule() with the lock dropped (fair's balance): it has been put
	 * back already and is going to sleep, so it is not running for us. */
	bool queued = task_on_rq_queued(p), running = task_current(rq, p) && queued;
	const struct sched_class *old = p->sched_class;
	if (queued)
		deactivate_task(rq, p, 0);
	if (running)
		old->put_prev_task(rq, p);

	p->policy = policy;
	p->static_prio = NICE_TO_PRIO(nice);
	p->se.weight = nice_to_weight(nice);
	if (policy == SCHED_FIFO || policy == SCHED_RR) {
		p->rt_priority = prio;
		p->prio = MAX_RT_PRIO - 1 - prio;
		p->sched_class = &rt_sched_class;
	} else {
		p->rt_priority = 0;
		p->prio = p->static_prio;
		p->sched_class = &fair_sched_class;
	}
	if (queued)
		activate_task(rq, p, 0);
	if (running)
		p->sched_class->set_next_task(rq, p);
	if (queued || running) {
		if (running)
			resched_curr(rq); /* let the pick loop decide afresh */
		else
			check_preempt_curr(rq, p);
	}
}

/**
 * sched_setscheduler() - change a task's scheduling policy and rt priority.
 * @p: the task.
 * @policy: SCHED_FIFO, SCHED_RR or SCHED_NORMAL.
 * @prio: the rt priority for SCHED_FIFO and SCHED_RR, 1 (lowest) to MAX_RT_PRIO - 1
 *        (highest); 0 for SCHED_NORMAL.
 *
 * Moves p to the rt class at that priority, or to the fair class at its nice level (kept
 * while it was rt). A queued p is dequeued, changed and queued again, at the tail of its
 * new queue; a running p is also put back before the change and set as its class's
 * current after it, and its hart is told to reschedule so that the pick loop decides
 * afresh; a queued p that is not running may preempt the running task. A sleeping p just
 * changes, for its next wakeup.
 *
 * Context: any context; does not sleep. Takes p->pi_lock and the rq lock (task_rq_lock());
 * the caller holds neither, nor any other rq lock. A preemptible caller may be preempted
 * when they are dropped.
 * Return: 0 on success; -EINVAL if @p is NULL or a stop or idle task, if @policy is not
 * one of the three (SCHED_IDLE is refused too), or if @prio is out of range for @policy.
 */
int sched_setscheduler(struct task_struct *p, int policy, int prio)
{
	unsigned long flags;
	if (!p || p->sched_class == &stop_sched_class || p->sched_class == &idle_sched_class)
		return -EINVAL;
	if (policy == SCHED_FIFO || policy == SCHED_RR) {
		if (prio < 1 || prio > MAX_RT_PRIO - 1)
			return -EINVAL;
	} else if (policy == SCHED_NORMAL) {
		if (prio != 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	struct rq *rq = task_rq_lock(p, &flags);
	update_rq_clock(rq);
	__setscheduler(rq, p, policy, prio, PRIO_TO_NICE(p->static_prio));
	task_rq_unlock(rq, p, flags);
	return 0;
}

/**
 * set_user_nice() - change a task's nice level.
 * @p: the task.
 * @nice: the new nice, -20 (the largest weight) to 19 (the smallest).
 *
 * Sets p's static priority and fair weight. A fair task is re-queued with its new weight,
 * as sched_setscheduler() does, which may preempt or reschedule. For an rt task the nice
 * is only recorded, for when it returns to the fair class: nice does not order rt tasks,
 * and a dequeue/enqueue would send it to the tail of its rt queue (Linux does the same).
 *
 * Context: any context; does not sleep. Takes p->pi_lock and the rq lock (task_rq_lock());
 * the caller holds neither, nor any other rq lock. A preemptible caller may be preempted
 * when they are dropped.
 * Return: 0 on success; -EINVAL if @p is NULL, @nice is outside -20..19, or @p is a stop
 * or idle task.
 */
int set_user_nice(struct task_struct *p, int nice)
{
	unsigned long flags;
	if (!p || nice < -20 || nice > 19 || p->sched_class == &stop_sched_class ||
	    p->sched_class == &idle_sched_class)
		return -EINVAL;
	struct rq *rq = task_rq_lock(p, &flags);
	if (p->sched_class == &rt_sched_class) {
		/* Nice does not order rt tasks: record it for when the task
		 * returns to fair, and leave its place in its rt queue alone
		 * (a dequeue/enqueue would send it to the tail), as Linux does. */
		p->static_prio = NICE_TO_PRIO(nice);
		p->se.weight = nice_to_weight(nice);
	} else {
		update_rq_clock(rq);
		__setscheduler(rq, p, p->policy, p->rt_priority, nice);
	}
	task_rq_unlock(rq, p, flags);
	return 0;
}
