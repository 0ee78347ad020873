/*
 * core.c - the class-ordered scheduler: wakeups, schedule(), the pick
 * loop and the tick. Policy and nice changes are in policy.c, affinity
 * (and moving a running task) in affinity.c, the runqueues' locks and
 * queueing in runqueue.c.
 *
 * Locking (outer to inner): p->pi_lock, then rq->lock; the runqueue
 * locks and the helpers that move tasks on and off runqueues are
 * runqueue.c.
 *
 * The runqueue lock is held across switch_to(): the next task releases
 * it in finish_task_switch(), as Linux does. preempt_count is per task
 * (thread_info.h), so a task switched out holds the count the lock gave
 * it and finds it again when it resumes; the next task's count includes
 * the lock too (it took it, or a new thread starts with 1), and its
 * finish_task_switch() drops it.
 */
#include <stdio.h>
#include <string.h>
#include "asm.h"
#include "console.h"
#include "cpu_wait.h"
#include "ipi.h"
#include "kthread.h"
#include "ktime.h"
#include "mm.h"
#include "preempt.h"
#include "smp.h"
#include "tick.h"
#include "trap.h"
#include "entry.h"
#include "kernel/sched/internal.h"

DEFINE_PER_CPU(struct rq, runqueues);
/* CPU 0's boot context and idle task, current (tp) from the first
 * instruction; in bss, so cpu 0 and preempt count 0 before anything runs. */
struct task_struct init_task;
/* Set once sched_init() has run: before, nothing schedules or preempts. */
bool scheduler_running;
/* Tasks seen running off their allowed harts with no move pending (the
 * tick's check): a bug, which the tests count. */
static unsigned long affinity_violations;

_Static_assert(offsetof(struct task_struct, thread_info) == 0, "tp points at thread_info");
_Static_assert(offsetof(struct thread_info, preempt_count) == TI_PREEMPT_COUNT, "TI_*");
_Static_assert(offsetof(struct thread_info, cpu) == TI_CPU, "TI_*");
_Static_assert(offsetof(struct thread_info, trap_sp) == TI_TRAP_SP, "TI_*");
_Static_assert(offsetof(struct thread_info, pcpu_offset) == TI_PCPU_OFFSET, "TI_*");
_Static_assert(offsetof(struct task_struct, ctx) == TASK_CTX, "switch.S");

/* ---- rescheduling ---- */

/**
 * sched_tick_check() - restart this hart's stopped tick if it is needed.
 *
 * A hart that left idle keeps its tick off while it runs one task alone
 * (tick_nohz_idle_exit()). It needs the tick again with a second runnable
 * task (slices to end). (A stop work restarts it itself: cpu_stopper_run().)
 *
 * Context: interrupts off, on the hart itself (__schedule(), the IPI handler).
 * Return: Nothing.
 */
void sched_tick_check(void)
{
	struct rq *rq = this_rq();
	struct task_struct *curr = rq->curr;
	if (this_cpu(tick_stopped) && curr != rq->idle && rq->nr_running >= 2)
		tick_nohz_restart();
}

/**
 * resched_curr() - ask a runqueue's running task to reschedule.
 * @rq: the runqueue.
 *
 * Ask rq's running task to reschedule: a flag (need_resched), and an IPI if its hart is
 * not this one, so that it notices without waiting for its tick. The switch happens at
 * that hart's next preemption point (interrupt exit, preempt_enable(), an unlock that
 * re-enables interrupts, or schedule()). Does nothing if the flag is already set.
 *
 * Context: rq->lock held, which keeps rq->curr and this hart fixed; interrupts off.
 * Return: Nothing.
 */
void resched_curr(struct rq *rq)
{
	struct task_struct *curr = rq->curr;
	if (READ_ONCE(curr->need_resched))
		return;
	WRITE_ONCE(curr->need_resched, 1);
	if (rq->cpu != smp_processor_id())
		send_resched_ipi(rq->cpu); /* rung once our locks are dropped */
}

