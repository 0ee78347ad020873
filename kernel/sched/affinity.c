/*
 * affinity.c - where a task may run: set_cpus_allowed_ptr(), and moving a
 * task that is running right now, which only its hart's stopper can do.
 *
 * A task that is queued or asleep is moved under the runqueue locks
 * (move_queued_task(), or its next wakeup picks an allowed hart). A task
 * that is running cannot be: its registers are live on its hart. So the
 * caller queues migration_cpu_stop() on that hart's stopper and sleeps
 * until it is done. The stopper preempts everything, so when it runs
 * the task is no longer running but queued, and the stopper moves it like
 * any queued task. This is Linux's affine_move_task() and
 * migration_cpu_stop(), simplified: one pending request per task, shared
 * by concurrent callers, living on the first caller's stack.
 *
 * Locking: p->pi_lock, then rq->lock (internal.h). The pending request is
 * reached through p->migration_pending under p->pi_lock.
 */
#include "kthread.h"
#include "preempt.h"
#include "stop_machine.h"
#include "timer.h"
#include "wait.h"
#include "kernel/sched/internal.h"

struct set_affinity_pending {
	int refs;	  /* p->pi_lock */
	int stop_pending; /* the stop work is queued */
	struct completion done;
	struct cpu_stop_work stop_work;
	struct task_struct *task;
};

/*
 * Runs on the stopper of the hart the task was on when queued: the task
 * is preempted (queued, not running) if it is still here. Move it to an
 * allowed hart; if it already moved, finish if it is allowed where it is,
 * else chase it with the same work on its new hart.
 */
static int migration_cpu_stop(void *data)
{
	struct set_affinity_pending *pending = data;
	struct task_struct *p = pending->task;
	struct rq *rq = this_rq();
	bool finished = false, chase = false;
	int chase_cpu = -1;

	local_irq_disable();
	spin_lock(&p->pi_lock);
	spin_lock(&rq->lock);
	if (task_rq(p) == rq) {
		if (!task_allowed_on(p, rq->cpu)) {
			int dest = select_fallback_rq(p);
			if (task_on_rq_queued(p)) {
				update_rq_clock(rq);
				rq->stopper_moved++;
				rq = move_queued_task(rq, p, dest);
			} else {
				set_task_cpu(p, dest); /* asleep: it wakes there */
			}
		}
		finished = true;
	} else if (task_allowed_on(p, task_cpu(p))) {
		finished = true; /* it moved somewhere allowed by itself */
	} else {
		chase = true;
		chase_cpu = task_cpu(p);
	}
	if (finished) {
		p->migration_pending = NULL;
		pending->stop_pending = 0;
	}
	spin_unlock(&rq->lock);
	spin_unlock(&p->pi_lock);
	local_irq_enable();

	if (chase &&
	    !stop_one_cpu_nowait(chase_cpu, migration_cpu_stop, pending, &pending->stop_work)) {
		/* No stopper there: finish as the path above does, so that
		 * nothing points into the waiter's stack once it is released. */
		unsigned long flags = spin_lock_irqsave(&p->pi_lock);
		if (p->migration_pending == pending)
			p->migration_pending = NULL;
		pending->stop_pending = 0;
		spin_unlock_irqrestore(&p->pi_lock, flags);
		finished = true;
	}
	if (finished)
		complete_all(&pending->done);
	return 0;
}

/*
 * set_cpus_allowed_ptr() on a running task: called with p->pi_lock and
 * rq->lock held (it drops them). Concurrent callers share one pending
 * request (p->migration_pending) and all wait for it; the first one's
 * request lives on its stack, so it waits for the others to let go.
 */
static int affine_move_task(struct rq *rq, struct task_struct *p, unsigned long flags)
{
	struct set_affinity_pending my = {0};
	struct set_affinity_pending *pending = p->migration_pending;
	bool owner = false, queue = false;

	if (!pending) {
		my.refs = 1;
		my.task = p;
		init_completion(&my.done);
		pending = &my;
		owner = true;
		/* Safe: we do not return before every sharer let go (below). */
		// cppcheck-suppress autoVariables
		p->migration_pending = &my;
	} else {
		pending->refs++;
	}
	if (!pending->stop_pending) {
		pending->stop_pending = 1;
		queue = true;
	}
	int cpu = task_cpu(p);
	task_rq_unlock(rq, p, flags);

	if (queue && !stop_one_cpu_nowait(cpu, migration_cpu_stop, pending, &pending->stop_work)) {
		flags = spin_lock_irqsave(&p->pi_lock);
		pending->stop_pending = 0;
		p->migration_pending = NULL;
		spin_unlock_irqrestore(&p->pi_lock, flags);
		complete_all(&pending->done);
	}
	might_sleep();
	wait_for_completion(&pending->done);

	flags = spin_lock_irqsave(&p->pi_lock);
	pending->refs--;
	spin_unlock_irqrestore(&p->pi_lock, flags);
	if (owner) /* others may still read our stack frame */
		while (smp_load_acquire(&my.refs) > 0)
			msleep(1);
	return 0;
}

/*
 * Moving a running task waits for its hart's stopper to preempt it, so
 * the caller must be able to sleep and must not be that stopper: why not,
 * or NULL. The context is sampled at entry (the locks taken since raise
 * the count and mask interrupts).
 */
static const char *running_move_refused(const struct task_struct *p, bool atomic_caller)
{
	if (current->in_stop_fn)
		return "from a stop fn";
	if (current == cpu_stopper_task(task_cpu(p)))
		return "from the task's own hart's stopper";
	if (atomic_caller)
		return "with preemption or interrupts off";
	return NULL;
}

