/*
 * debug.c - the scheduler as text: runqueue counters for the shell and
 * the tests, the task table, and what blocked tasks wait on (panic and
 * hang reports).
 *
 * Readers take no runqueue lock: the numbers may be a moment old, and a
 * panic must be able to print them whatever is held.
 */
#include "console.h"
#include "ktime.h"
#include "smp.h"
#include "trap.h"
#include "kernel/sched/internal.h"

void sched_rq_stats(int cpu, struct rq_stats *st)
{
	struct rq *rq = cpu_rq(cpu);
	st->nr_running = (int)READ_ONCE(rq->nr_running);
	st->nr_stop = rq->stop && task_on_rq_queued(rq->stop);
	st->nr_rt = (int)READ_ONCE(rq->rt.nr_running);
	st->nr_fair = (int)READ_ONCE(rq->cfs.nr_running);
	st->curr = READ_ONCE(rq->curr);
	st->nr_switches = READ_ONCE(rq->nr_switches);
	st->active_pushed = READ_ONCE(rq->active_pushed);
	st->stopper_moved = READ_ONCE(rq->stopper_moved);
}

static const char *state_name(long state)
{
	switch (state) {
	case TASK_RUNNING:
		return "R";
	case TASK_INTERRUPTIBLE:
		return "S";
	case TASK_UNINTERRUPTIBLE:
		return "D";
	case TASK_PARKED:
		return "P";
	case TASK_DEAD:
		return "X";
	case TASK_NEW:
		return "N";
	default:
		return "?";
	}
}

void sched_show_task(const struct task_struct *p)
{
	char mask[40];
	console_printf("    %5d %-16s cpu%-3d %-5s %-6s prio %3d %s %8lu us  cpus %s\n", p->pid,
		       p->comm, task_cpu(p), p->sched_class->name,
		       p->policy == SCHED_FIFO	 ? "FIFO"
		       : p->policy == SCHED_RR	 ? "RR"
		       : p->policy == SCHED_IDLE ? "IDLE"
						 : "OTHER",
		       p->prio, state_name(p->state), ticks_to_us(p->sum_exec_runtime),
		       cpumask_format(&p->cpus_allowed, mask, sizeof(mask)));
}

/* Every hart's runqueue by class. Reads without locks: for panics too. */
void sched_show(void)
{
	int cpu;
	for_each_online_cpu(cpu) {
		struct rq_stats st;
		sched_rq_stats(cpu, &st);
		console_printf("  cpu%d (hart %lu): curr %s/%d, running %d: stop %d rt %d fair %d, "
			       "%lu switches\n",
			       cpu, cpu_to_hartid(cpu), st.curr ? st.curr->comm : "?",
			       st.curr ? st.curr->pid : -1, st.nr_running, st.nr_stop, st.nr_rt,
			       st.nr_fair, st.nr_switches);
	}
	struct task_struct *p;
	/* Interrupts off, as everywhere tasklist_lock is taken: an interrupt
	 * here may drop a task's last reference (finish_task_switch()), which
	 * takes the lock, and its timers must not nest inside it. */
	unsigned long flags = local_irq_save();
	if (!spin_trylock(&tasklist_lock)) {
		local_irq_restore(flags);
		return; /* a panic while it is held: skip the task list */
	}
	list_for_each_entry(p, &task_list, tasks)
		sched_show_task(p);
	spin_unlock(&tasklist_lock);
	local_irq_restore(flags);
}

/*
 * Every task that is switched out and not runnable, with the backtrace
 * saved by its last switch_to() (its s0 and ra): where each sleeper
 * waits, for hang reports. Takes tasklist_lock (a task is unlinked from
 * the list before its stack is freed); racy against a task waking up
 * meanwhile, which the frame checks of dump_backtrace() make harmless.
 */
void sched_show_blocked(void)
{
	struct task_struct *p;
	unsigned long flags = spin_lock_irqsave(&tasklist_lock);
	list_for_each_entry(p, &task_list, tasks) {
		if (READ_ONCE(p->state) == TASK_RUNNING || READ_ONCE(p->on_cpu) ||
		    p->state == TASK_DEAD)
			continue;
		sched_show_task(p);
		dump_backtrace(p->ctx.s[0], p->ctx.ra);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
}