/**
 * check_preempt_curr() - should a task just queued preempt the running one?
 * @rq: the runqueue p was just queued on.
 * @p: the task just woken, moved or changed onto @rq; not rq->curr.
 *
 * Across classes the class order decides: a task of a class above rq->curr's always
 * reschedules it (resched_curr()), one below never does. Within one class the class's
 * hook decides (rt by priority, fair by vruntime lead; nothing preempts a stop task).
 *
 * Context: rq->lock held (interrupts off), rq->clock updated.
 * Return: Nothing.
 */
void check_preempt_curr(struct rq *rq, struct task_struct *p)
{
	if (p->sched_class == rq->curr->sched_class)
		p->sched_class->check_preempt_curr(rq, p);
	else if (sched_class_above(p->sched_class, rq->curr->sched_class))
		resched_curr(rq);
}

static int select_task_rq(struct task_struct *p, int prev_cpu, int flags)
{
	int cpu = p->sched_class->select_task_rq(p, prev_cpu, flags);
	if (!task_allowed_on(p, cpu))
		cpu = select_fallback_rq(p);
	return cpu;
}

/* ---- wakeups ---- */

/* p is still queued (it has not finished going to sleep, or it is being
 * moved): just mark it running again. Caller holds p->pi_lock. */
static bool ttwu_runnable(struct task_struct *p)
{
	struct rq *rq = __task_rq_lock(p);
	bool ret = false;
	if (task_on_rq_queued(p)) {
		WRITE_ONCE(p->state, TASK_RUNNING);
		if (!task_current(rq, p)) {
			update_rq_clock(rq);
			check_preempt_curr(rq, p);
		}
		ret = true;
	}
	spin_unlock(&rq->lock);
	return ret;
}

static int try_to_wake_up(struct task_struct *p, unsigned int state, int wake_flags)
{
	int success = 0;
	unsigned long flags = spin_lock_irqsave(&p->pi_lock);
	/* Linux's smp_mb__after_spinlock(): the caller's store of the wake
	 * condition is ordered before our load of p->state. The sleeper
	 * stores its state, then (full fence, set_current_state()) loads the
	 * condition; without this fence each could miss the other's store
	 * (our lock's acquire orders only later accesses after the lock, and
	 * RVWMO and TSO alike let a store pass a later load). */
	smp_mb();
	if (!(READ_ONCE(p->state) & state))
		goto out;
	success = 1;
	smp_rmb(); /* read on_rq after state (pairs with __schedule's dequeue) */
	if (READ_ONCE(p->on_rq) && ttwu_runnable(p))
		goto out;
	/* Off every runqueue; wait until its old hart has switched away from
	 * it, so that its saved context is complete before it runs again. */
	smp_cond_load_acquire(&p->on_cpu, !VAL);
	int cpu = select_task_rq(p, task_cpu(p), wake_flags);
	int flags_enq = ENQUEUE_WAKEUP;
	if (cpu != task_cpu(p)) {
		set_task_cpu(p, cpu);
		flags_enq |= ENQUEUE_MIGRATED;
	}
	if (p->state == TASK_NEW)
		flags_enq = ENQUEUE_NEW;
	struct rq *rq = cpu_rq(cpu);
	spin_lock(&rq->lock);
	update_rq_clock(rq);
	activate_task(rq, p, flags_enq);
	WRITE_ONCE(p->state, TASK_RUNNING);
	check_preempt_curr(rq, p);
	spin_unlock(&rq->lock);
out:
	spin_unlock_irqrestore(&p->pi_lock, flags);
	return success;
}

/**
 * wake_up_process() - wake a sleeping task, or start a new one.
 * @p: the task.
 *
 * Wakes p if it is TASK_INTERRUPTIBLE or TASK_UNINTERRUPTIBLE, or TASK_NEW (a created
 * thread's first wakeup); a running, parked or dead task is left alone. A p that has not
 * finished going to sleep (still queued) is only made TASK_RUNNING again. Otherwise this
 * waits until p's previous hart has switched away from it (its saved context must be
 * complete), picks a hart (its class's choice if p is allowed there, else
 * select_fallback_rq()), queues p there and reschedules that hart's task if p should
 * preempt it. The state test and the wakeup are one section under p->pi_lock.
 *
 * Context: any context, interrupt handlers included, any hart. Does not sleep, but may
 * spin (then halt) while p's previous hart switches away from it. Takes p->pi_lock, then
 * the target rq lock; the caller holds neither, nor any other rq lock. A preemptible
 * caller may be preempted on the way out, when p should run here first.
 * Return: 1 if p was in one of those states and is now TASK_RUNNING; 0 if it was not.
 */