/**
 * set_cpus_allowed_ptr() - change the harts a task may run on, moving it if it must.
 * @p: the task.
 * @mask: the new allowed mask, stored as given; it must include an online hart.
 *
 * Installs @mask. If p's hart is an allowed online one, that is all. Otherwise p is moved
 * now: a queued p under the runqueue locks (move_queued_task()); an asleep p by setting
 * its ->cpu, so that it wakes there; a running p (or one being switched out) by its hart's
 * stopper, since only code on that hart can take it off: migration_cpu_stop() preempts it
 * and moves it like a queued task, and the caller sleeps until that is done. Concurrent
 * callers for the same running task share one request and all wait for it.
 *
 * Context: moving a running p sleeps: the caller must then be preemptible process
 * context (preempt count 0, interrupts on, not in an interrupt handler), not a stop fn
 * and not p's hart's stopper; such a call is refused, not deadlocked. Any other call
 * (p queued, asleep, or already on an allowed hart) does not sleep and may come from any
 * context. Takes p->pi_lock, then the rq lock (task_rq_lock()); the caller holds neither,
 * nor any other rq lock.
 * Return:
 * * 0 - @mask is installed and p is on, or will wake on, an allowed hart. Also 0, with
 *   p left where it runs, if its stopper could not take the request after all
 *   (stop_one_cpu_nowait() failed, here or when chasing p to another hart).
 * * -EINVAL - @p or @mask is NULL, @mask has no online hart, p is a per-cpu kthread and
 *   @mask is not its mask, or p is a stop or idle task. Nothing changed.
 * * -EDEADLK - p is running off @mask and the caller cannot wait for a stopper (a stop
 *   fn, p's hart's stopper, preemption or interrupts off, or an interrupt handler). The
 *   old mask is put back and a warning names the caller.
 * * -EBUSY - p is running off @mask and its hart has no stopper. The old mask is put
 *   back.
 */
int set_cpus_allowed_ptr(struct task_struct *p, const cpumask_t *mask)
{
	unsigned long flags;
	cpumask_t valid;
	bool atomic_caller = !preemptible() || in_irq();
	if (!p || !mask || !cpumask_and(&valid, mask, cpu_online_mask))
		return -EINVAL;
	if (p->kthread && kthread_is_per_cpu(p) && !cpumask_equal(mask, &p->cpus_allowed))
		return -EINVAL;

	struct rq *rq = task_rq_lock(p, &flags);
	if (p->sched_class == &stop_sched_class || p->sched_class == &idle_sched_class) {
		task_rq_unlock(rq, p, flags);
		return -EINVAL;
	}
	cpumask_t old = p->cpus_allowed;
	int old_nr = p->nr_cpus_allowed;
	cpumask_copy(&p->cpus_allowed, mask);
	p->nr_cpus_allowed = cpumask_weight(mask);
	fair_update_migratable(rq, p, old_nr);
	if (cpumask_test_cpu(task_cpu(p), &valid)) {
		task_rq_unlock(rq, p, flags);
		return 0; /* already somewhere allowed */
	}
	int dest = cpumask_first(&valid);
	if (task_current(rq, p) || READ_ONCE(p->on_cpu)) {
		const char *why = running_move_refused(p, atomic_caller);
		if (!why && cpu_stopper_task(task_cpu(p)))
			return affine_move_task(rq, p, flags); /* unlocks */
		p->cpus_allowed = old; /* refused: leave the task as it was */
		p->nr_cpus_allowed = old_nr;
		fair_update_migratable(rq, p, cpumask_weight(mask));
		task_rq_unlock(rq, p, flags);
		if (why) {
			pr_warn("WARNING: set_cpus_allowed_ptr(%s/%d) called %s by 0x%lx: moving a "
				"running task sleeps; refused with -EDEADLK",
				p->comm, p->pid, why, _RET_IP_);
			return -EDEADLK;
		}
		pr_warn("set_cpus_allowed_ptr: %s/%d is running on cpu%d; moving a running task "
			"needs the stopper (not available)",
			p->comm, p->pid, task_cpu(p));
		return -EBUSY;
	}
	if (task_on_rq_queued(p)) {
		update_rq_clock(rq);
		rq = move_queued_task(rq, p, dest);
	} else {
		set_task_cpu(p, dest); /* asleep: it wakes there */
	}
	task_rq_unlock(rq, p, flags);
	return 0;
}

/**
 * sched_setaffinity() - change the allowed harts of the task with a given pid.
 * @pid: the task's pid.
 * @mask: the new allowed mask, as for set_cpus_allowed_ptr().
 *
 * Finds the task, holding a reference on it for the call so that it cannot be freed
 * meanwhile, and applies set_cpus_allowed_ptr() to it.
 *
 * Context: as set_cpus_allowed_ptr(): sleeps if the task is running off @mask, which
 * needs a preemptible caller; does not sleep otherwise. Also takes tasklist_lock (with
 * interrupts saved); the caller holds none of p->pi_lock, an rq lock or tasklist_lock.
 * Dropping the reference frees the task if it exited meanwhile.
 * Return: -ESRCH if no live task has @pid (none, or it is TASK_DEAD); otherwise
 * set_cpus_allowed_ptr()'s result: 0, -EINVAL, -EDEADLK or -EBUSY.
 */
int sched_setaffinity(int pid, const cpumask_t *mask)
{
	struct task_struct *p = find_task_by_pid(pid);
	if (!p)
		return -ESRCH;
	int rc = set_cpus_allowed_ptr(p, mask);
	put_task_struct(p);
	return rc;
}
