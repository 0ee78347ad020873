/*
 * kthread.c - kernel threads (see kthread.h).
 *
 * A thread's task_struct, stack and struct kthread live until the last
 * reference goes: the thread holds one while it runs (dropped by the
 * hart that switches away from it after it died, in finish_task_switch),
 * and kthread_stop() holds one while it waits.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "cpu_wait.h"
#include "kthread.h"
#include "ktime.h"
#include "mm.h"
#include "preempt.h"
#include "smp.h"
#include "timer.h"
#include "entry.h"
#include "kernel/sched/internal.h"

static struct kthread *to_kthread(struct task_struct *p)
{
	return p->kthread;
}

static bool test_flag(struct kthread *k, int bit)
{
	return (smp_load_acquire(&k->flags) >> bit) & 1;
}

static void set_flag(struct kthread *k, int bit)
{
	__atomic_fetch_or(&k->flags, 1UL << bit, __ATOMIC_SEQ_CST);
}

static void clear_flag(struct kthread *k, int bit)
{
	__atomic_fetch_and(&k->flags, ~(1UL << bit), __ATOMIC_SEQ_CST);
}

/* Where a new thread starts, after ret_from_kthread dropped the rq lock. */
static void kthread_main(struct task_struct *self)
{
	struct kthread *k = to_kthread(self);
	int ret = -EINTR;
	/* Stopped before it ever ran: do not call fn at all, as in Linux. */
	if (!test_flag(k, KTHREAD_SHOULD_STOP))
		ret = k->fn(k->data);
	do_exit(ret);
}

/**
 * kthread_exit_notify() - record a kthread's exit code and release whoever waits for its exit.
 * @p: the exiting task (current, in do_exit()).
 * @code: the code passed to do_exit(): fn's return value, or -EINTR if the thread was stopped
 *	before fn ever ran.
 *
 * Stores @code as the thread's result and completes its ->exited for every waiter, present and
 * future (kthread_stop(), kthread_wait_exit(), kthread_reap()). Does nothing for a task that is
 * not a kthread. The thread still makes its final switch after this, so a waiter that frees it
 * must also wait for that switch (kthread_reap() does).
 *
 * Context: internal: only do_exit() calls it, on the exiting task, before that turns interrupts
 * off. Does not sleep.
 * Return: Nothing.
 */
void kthread_exit_notify(struct task_struct *p, int code)
{
	struct kthread *k = to_kthread(p);
	if (!k)
		return;
	k->result = code;
	complete_all(&k->exited);
}

static struct task_struct *create(int (*fn)(void *), void *data, const char *name)
{
	struct task_struct *p = kzalloc(sizeof(*p));
	struct kthread *k = kzalloc(sizeof(*k));
	void *stack = alloc_kernel_stack();
	if (!p || !k || !stack) {
		kfree(p);
		kfree(k);
		free_kernel_stack(stack);
		pr_warn("kthread_create(%s): out of memory", name);
		return NULL;
	}
	k->fn = fn;
	k->data = data;
	k->bound_cpu = -1;
	init_completion(&k->exited);
	init_completion(&k->parked);
	p->kthread = k;
	p->stack = stack;
	sched_task_init(p, name);
	p->state = TASK_NEW;
	/* Its first switch hands it the runqueue lock: schedule_tail() drops
	 * it, and with it this count. */
	p->thread_info.preempt_count = 1;
	/* Where it first wakes unless bound or moved (a hint: raw). */
	set_task_cpu(p, raw_smp_processor_id());
	/* First switch_to() into it "returns" to ret_from_kthread. */
	p->ctx.ra = (unsigned long)ret_from_kthread;
	p->ctx.sp = (unsigned long)stack + THREAD_SIZE - STACK_TOP_PAD;
	p->ctx.s[0] = 0; /* frame pointer: ends backtraces */
	p->ctx.s[1] = (unsigned long)kthread_main;
	p->ctx.s[2] = (unsigned long)p;
	return p;
}

