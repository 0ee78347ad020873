/*
 * core.c - the class-ordered scheduler: wakeups, schedule(), the pick
 * loop, affinity and policy changes.
 *
 * Locking (outer to inner): p->pi_lock, then rq->lock; two rq->locks in
 * ascending CPU order. rq->lock is always taken with interrupts off. A
 * task's ->cpu changes only with its pi_lock held and it off every
 * runqueue (wakeup), or with its runqueue's lock held while it is
 * TASK_ON_RQ_MIGRATING (moving a queued task).
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

/* ---- locking helpers ---- */

static struct rq *__task_rq_lock(struct task_struct *p);

struct rq *task_rq_lock(struct task_struct *p, unsigned long *flags)
{
	*flags = spin_lock_irqsave(&p->pi_lock);
	return __task_rq_lock(p);
}

void task_rq_unlock(struct rq *rq, struct task_struct *p, unsigned long flags)
{
	spin_unlock(&rq->lock);
	spin_unlock_irqrestore(&p->pi_lock, flags);
}

/* Interrupts must be off. */
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

/*
 * For balancing, which is optional work: take this_rq's lock (spinning if
 * need be) and busiest's only if it is free right now, in the same order
 * as double_rq_lock(), so it cannot deadlock against it. Returns false,
 * holding neither lock, when busiest's is taken. Why not just spin: on a
 * host running many vCPUs on few cores, harts that all pick the same
 * busiest hart from their ticks queue on its ticket lock with interrupts
 * off, each handoff waits for the next waiter's vCPU to be scheduled, and
 * the convoy can outgrow what drains (seen: SMP 32 hung for minutes).
 * Interrupts must be off.
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

void double_rq_unlock(struct rq *a, struct rq *b)
{
	spin_unlock(&a->lock);
	if (a != b)
		spin_unlock(&b->lock);
}

/* ---- queueing ---- */

void activate_task(struct rq *rq, struct task_struct *p, int flags)
{
	p->sched_class->enqueue_task(rq, p, flags);
	bool was_migrating = p->on_rq == TASK_ON_RQ_MIGRATING;
	smp_store_release(&p->on_rq, TASK_ON_RQ_QUEUED);
	if (was_migrating)
		smp_cond_wake(&p->on_rq); /* __task_rq_lock() waiters */
}

void deactivate_task(struct rq *rq, struct task_struct *p, int flags)
{
	WRITE_ONCE(p->on_rq, (flags & DEQUEUE_MIGRATE) ? TASK_ON_RQ_MIGRATING : 0);
	p->sched_class->dequeue_task(rq, p, flags);
}

/* p is not running (queued and being moved, asleep, or new): a running
 * task reads its own hart from this field (smp_processor_id()). */
void set_task_cpu(struct task_struct *p, int cpu)
{
	p->thread_info.pcpu_offset = __per_cpu_offset[cpu];
	WRITE_ONCE(p->thread_info.cpu, cpu);
}

bool task_allowed_on(const struct task_struct *p, int cpu)
{
	return cpumask_test_cpu(cpu, &p->cpus_allowed) && cpu_online(cpu);
}

/* Ask rq's running task to reschedule: a flag, and an IPI if remote. */
void resched_curr(struct rq *rq)
{
	struct task_struct *curr = rq->curr;
	if (READ_ONCE(curr->need_resched))
		return;
	WRITE_ONCE(curr->need_resched, 1);
	if (rq->cpu != smp_processor_id())
		send_ipi(rq->cpu, IPI_RESCHEDULE);
}

void check_preempt_curr(struct rq *rq, struct task_struct *p)
{
	if (p->sched_class == rq->curr->sched_class)
		p->sched_class->check_preempt_curr(rq, p);
	else if (sched_class_above(p->sched_class, rq->curr->sched_class))
		resched_curr(rq);
}

/* The least loaded allowed online hart; used when prev_cpu will not do. */
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

static int select_task_rq(struct task_struct *p, int prev_cpu, int flags)
{
	int cpu = p->sched_class->select_task_rq(p, prev_cpu, flags);
	if (!task_allowed_on(p, cpu))
		cpu = select_fallback_rq(p);
	return cpu;
}

/*
 * Move a queued (not running) task to new_cpu. Called with rq->lock held
 * (and p->pi_lock, or both rq locks); returns with new_cpu's rq locked
 * instead of rq.
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

/* ---- wakeups ---- */

/* Lock p's runqueue, following p if it moves meanwhile. p->pi_lock held. */
static struct rq *__task_rq_lock(struct task_struct *p)
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

	if (!(READ_ONCE(p->state) & state))
		goto out;
	success = 1;
	smp_mb(); /* read on_rq after state (pairs with __schedule's dequeue) */
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

int wake_up_process(struct task_struct *p)
{
	return try_to_wake_up(p, TASK_NORMAL | TASK_NEW, 0);
}

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

/* A new thread's first C code (ret_from_kthread): finish the switch. Its
 * preempt count started at 1, the runqueue lock it is handed. */
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
		rq->nr_switches++;
		prev->nvcsw++;
		WRITE_ONCE(next->on_cpu, 1);
		rq->curr = next;
		prev = switch_to(prev, next); /* tp = next */
		finish_task_switch(prev);
	} else {
		spin_unlock(&rq->lock);
		local_irq_enable();
	}
}

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

/* preempt_enable() dropped the count to 0 with a reschedule pending. */
void preempt_schedule(void)
{
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

/* On the way out of an interrupt that hit with interrupts on (trap.c). */
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

/* From each hart's timer interrupt (platform/riscv/timer.c). */
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

unsigned long sched_affinity_violations(void)
{
	return __atomic_load_n(&affinity_violations, __ATOMIC_RELAXED);
}

/* ---- policy, nice, affinity ---- */

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

struct task_struct *cpu_idle_task(int cpu)
{
	return cpu_rq(cpu)->idle;
}

/* The boot context of a hart is its idle task (pid 0, "swapper/N"). */
void cpu_startup_entry(void)
{
	struct task_struct *idle = current;
	for (;;) {
		/* Check and sleep with interrupts masked: wfi still wakes on a
		 * pending interrupt, which is taken once they are on again, so
		 * a wakeup between the check and the wfi is never lost. */
		local_irq_disable();
		if (!READ_ONCE(idle->need_resched))
			wfi();
		local_irq_enable();
		if (READ_ONCE(idle->need_resched))
			schedule();
	}
}
