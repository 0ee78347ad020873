/*
 * rt.c - the real-time class: SCHED_FIFO and SCHED_RR, 100 priorities.
 *
 * One FIFO list per priority and a bitmap of the non-empty ones: pick is
 * "first set bit, head of that list", O(1). As in Linux the running rt
 * task stays on its list; FIFO tasks run until they block, yield or a
 * higher priority arrives; RR tasks also rotate to the tail of their list
 * every RR_TIMESLICE_MS.
 */
#include "kernel/sched/internal.h"

#define RR_TICKS ((RR_TIMESLICE_MS * HZ + 999) / 1000)

void init_rt_rq(struct rt_rq *rt)
{
	for (int i = 0; i < MAX_RT_PRIO; i++)
		INIT_LIST_HEAD(&rt->queue[i]);
	rt->bitmap[0] = rt->bitmap[1] = 0;
	rt->nr_running = 0;
}

static void update_curr_rt(struct rq *rq)
{
	struct task_struct *curr = rq->curr;
	if (curr->sched_class != &rt_sched_class)
		return;
	curr->sum_exec_runtime += rq->clock - curr->exec_start;
	curr->exec_start = rq->clock;
}

static void enqueue_task_rt(struct rq *rq, struct task_struct *p, int flags)
{
	struct rt_rq *rt = &rq->rt;
	list_add_tail(&p->rt.run_list, &rt->queue[p->prio]);
	rt->bitmap[p->prio / 64] |= 1UL << (p->prio % 64);
	if (!p->rt.time_slice)
		p->rt.time_slice = RR_TICKS;
	rt->nr_running++;
	rq->nr_running++;
}

static void dequeue_task_rt(struct rq *rq, struct task_struct *p, int flags)
{
	struct rt_rq *rt = &rq->rt;
	update_curr_rt(rq);
	list_del_init(&p->rt.run_list);
	if (list_empty(&rt->queue[p->prio]))
		rt->bitmap[p->prio / 64] &= ~(1UL << (p->prio % 64));
	rt->nr_running--;
	rq->nr_running--;
}

static void requeue_task_rt(struct rq *rq, struct task_struct *p)
{
	list_del_init(&p->rt.run_list);
	list_add_tail(&p->rt.run_list, &rq->rt.queue[p->prio]);
}

static void yield_task_rt(struct rq *rq)
{
	requeue_task_rt(rq, rq->curr);
}

static void check_preempt_curr_rt(struct rq *rq, struct task_struct *p)
{
	if (p->prio < rq->curr->prio) /* lower number, higher priority */
		resched_curr(rq);
}

static struct task_struct *pick_next_task_rt(struct rq *rq)
{
	struct rt_rq *rt = &rq->rt;
	int idx;
	if (rt->bitmap[0])
		idx = __builtin_ctzl(rt->bitmap[0]);
	else if (rt->bitmap[1])
		idx = 64 + __builtin_ctzl(rt->bitmap[1]);
	else
		return NULL;
	struct task_struct *p = list_first_entry(&rt->queue[idx], struct task_struct, rt.run_list);
	p->exec_start = rq->clock;
	return p;
}

static void put_prev_task_rt(struct rq *rq, struct task_struct *p)
{
	update_curr_rt(rq);
}

static void set_next_task_rt(struct rq *rq, struct task_struct *p)
{
	p->exec_start = rq->clock;
}

static int select_task_rq_rt(struct task_struct *p, int prev_cpu, int flags)
{
	return prev_cpu;
}

static void task_tick_rt(struct rq *rq, struct task_struct *p)
{
	update_curr_rt(rq);
	if (p->policy != SCHED_RR || --p->rt.time_slice)
		return;
	p->rt.time_slice = RR_TICKS;
	/* Rotate only if someone else shares the priority. */
	if (p->rt.run_list.next != p->rt.run_list.prev) {
		requeue_task_rt(rq, p);
		resched_curr(rq);
	}
}

const struct sched_class rt_sched_class = {
	.next = &fair_sched_class,
	.name = "rt",
	.enqueue_task = enqueue_task_rt,
	.dequeue_task = dequeue_task_rt,
	.yield_task = yield_task_rt,
	.check_preempt_curr = check_preempt_curr_rt,
	.pick_next_task = pick_next_task_rt,
	.put_prev_task = put_prev_task_rt,
	.set_next_task = set_next_task_rt,
	.select_task_rq = select_task_rq_rt,
	.task_tick = task_tick_rt,
	.update_curr = update_curr_rt,
};