/**
 * kthread_create() - create a kernel thread, not yet running.
 * @fn: the thread function; its return value becomes the thread's exit code.
 * @data: passed to @fn.
 * @namefmt: printf-style format of the thread's name (cut to TASK_COMM_LEN - 1 characters).
 * @...: the arguments of @namefmt.
 *
 * Allocates the task_struct, its struct kthread and a kernel stack, and leaves the thread in
 * TASK_NEW: fair class, allowed on every hart, first placed on the calling hart (a hint). Start
 * it with wake_up_process(); it then runs @fn(@data) and exits with the result. If kthread_stop()
 * gets to it before it ever ran, @fn is not called at all and the exit code is -EINTR. The only
 * reference is the thread's own, dropped once it has exited and switched away: a caller that
 * uses the pointer after the thread could have exited must take a reference (get_task_struct())
 * before waking it.
 *
 * Context: May sleep (might_sleep()): process context, interrupts and preemption on.
 * Return: the new thread, or NULL (with a warning) if memory ran out.
 */
struct task_struct *kthread_create(int (*fn)(void *), void *data, const char *namefmt, ...)
{
	char name[TASK_COMM_LEN];
	va_list ap;
	might_sleep();
	va_start(ap, namefmt);
	vsnprintf(name, sizeof(name), namefmt, ap);
	va_end(ap);
	return create(fn, data, name);
}

/**
 * kthread_bind() - tie a thread that is not running to one hart.
 * @p: the thread: new (never woken), parked, or asleep in TASK_UNINTERRUPTIBLE.
 * @cpu: the hart it must run on; must be a valid, online hart (not checked).
 *
 * Narrows @p's allowed mask to @cpu and moves it there, so that it starts (or resumes) on @cpu.
 * A thread that is queued or running is refused with a warning and left as it was: it could be
 * running elsewhere the next moment. Does not make @p per-cpu (kthread_create_on_cpu() does).
 *
 * Context: takes @p's pi_lock and then its rq->lock with interrupts saved, so the caller must
 * hold neither (nor any rq->lock). Does not sleep.
 * Return: Nothing; a refusal is reported only by the warning.
 */
void kthread_bind(struct task_struct *p, int cpu)
{
	unsigned long flags;
	struct rq *rq = task_rq_lock(p, &flags);
	/* Only a thread that is not running may be bound: it then starts (or
	 * resumes) on cpu. A queued one is refused: it could be running next. */
	if (WARN(p->on_rq || READ_ONCE(p->on_cpu) ||
			 (p->state != TASK_NEW && p->state != TASK_PARKED &&
			  p->state != TASK_UNINTERRUPTIBLE),
		 "kthread_bind(%s): not a new or parked thread", p->comm)) {
		task_rq_unlock(rq, p, flags);
		return;
	}
	cpumask_clear(&p->cpus_allowed);
	cpumask_set_cpu(cpu, &p->cpus_allowed);
	p->nr_cpus_allowed = 1;
	set_task_cpu(p, cpu);
	task_rq_unlock(rq, p, flags);
}

/**
 * kthread_create_on_cpu() - create a kernel thread bound to one hart, not yet running.
 * @fn: the thread function; its return value becomes the thread's exit code.
 * @data: passed to @fn.
 * @cpu: the hart; must be online.
 * @namefmt: the thread's name, a format given @cpu as its only (unsigned) argument, such as
 *	"migration/%u".
 *
 * As kthread_create(), then binds the thread to @cpu and marks it per-cpu: kthread_is_per_cpu()
 * is then true, and kthread_unpark() puts it back on @cpu. Start it with wake_up_process(). The
 * caller holds no reference, as with kthread_create().
 *
 * Context: process context; the caller must hold no rq->lock or pi_lock (the bind takes them).
 * It has no might_sleep() and its allocations only spin, so boot code (cpu_stop_init()) may
 * use it, although kthread.h counts it among the calls that may sleep.
 * Return: the new thread; NULL if @cpu is out of range or not online, or if memory ran out.
 */
struct task_struct *kthread_create_on_cpu(int (*fn)(void *), void *data, int cpu,
					  const char *namefmt)
{
	char name[TASK_COMM_LEN];
	if (cpu < 0 || cpu >= NR_CPUS || !cpu_online(cpu))
		return NULL;
	snprintf(name, sizeof(name), namefmt, (unsigned)cpu);
	struct task_struct *p = create(fn, data, name);
	if (p) {
		kthread_bind(p, cpu);
		p->kthread->bound_cpu = cpu;
	}
	return p;
}