int wake_up_process(struct task_struct *p)
{
	return try_to_wake_up(p, TASK_NORMAL | TASK_NEW, 0);
}

/**
 * wake_up_state() - wake a task if it is in one of the given states.
 * @p: the task.
 * @state: the TASK_* states to wake p from (TASK_PARKED to unpark it, say).
 *
 * As wake_up_process(), for the states in @state only. A TASK_NEW p (when @state has
 * TASK_NEW) is queued as a new task (ENQUEUE_NEW).
 *
 * Context: as wake_up_process(): any context; does not sleep; takes p->pi_lock, then an
 * rq lock, and the caller holds neither.
 * Return: 1 if p's state was one of @state and p is now TASK_RUNNING; 0 otherwise.
 */
int wake_up_state(struct task_struct *p, unsigned int state)
{
	return try_to_wake_up(p, state, 0);
}

/* ---- the pick loop ---- */

/*
 * Walk the classes from the highest and return the first task one of
 * them offers. A class whose balance hook dropped rq->lock (and so may
 * have let a higher class's task in) answers RETRY_TASK: start over.
 * The idle class always has a task, so the walk always ends.
 */
static struct task_struct *pick_next_task(struct rq *rq)
{
	const struct sched_class *class;
	struct task_struct *p;
again:
	for_each_class(class) {
		p = class->pick_next_task(rq);
		if (p == RETRY_TASK)
			goto again;
		if (p)
			return p;
	}
	BUG(); /* the idle class always returns rq->idle */
}

static void finish_task_switch(struct task_struct *prev)
{
	struct rq *rq = this_rq();
	long prev_state = READ_ONCE(prev->state);
	/* From here on prev may run elsewhere: its context is saved. */
	smp_store_release(&prev->on_cpu, 0);
	smp_cond_wake(&prev->on_cpu); /* a waker waiting in try_to_wake_up() */
	spin_unlock(&rq->lock);
	local_irq_enable();
	if (prev_state == TASK_DEAD)
		put_task_struct(prev); /* the reference it ran on */
}

/**
 * schedule_tail() - finish the switch into a new thread.
 * @prev: the task this hart switched away from.
 *
 * A new thread's first C code (ret_from_kthread, switch.S), before its function: finish
 * the switch that __schedule() made into it. Its preempt count started at 1, the runqueue
 * lock it is handed; unlocking drops both. Also releases @prev (->on_cpu = 0, kicking a
 * waker waiting for that), turns interrupts on and, if @prev died, drops the reference
 * @prev ran on.
 *
 * Context: only from ret_from_kthread, on the new thread, with this hart's rq->lock held
 * (taken by the task switched away from) and interrupts off. Not for C callers.
 * Return: Nothing; the thread then runs with interrupts on and preempt count 0.
 */
void schedule_tail(struct task_struct *prev)
{
	finish_task_switch(prev);
}

static void __schedule(bool preempt)
{
	struct task_struct *prev, *next;
	struct rq *rq;

	local_irq_disable();
	rq = this_rq();
	prev = rq->curr;
	spin_lock(&rq->lock);
	update_rq_clock(rq);

	/* A preempted task stays queued even if it was about to sleep; a
	 * dead one never does. */
	if ((!preempt || prev->state == TASK_DEAD) && prev->state != TASK_RUNNING &&
	    task_on_rq_queued(prev))
		deactivate_task(rq, prev, DEQUEUE_SLEEP);
	WRITE_ONCE(prev->need_resched, 0);
	prev->sched_class->put_prev_task(rq, prev);
	next = pick_next_task(rq);

	if (next != prev) {
		if (prev == rq->idle)
			tick_nohz_idle_exit(); /* work again (the tick: see sched_tick_check()) */
		rq->nr_switches++;
		prev->nvcsw++;
		WRITE_ONCE(next->on_cpu, 1);
		rq->curr = next;
		if (unlikely(raw_cpu(tick_stopped))) /* raw: interrupts are off */
			sched_tick_check();
		prev = switch_to(prev, next); /* tp = next */
		finish_task_switch(prev);
	} else {
		spin_unlock(&rq->lock);
		local_irq_enable();
	}
	resched_ipi_flush(); /* whatever this hart deferred, before the task runs on */
}

