/*
 * stop_task.c - the stop class: the highest, at most one task per hart.
 *
 * The task is the hart's stopper (migration/N), installed by
 * sched_set_stop_task(). Its "queue" is the task's own on_rq flag: pick
 * returns it whenever it is runnable, it never migrates, has no time
 * slice and nothing preempts it.
 */
#include "kernel/sched/internal.h"

static void update_curr_stop(struct rq *rq)
{
	struct task_struct *curr = rq->curr;
	curr->sum_exec_runtime += rq->clock - curr->exec_start;
	curr->exec_start = rq->clock;
}

static void enqueue_task_stop(struct rq *rq, struct task_struct *p, int flags)
{
	rq->nr_running++;
}

static void dequeue_task_stop(struct rq *rq, struct task_struct *p, int flags)
{
	rq->nr_running--;
}

static void check_preempt_curr_stop(struct rq *rq, struct task_struct *p)
{
	/* One stop task per hart: nothing of this class preempts it. */
}

static struct task_struct *pick_next_task_stop(struct rq *rq)
{
	struct task_struct *stop = rq->stop;
	if (!stop || !task_on_rq_queued(stop))
		return NULL;
	stop->exec_start = rq->clock;
	return stop;
}

static void put_prev_task_stop(struct rq *rq, struct task_struct *p)
{
	update_curr_stop(rq);
}

static void set_next_task_stop(struct rq *rq, struct task_struct *p)
{
	p->exec_start = rq->clock;
}

static int select_task_rq_stop(struct task_struct *p, int prev_cpu, int flags)
{
	return task_cpu(p); /* stop tasks never migrate */
}

static void task_tick_stop(struct rq *rq, struct task_struct *p)
{
}

const struct sched_class stop_sched_class = {
	.next = &rt_sched_class,
	.name = "stop",
	.enqueue_task = enqueue_task_stop,
	.dequeue_task = dequeue_task_stop,
	.check_preempt_curr = check_preempt_curr_stop,
	.pick_next_task = pick_next_task_stop,
	.put_prev_task = put_prev_task_stop,
	.set_next_task = set_next_task_stop,
	.select_task_rq = select_task_rq_stop,
	.task_tick = task_tick_stop,
	.update_curr = update_curr_stop,
};