/**
 * kthread_run_on_cpu() - create a kernel thread bound to one hart and start it.
 * @fn: the thread function; its return value becomes the thread's exit code.
 * @data: passed to @fn.
 * @cpu: the hart; must be online.
 * @namefmt: the thread's name, a format given @cpu as its only (unsigned) argument.
 *
 * kthread_create_on_cpu() followed by wake_up_process(). The caller holds no reference: if @fn
 * may return on its own, the thread can exit and be freed at any time after this, so use
 * kthread_start_on_cpu() when the pointer is needed afterwards.
 *
 * Context: as kthread_create_on_cpu(); the wake-up takes the new thread's pi_lock and
 * @cpu's rq->lock.
 * Return: the new, running thread; NULL if @cpu is out of range or not online, or if memory ran
 * out.
 */
struct task_struct *kthread_run_on_cpu(int (*fn)(void *), void *data, int cpu, const char *namefmt)
{
	struct task_struct *p = kthread_create_on_cpu(fn, data, cpu, namefmt);
	if (p)
		wake_up_process(p);
	return p;
}

/**
 * kthread_start_on_cpu() - kthread_run_on_cpu(), keeping a reference for the caller.
 * @fn: the thread function; its return value becomes the thread's exit code.
 * @data: passed to @fn.
 * @cpu: the hart; must be online.
 * @namefmt: the thread's name, a format given @cpu as its only (unsigned) argument.
 *
 * Takes a reference for the caller before the thread can run (and so before it can exit), then
 * wakes it. The caller ends with kthread_reap(), or kthread_wait_exit() and put_task_struct(),
 * also after kthread_stop() (which does not drop this reference).
 *
 * Context: as kthread_create_on_cpu(); the wake-up takes the new thread's pi_lock and
 * @cpu's rq->lock.
 * Return: the new, running thread with a reference held for the caller; NULL if @cpu is out of
 * range or not online, or if memory ran out.
 */
struct task_struct *kthread_start_on_cpu(int (*fn)(void *), void *data, int cpu,
					 const char *namefmt)
{
	struct task_struct *p = kthread_create_on_cpu(fn, data, cpu, namefmt);
	if (p) {
		get_task_struct(p); /* before it can run, and exit */
		wake_up_process(p);
	}
	return p;
}

/**
 * kthread_is_per_cpu() - whether a task is a kthread created for one hart.
 * @p: the task.
 *
 * True for threads made by kthread_create_on_cpu() (and its _run_ and _start_ forms), which
 * belong to one hart: set_cpus_allowed_ptr() refuses to change their affinity.
 *
 * Context: any context; does not sleep.
 * Return: true if @p is a per-cpu kthread; false for other kthreads and for non-kthreads.
 */
bool kthread_is_per_cpu(const struct task_struct *p)
{
	return p->kthread && p->kthread->bound_cpu >= 0;
}

/**
 * kthread_should_stop() - whether the calling kthread has been told to stop.
 *
 * A kthread's fn polls this and returns once it is true; kthread_stop() sets it and waits.
 *
 * Context: any context; does not sleep.
 * Return: true once kthread_stop() has been called on current; false otherwise, and always for
 * a task that is not a kthread.
 */
bool kthread_should_stop(void)
{
	struct kthread *k = to_kthread(current);
	return k && test_flag(k, KTHREAD_SHOULD_STOP);
}

/**
 * kthread_should_park() - whether the calling kthread has been asked to park.
 *
 * A kthread's fn polls this and calls kthread_parkme() once it is true.
 *
 * Context: any context; does not sleep.
 * Return: true from kthread_park() on current until kthread_unpark(); false otherwise, and
 * always for a task that is not a kthread.
 */
bool kthread_should_park(void)
{
	struct kthread *k = to_kthread(current);
	return k && test_flag(k, KTHREAD_SHOULD_PARK);
}

/**
 * kthread_parkme() - park the calling kthread until it is unparked.
 *
 * Sleeps in TASK_PARKED for as long as a park request stands. The first time round it sets
 * KTHREAD_IS_PARKED and completes ->parked, which releases kthread_park(). The state is set
 * before the request is tested, so an unpark in between wakes it out of TASK_PARKED rather than
 * being lost. Returns at once if no park was requested; returns running, with IS_PARKED cleared.
 *
 * Context: May sleep. Only from a kthread, on itself (current must be a kthread: not checked);
 * process context, interrupts and preemption on, no spinlock held.
 * Return: Nothing.
 */