/**
 * schedule() - let the classes pick the next task for this hart.
 *
 * The way to sleep: set_current_state() to a sleeping state, test the condition, then
 * call schedule(); the task is dequeued and runs again once woken (wake_up_process()). A
 * wakeup in between has made it TASK_RUNNING again and it is not dequeued. Called in
 * TASK_RUNNING, it only gives the hart up: the task stays queued and may be picked again
 * at once. The pick walks the classes from the highest, stop > rt > fair > idle. Loops
 * until no reschedule is pending for the task that returns.
 *
 * Context: process context, preemptible: preempt count 0, interrupts on, no spinlock
 * held. Otherwise it prints "BUG: scheduling while atomic" with a backtrace and switches
 * anyway (a TASK_DEAD task is not reported). May sleep.
 * Return: Nothing. The task returns when it is picked again, maybe on another hart.
 */
void schedule(void)
{
	struct task_struct *p = current;
	if (unlikely(preempt_count() != 0 || irqs_disabled()) && p->state != TASK_DEAD) {
		pr_err("BUG: scheduling while atomic: %s/%d, preempt_count 0x%x, irqs %s", p->comm,
		       p->pid, preempt_count(), irqs_disabled() ? "off" : "on");
		dump_stack();
	}
	do {
		__schedule(false);
	} while (READ_ONCE(current->need_resched));
}

/**
 * preempt_schedule() - preempt the current task where preemption becomes possible again.
 *
 * preempt_enable() dropped the count to 0 (or spin_unlock_irqrestore() left the task
 * preemptible) with a reschedule possibly pending. Returns at once if interrupts are off,
 * before sched_init(), with no reschedule pending for current, or in an interrupt handler.
 * Otherwise it switches away, leaving current queued even if it had set a sleeping state
 * (being preempted is not sleeping), and loops until no reschedule is pending.
 *
 * Context: process context with preempt count 0 (its callers check that; it does not);
 * no lock held. May sleep (it schedules).
 * Return: Nothing.
 */
void preempt_schedule(void)
{
	resched_ipi_flush(); /* the count is 0: ring what we deferred, before we switch */
	if (irqs_disabled())
		return;
	if (!scheduler_running || !READ_ONCE(current->need_resched) || in_irq())
		return;
	do {
		/* Counted: an interrupt on the way back must not preempt us
		 * again from inside this loop (nesting without bound). */
		preempt_count_add(1);
		__schedule(true);
		preempt_count_sub(1);
	} while (READ_ONCE(current->need_resched));
}

/**
 * preempt_schedule_irq() - preempt the interrupted task on the way out of an interrupt.
 *
 * On the way out of an interrupt that hit with interrupts on (trap.c, after irq_exit()).
 * Returns at once before sched_init(), if the interrupted task had preemption off, or if
 * no reschedule is pending. Otherwise it switches away, leaving the task queued whatever
 * state it had set, and loops until no reschedule is pending. __schedule() turns
 * interrupts on; they are off again on return, as the trap exit needs.
 *
 * Context: trap exit only, interrupts off, hard-irq count already dropped; no lock held.
 * May sleep (the interrupted task is switched out).
 * Return: Nothing; interrupts off.
 */
void preempt_schedule_irq(void)
{
	if (!scheduler_running || preempt_count() != 0 || !READ_ONCE(current->need_resched))
		return;
	do {
		/* As Linux's preempt_schedule_irq(): counted, so that the
		 * interrupts taken once __schedule() turned them back on do not
		 * preempt again on their way out, stacking frames without bound. */
		preempt_count_add(1);
		__schedule(true); /* returns with interrupts on */
		local_irq_disable();
		preempt_count_sub(1);
	} while (READ_ONCE(current->need_resched));
}

