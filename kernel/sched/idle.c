/*
 * idle.c - the idle class: the lowest, one task per hart that is always
 * there (the hart's boot context, "swapper/N", in cpu_startup_entry()).
 */
#include "kernel/sched/internal.h"

static void enqueue_task_idle(struct rq *rq, struct task_struct *p, int flags)
{
	panic("sched: the idle task %s is never enqueued", p->comm);
}

static void dequeue_task_idle(struct rq *rq, struct task_struct *p, int flags)
{
	panic("sched: the idle task %s went to sleep", p->comm);
}

static void check_preempt_curr_idle(struct rq *rq, struct task_struct *p)
{
	resched_curr(rq); /* anything runnable beats idle */
}

static struct task_struct *pick_next_task_idle(struct rq *rq)
{
	rq->idle->exec_start = rq->clock;
	return rq->idle;
}

static void put_prev_task_idle(struct rq *rq, struct task_struct *p)
{
	p->sum_exec_runtime += rq->clock - p->exec_start;
}

static void set_next_task_idle(struct rq *rq, struct task_struct *p)
{
	p->exec_start = rq->clock;
}

static int select_task_rq_idle(struct task_struct *p, int prev_cpu, int flags)
{
	return task_cpu(p);
}

static void task_tick_idle(struct rq *rq, struct task_struct *p)
{
}

static void update_curr_idle(struct rq *rq)
{
}

const struct sched_class idle_sched_class = {
	.next = NULL,
	.name = "idle",
	.enqueue_task = enqueue_task_idle,
	.dequeue_task = dequeue_task_idle,
	.check_preempt_curr = check_preempt_curr_idle,
	.pick_next_task = pick_next_task_idle,
	.put_prev_task = put_prev_task_idle,
	.set_next_task = set_next_task_idle,
	.select_task_rq = select_task_rq_idle,
	.task_tick = task_tick_idle,
	.update_curr = update_curr_idle,
};