void kthread_parkme(void)
{
	struct kthread *k = to_kthread(current);
	for (;;) {
		/* State first, then the flag: an unpark between them wakes us
		 * out of TASK_PARKED instead of being lost. */
		set_current_state(TASK_PARKED);
		if (!test_flag(k, KTHREAD_SHOULD_PARK))
			break;
		if (!test_flag(k, KTHREAD_IS_PARKED)) {
			set_flag(k, KTHREAD_IS_PARKED);
			complete(&k->parked);
		}
		schedule();
	}
	clear_flag(k, KTHREAD_IS_PARKED);
	__set_current_state(TASK_RUNNING);
}

/*
 * p is in TASK_PARKED but maybe not asleep yet: complete() may have
 * preempted it between setting TASK_PARKED and its schedule(), still on
 * its runqueue. Wait until it is off every runqueue and off its hart
 * (unpark rebinds only such a task), the way Linux's wait_task_inactive()
 * does, and without spinning on another hart's progress: while p runs
 * elsewhere, halt until its switch-out kicks us (finish_task_switch()'s
 * smp_cond_wake() on on_cpu); while it waits to run, yield our hart to it
 * if it is queued here, else sleep a millisecond. on_rq is read first:
 * once it is 0 a parked task cannot be queued again before its unpark.
 */
static void wait_task_inactive(struct task_struct *p)
{
	for (;;) {
		if (!smp_load_acquire(&p->on_rq)) {
			smp_cond_load_acquire(&p->on_cpu, !VAL);
			return;
		}
		if (READ_ONCE(p->on_cpu))
			smp_cond_load_acquire(&p->on_cpu, !VAL);
		else if (task_cpu(p) == raw_smp_processor_id())
			yield(); /* raw: a stale answer only picks the other way */
		else
			msleep(1);
	}
}

/**
 * kthread_park() - ask a kthread to park and wait until it has.
 * @p: the kthread.
 *
 * Sets @p's park request and wakes it; @p must notice kthread_should_park() and call
 * kthread_parkme(). Waits until @p is asleep in TASK_PARKED with IS_PARKED set, off every
 * runqueue and off its hart. For @p == current it only sets the
 * request; the caller then calls kthread_parkme() itself. A thread that never polls
 * kthread_should_park(), or has exited, leaves the caller waiting forever; one that was never
 * woken is started by this and parks only from its fn (nothing parks it before fn runs).
 *
 * Context: May sleep (might_sleep()): process context, interrupts and preemption on, no
 * spinlock held. A second kthread_park() of the same @p before kthread_unpark() is refused.
 * Return: 0 once @p is parked (for current: once the request is set); -EBUSY if @p is not a
 * kthread, or is parked or being parked by another call (with a warning).
 */
int kthread_park(struct task_struct *p)
{
	struct kthread *k = to_kthread(p);
	might_sleep();
	if (!k)
		return -EBUSY;
	/* One park at a time: a second one would reset the completion the
	 * first waits on, and the thread completes it only once, so one of
	 * the two would wait forever. */
	if (__atomic_fetch_or(&k->flags, 1UL << KTHREAD_PARKING, __ATOMIC_ACQ_REL) &
	    (1UL << KTHREAD_PARKING)) {
		pr_warn("kthread_park(%s) by 0x%lx: already parked or being parked", p->comm,
			_RET_IP_);
		return -EBUSY;
	}
	reinit_completion(&k->parked);
	set_flag(k, KTHREAD_SHOULD_PARK);
	if (p != current) {
		wake_up_process(p);
		wait_for_completion(&k->parked); /* it is in TASK_PARKED from now */
		wait_task_inactive(p);
	}
	return 0;
}

/**
 * kthread_unpark() - let a parked kthread run again.
 * @p: the kthread.
 *
 * Clears @p's park request and wakes it out of TASK_PARKED. A per-cpu thread parks on its own
 * hart and must come back to it: if @p is one and is parked, this first waits until it is off
 * that hart for good, then binds it there again. Harmless if @p was not parked; does nothing for
 * a task that is not a kthread.
 *
 * Context: process context; does not sleep but may spin (halting) until @p is off its hart.
 * Takes @p's pi_lock and its rq->lock, so the caller must hold neither.
 * Return: Nothing.
 */
void kthread_unpark(struct task_struct *p)
{
	struct kthread *k = to_kthread(p);
	if (!k)
		return;
	/* A per-cpu thread parks on its own hart and comes back to it. Not
	 * if it was unparked already (kthread_stop() unparks too): it may be
	 * queued to run, with IS_PARKED cleared only once it does. */
	if (k->bound_cpu >= 0 && test_flag(k, KTHREAD_SHOULD_PARK) &&
	    test_flag(k, KTHREAD_IS_PARKED)) {
		smp_cond_load_acquire(&p->on_cpu, !VAL); /* off its hart for good */
		kthread_bind(p, k->bound_cpu);
	}
	clear_flag(k, KTHREAD_SHOULD_PARK);
	clear_flag(k, KTHREAD_PARKING); /* the next kthread_park() may come */
	wake_up_state(p, TASK_PARKED);
}