/**
 * yield() - let other runnable tasks run before the current one.
 *
 * The current task stays runnable. Its class moves it behind its peers (rt: to the tail
 * of its priority's queue; fair: behind the queued fair task with the largest vruntime;
 * stop and idle: nothing), then schedule() picks. Tasks of a lower class still run only
 * if nothing above them is runnable.
 *
 * Context: process context, preemptible (schedule() reports it otherwise). Takes this
 * hart's rq->lock with interrupts saved; the caller holds no rq lock. May sleep.
 * Return: Nothing.
 */
void yield(void)
{
	unsigned long flags = local_irq_save();
	struct rq *rq = this_rq();
	spin_lock(&rq->lock);
	if (current->sched_class->yield_task)
		current->sched_class->yield_task(rq);
	spin_unlock(&rq->lock);
	local_irq_restore(flags);
	schedule();
}

/* ---- the tick ---- */

/**
 * scheduler_tick() - the scheduler's share of a hart's timer tick.
 *
 * From each hart's timer interrupt (platform/riscv/timer.c). Charges the running task and
 * lets its class decide on preemption (fair slices, SCHED_RR rotation); counts a fair task
 * found running off its allowed harts with no move pending (sched_affinity_violations());
 * runs the stopper stall watchdog (cpu_stop_tick()); and, every balance period, moves fair
 * load from the busiest hart or asks that hart's stopper to push its running task
 * (sched_balance_tick()). Does nothing before sched_init().
 *
 * Context: hard interrupt context, interrupts off, on the hart whose tick it is. Takes
 * this hart's rq->lock, and only ever tries another hart's (never spins on it). The
 * interrupted code cannot hold this hart's rq->lock: it is never held with interrupts on.
 * Return: Nothing.
 */
void scheduler_tick(void)
{
	if (!scheduler_running)
		return;
	struct rq *rq = this_rq();
	struct task_struct *curr = rq->curr;
	spin_lock(&rq->lock);
	update_rq_clock(rq);
	curr->sched_class->task_tick(rq, curr);
	/* A fair task running off its allowed harts with no move pending is
	 * a bug. Sampled under rq->lock: set_cpus_allowed_ptr() changes the
	 * mask and marks the move pending in one section under this lock. */
	bool stray = curr->sched_class == &fair_sched_class &&
		     !cpumask_test_cpu(rq->cpu, &curr->cpus_allowed) && !curr->migration_pending;
	spin_unlock(&rq->lock);
	if (stray)
		__atomic_fetch_add(&affinity_violations, 1, __ATOMIC_RELAXED);
	cpu_stop_tick();
	sched_balance_tick(rq);
}

/**
 * sched_affinity_violations() - how often a task was seen off its allowed harts.
 *
 * Ticks, summed over every hart since boot, whose check in scheduler_tick() found the
 * running fair task on a hart outside its allowed mask with no move pending. Each one is
 * a bug, which the tests count.
 *
 * Context: any; a relaxed read.
 * Return: the count.
 */
unsigned long sched_affinity_violations(void)
{
	return __atomic_load_n(&affinity_violations, __ATOMIC_RELAXED);
}

/* ---- the stop class ---- */

/**
 * sched_set_stop_task() - install, or remove, a hart's stop-class task.
 * @cpu: the hart; a possible CPU (not checked).
 * @stop: the task to become cpu's stop task, or NULL to leave cpu without one.
 *
 * The stop class holds at most one task per hart (rq->stop) and picks it whenever it is
 * runnable, ahead of every other class: that is how cpu's stopper, migration/N, preempts
 * everything. @stop gets the stop class and, seen from outside, SCHED_FIFO at the top rt
 * priority. A different stop task it replaces is demoted to the rt class, as Linux does.
 * A queued task's class is never changed: that would corrupt both classes' books.
 *
 * Context: any context, in practice boot (cpu_stop_init()); does not sleep. Takes cpu's
 * rq->lock with interrupts saved; the caller holds no rq lock. It neither takes @stop's
 * pi_lock nor binds it: the caller has bound @stop to @cpu already (kthread_create_on_cpu())
 * and does not wake it before this returns, because a stop task never migrates and only
 * its own hart's rq->stop is ever picked.
 * Return: 0 on success; -EBUSY, with a warning and nothing changed, if @stop or the task
 * it would replace is queued (so installing the running stop task again fails too).
 */
int sched_set_stop_task(int cpu, struct task_struct *stop)
{
	struct rq *rq = cpu_rq(cpu);
	unsigned long flags = spin_lock_irqsave(&rq->lock);
	struct task_struct *old = rq->stop;
	/* Changing a queued task's class would corrupt both classes' books. */
	if (WARN((stop && stop->on_rq) || (old && old != stop && old->on_rq),
		 "sched_set_stop_task(cpu%d): a task involved is queued", cpu)) {
		spin_unlock_irqrestore(&rq->lock, flags);
		return -EBUSY;
	}
	if (stop) {
		stop->sched_class = &stop_sched_class;
		stop->policy = SCHED_FIFO; /* what it looks like from outside */
		stop->rt_priority = MAX_RT_PRIO - 1;
		stop->prio = 0;
	}
	rq->stop = stop;
	if (old && old != stop)
		old->sched_class = &rt_sched_class; /* as Linux does: demote */
	spin_unlock_irqrestore(&rq->lock, flags);
	return 0;
}

/* ---- tasks ---- */

/**
 * sched_task_init() - give a new task its scheduling defaults, a pid and a list entry.
 * @p: the task: zero-filled (kzalloc(), or bss) and not yet visible to anyone.
 * @name: its name, cut to TASK_COMM_LEN - 1 characters (p->comm's zeroes end it).
 *
 * Makes p a SCHED_NORMAL fair task at nice 0 allowed on every possible hart, holding one
 * reference (its own), with its pi_lock ready; then gives it the next pid and puts it on
 * the task list (task_list_add()). Everything else keeps the caller's zeroes: state
 * TASK_RUNNING, on no runqueue, cpu 0; the caller sets what differs (state, ->cpu, stack,
 * context).
 *
 * Context: thread creation (kthread.c) and sched_init(); any context that may take
 * tasklist_lock, which is taken with interrupts saved. Does not sleep.
 * Return: Nothing.
 */
void sched_task_init(struct task_struct *p, const char *name)
{
	spin_lock_init_class(&p->pi_lock, LOCK_CLASS_PI, 0);
	p->refcount = 1;
	p->policy = SCHED_NORMAL;
	p->static_prio = p->prio = DEFAULT_PRIO;
	p->se.weight = nice_to_weight(0);
	p->sched_class = &fair_sched_class;
	INIT_LIST_HEAD(&p->rt.run_list);
	cpumask_copy(&p->cpus_allowed, cpu_possible_mask);
	p->nr_cpus_allowed = cpumask_weight(cpu_possible_mask);
	strncpy(p->comm, name, TASK_COMM_LEN - 1);
	task_list_add(p);
}

/**
 * do_exit() - end the current task.
 * @code: the exit code; a kernel thread's is handed to kthread_stop() or
 *        kthread_wait_exit(). Ignored for other tasks.
 *
 * Reports @code (completing the thread's "exited" completion), then sets TASK_DEAD and
 * switches away for good: __schedule() dequeues the task, and the hart's next task drops
 * the reference the dead one ran on (finish_task_switch()), which frees it unless a
 * waiter still holds one. Interrupts go off before TASK_DEAD is set: a preemption between
 * that and the final __schedule() must not leave a dead task queued (__schedule() also
 * dequeues a dead task it preempts, so this is belt and braces).
 *
 * Context: process context, the exiting task itself, preemptible (might_sleep() warns
 * otherwise); no lock held, since none could ever be released. Not for idle tasks. May
 * sleep.
 * Return: Does not return.
 */
void do_exit(int code)
{
	struct task_struct *p = current;
	might_sleep();
	kthread_exit_notify(p, code);
	/* Interrupts off from here: a preemption between setting TASK_DEAD
	 * and the final __schedule() would leave a dead task queued. */
	local_irq_disable();
	set_current_state(TASK_DEAD);
	__schedule(false);
	BUG(); /* a dead task is never picked again */
}

/* ---- boot ---- */