/**
 * kthread_wait_exit() - wait for a kthread to exit and get its exit code.
 * @p: the kthread; the caller holds a reference to it.
 *
 * Waits for @p's ->exited, which stays complete once set, so any number of callers may wait, and
 * more than once. Does not ask @p to stop (kthread_stop() does) and does not drop the caller's
 * reference; @p may still be making its final switch when this returns.
 *
 * Context: May sleep. Process context, interrupts and preemption on, no spinlock held; @p must
 * be a kthread (not checked) and not current.
 * Return: @p's exit code: its fn's return value (or the code it passed to do_exit()), or -EINTR
 * if it was stopped before its fn ran.
 */
int kthread_wait_exit(struct task_struct *p)
{
	wait_for_completion(&p->kthread->exited);
	return p->kthread->result;
}

/**
 * kthread_reap() - wait for a kthread to exit, then free it.
 * @p: the kthread; the caller holds a reference (kthread_start_on_cpu()) and gives it up here.
 *
 * Waits for @p to exit, then for the hart switching away from it for the last time to drop the
 * thread's own reference, and drops the caller's: @p (task_struct, stack, struct kthread) is
 * then normally freed before this returns, so free-page counts are exact afterwards. The second
 * wait sleeps in msleep(1) steps rather than spinning: the dying thread may be queued on our own
 * hart behind us, and on an oversubscribed host the hart switching away may not run for a while.
 * After 5 s it warns and drops the reference anyway; the last user then frees @p. Any other
 * reference held meanwhile causes that 5 s wait. The exit code is discarded: call
 * kthread_wait_exit() first to get it.
 *
 * Context: May sleep. Process context, interrupts and preemption on, no spinlock held; @p must
 * be a kthread, and must not be used afterwards.
 * Return: Nothing.
 */
void kthread_reap(struct task_struct *p)
{
	kthread_wait_exit(p);
	/* Exited is signalled just before the final switch: wait for the
	 * hart that switches away from it to drop the thread's own reference,
	 * so our put frees it now and free-page counts are exact afterwards. */
	/* Sleep, not spin, while waiting: the dying thread may be queued on
	 * our own hart behind us (an rt reaper spinning there kept a fair one
	 * from its last switch), and on an oversubscribed host the hart
	 * switching away may not be run for a while. */
	uint64_t deadline = get_cycles() + (uint64_t)timebase_hz * 5;
	while ((READ_ONCE(p->on_cpu) || READ_ONCE(p->refcount) > 1) && get_cycles() < deadline)
		msleep(1);
	if (READ_ONCE(p->on_cpu) || READ_ONCE(p->refcount) > 1)
		pr_warn("kthread_reap(%s): still referenced after 5 s; freed by its last user",
			p->comm);
	put_task_struct(p);
}

/**
 * kthread_stop() - tell a kthread to stop and wait for it to exit.
 * @p: the kthread.
 *
 * Sets @p's stop request, unparks it and wakes it, then waits until it has exited; @p's fn must
 * poll kthread_should_stop() and return. A thread that was never woken is started and exits at
 * once with -EINTR, without running its fn. A reference is held while waiting, but the caller
 * must make sure @p still exists when calling: hold a reference, or know that @p exits only when
 * told to (a thread whose fn returned on its own may already be freed). A reference the caller
 * holds (kthread_start_on_cpu()) is not dropped.
 *
 * Context: May sleep (might_sleep()): process context, interrupts and preemption on, no spinlock
 * held; not from @p itself, which would wait for its own exit.
 * Return: @p's exit code (its fn's return value, or -EINTR if fn never ran); -EINVAL if @p is not
 * a kthread.
 */
int kthread_stop(struct task_struct *p)
{
	struct kthread *k = to_kthread(p);
	might_sleep();
	if (!k)
		return -EINVAL;
	get_task_struct(p);
	set_flag(k, KTHREAD_SHOULD_STOP);
	kthread_unpark(p);
	wake_up_process(p);
	int ret = kthread_wait_exit(p);
	put_task_struct(p);
	return ret;
}