/* CPU 0's is the boot context itself (init_task, already current); the
 * others are made here, before their harts start (the boot record hands
 * each hart its idle task as its first tp). */
static struct task_struct *make_idle_task(int cpu)
{
	struct task_struct *idle = cpu ? kzalloc(sizeof(*idle)) : &init_task;
	if (!idle)
		panic("sched: no memory for cpu%d's idle task", cpu);
	char name[TASK_COMM_LEN];
	snprintf(name, sizeof(name), "swapper/%d", cpu);
	sched_task_init(idle, name);
	idle->pid = 0;
	idle->sched_class = &idle_sched_class;
	idle->policy = SCHED_IDLE;
	idle->prio = MAX_PRIO;
	cpumask_clear(&idle->cpus_allowed);
	cpumask_set_cpu(cpu, &idle->cpus_allowed);
	idle->nr_cpus_allowed = 1;
	set_task_cpu(idle, cpu);
	idle->on_cpu = 1;
	return idle;
}

/**
 * sched_init() - set up every hart's runqueue and idle task.
 *
 * For each possible hart: its runqueue (lock, fair and rt queues) and its idle task,
 * swapper/N, made rq->curr. CPU 0's idle task is the boot context itself (init_task);
 * the others are new tasks, handed to their harts as their first tp when they start.
 * Then sets scheduler_running, from which on the tick, preemption and balancing act, and
 * registers sched_show() for panic reports.
 *
 * Context: once, on the boot hart, before the secondary harts start, after the allocator
 * and the per-cpu areas are ready. Interrupts may be on: the tick does nothing until
 * scheduler_running is set. Does not sleep.
 * Return: Nothing; panics if an idle task cannot be allocated.
 */
void sched_init(void)
{
	int cpu;
	for_each_possible_cpu(cpu) {
		struct rq *rq = cpu_rq(cpu);
		spin_lock_init_class(&rq->lock, LOCK_CLASS_RQ, cpu);
		rq->cpu = cpu;
		init_cfs_rq(&rq->cfs);
		init_rt_rq(&rq->rt);
		rq->idle = make_idle_task(cpu);
		rq->curr = rq->idle;
		rq->balance_tick = (unsigned long)cpu;
	}
	scheduler_running = true;
	panic_register_notifier(sched_show);
	pr_info("sched: classes stop > rt > fair > idle; %d runqueues", nr_cpu_ids);
}

/**
 * cpu_idle_task() - a hart's idle task.
 * @cpu: the hart; a possible CPU (not checked).
 *
 * Context: any, once sched_init() has run.
 * Return: swapper/@cpu, the idle task (and boot context) of @cpu.
 */
struct task_struct *cpu_idle_task(int cpu)
{
	return cpu_rq(cpu)->idle;
}

/**
 * cpu_startup_entry() - run a hart's idle loop, for good.
 *
 * The boot context of a hart is its idle task (pid 0, "swapper/N"); once the hart is set
 * up it ends here. Halts in wfi while no reschedule is pending, letting the tick stop
 * (tick_nohz_idle_enter()), then calls schedule(); the idle task is picked again whenever
 * nothing else is runnable. A busy hart's kick makes it run a balance pass first.
 *
 * Context: the hart's idle task only (its boot context), after sched_init() and once the
 * hart is online; preempt count 0. Turns interrupts on. May sleep (it schedules).
 * Return: Does not return.
 */
void cpu_startup_entry(void)
{
	struct task_struct *idle = current;
	for (;;) {
		/* Check and sleep with interrupts masked: wfi still wakes on a
		 * pending interrupt, which is taken once they are on again, so
		 * a wakeup between the check and the wfi is never lost. */
		local_irq_disable();
		if (!READ_ONCE(idle->need_resched) && !nohz_balance_pending()) {
			/* Nothing to do: stop the tick until this hart's next
			 * timer (restarted when the hart leaves idle). */
			resched_ipi_flush();
			tick_nohz_idle_enter();
			wfi();
		}
		local_irq_enable();
		nohz_idle_balance(); /* a busy hart asked us to pull */
		if (READ_ONCE(idle->need_resched))
			schedule();
	}
}
