/*
 * stop_machine.c - per-hart stopper threads and the rendezvous built on
 * them (see stop_machine.h for the contracts).
 *
 * Queueing rules, each one a deadlock Linux fixed:
 * - a multi-hart work spins until its peers arrive, so two harts' lists
 *   must never hold two multi-hart works in crossing orders: stop_two_cpus
 *   takes both stopper locks in ascending CPU order and appends to both
 *   lists in that one critical section, and backs off while stop_cpus()
 *   is queueing hart by hart (stop_cpus_in_progress);
 * - queue and wake with preemption disabled, so that the local stopper
 *   cannot preempt the queuer before the remote ones were woken;
 * - wake the stopper after dropping its lock, synchronously (a RESCHEDULE
 *   IPI for a remote hart), never through a deferred list;
 * - a nowait work buffer belongs to the stopper until its fn starts.
 *
 * Lock order: stopper->lock (interrupts off) is taken before p->pi_lock
 * and rq->lock are taken by the wakeup that follows it (after unlocking).
 * Two stopper locks: ascending CPU order.
 *
 * The state machine every participant of a rendezvous runs,
 * multi_cpu_stop(), is stop_machine_rendezvous.c; what watches all this
 * (the stall watchdog, the witnesses, counters and panic dumps) is
 * stop_machine_debug.c.
 */
#include <stdio.h>
#include <string.h>
#include "console.h"
#include "cpu_wait.h"
#include "kthread.h"
#include "ktime.h"
#include "mutex.h"
#include "preempt.h"
#include "cmdline.h"
#include "smp.h"
#include "stop_machine.h"
#include "stop_trace.h"
#include "tick.h"
#include "timer.h"
#include "kernel/stop_machine_internal.h"

struct cpu_stop_done {
	int nr_todo; /* works still to run; the last one completes */
	int ret;     /* a non-zero fn result (last writer wins) */
	struct completion completion;
};

DEFINE_PER_CPU(struct cpu_stopper, cpu_stopper);
static DEFINE_MUTEX(stop_cpus_mutex);
/* stop_cpus() is queueing hart by hart (stop_cpus_mutex held); waiters in
 * stop_two_cpus() are kicked when it clears. */
static int stop_cpus_in_progress;
/* The stoppers exist; until then the stop calls return -ENOENT (their
 * locks and lists are not even initialised). Released by cpu_stop_init(). */
static bool stop_machine_initialized;
/* Fault injection (boot argument stop_queue_delay_us, 0 by default):
 * stop_cpus() pauses this long after queueing on each hart, which widens
 * the window the stop_cpus_in_progress rule closes (test/mutants.py). */
static unsigned long queue_delay_us;

static void cpu_stop_init_done(struct cpu_stop_done *done, int nr_todo)
{
	memset(done, 0, sizeof(*done));
	done->nr_todo = nr_todo;
	init_completion(&done->completion);
}

static void cpu_stop_signal_done(struct cpu_stop_done *done)
{
	if (__atomic_sub_fetch(&done->nr_todo, 1, __ATOMIC_ACQ_REL) == 0)
		complete(&done->completion);
}

/**
 * cpu_stopper_task() - the stopper thread of a hart.
 * @cpu: the hart; must be in 0..NR_CPUS-1 (not checked).
 *
 * Looks up migration/@cpu, the stop-class thread that runs whatever the stop calls queue on
 * @cpu. Callers use it to ask "am I that hart's stopper?" (the affinity code must not move a
 * task from its own stopper) and the tests use it to check where a stop fn ran.
 *
 * Context: any context; a plain read, takes no lock and does not sleep. The pointer is set once
 * by cpu_stop_init() and never changes afterwards.
 * Return: the stopper's task_struct; NULL before cpu_stop_init() and for a hart that was not
 * online when cpu_stop_init() ran.
 */
struct task_struct *cpu_stopper_task(int cpu)
{
	return per_cpu(cpu_stopper, cpu).thread;
}

/**
 * cpu_stop_state() - where a hart is in the multi-stop state machine.
 * @cpu: the hart; must be in 0..NR_CPUS-1 (not checked).
 *
 * A racy snapshot for tests and statistics: @cpu's stopper records each state of a rendezvous
 * (stop_machine(), stop_two_cpus(), stop_cpus_rendezvous()) as it enters it, and MULTI_STOP_NONE
 * once it has left. The answer may be stale by the time the caller looks at it.
 *
 * Context: any context; a lockless read, does not sleep.
 * Return: the state @cpu's stopper last entered, or MULTI_STOP_NONE if it is in no rendezvous.
 */
enum multi_stop_state cpu_stop_state(int cpu)
{
	return READ_ONCE(per_cpu(cpu_stopper, cpu).state);
}

/* Caller holds stopper->lock; the wake-up happens after it is dropped. */
static void __cpu_stop_queue_work(struct cpu_stopper *stopper, struct cpu_stop_work *work)
{
	WRITE_ONCE(work->queued, 1);
	list_add_tail(&work->list, &stopper->works);
	stop_trace(STOP_EV_QUEUE, stopper->cpu);
}

/* Queue work on cpu's stopper and wake it; false if it is disabled (and
 * then work->done is signalled, so that nobody waits for it forever). */
static bool cpu_stop_queue_work(int cpu, struct cpu_stop_work *work)
{
	struct cpu_stopper *stopper = per_cpu_ptr(&cpu_stopper, cpu);
	preempt_disable();
	unsigned long flags = spin_lock_irqsave(&stopper->lock);
	bool enabled = stopper->enabled;
	if (enabled)
		__cpu_stop_queue_work(stopper, work);
	spin_unlock_irqrestore(&stopper->lock, flags);
	/* Nothing is taken under a stopper lock: wake-ups and completions
	 * come after it is dropped. */
	if (enabled)
		wake_up_process(stopper->thread);
	else if (work->done)
		cpu_stop_signal_done(work->done);
	preempt_enable();
	return enabled;
}

/*
 * Would waiting for a stopper deadlock here? From a stop fn (our own
 * stopper is busy running us), an interrupt, or with interrupts or
 * preemption off (the local stopper could never run). Warn naming the
 * caller.
 */
static bool stop_call_would_deadlock(const char *api, unsigned long caller)
{
	const char *why = NULL;
	/* Raw: if we are a stopper we are bound to its hart; if not, no
	 * hart's stopper is us. */
	if (current->in_stop_fn || current == raw_cpu(cpu_stopper).thread)
		why = "from a stop fn";
	else if (in_irq())
		why = "from interrupt context";
	else if (irqs_disabled())
		why = "with interrupts disabled";
	else if (preempt_count())
		why = "with preemption disabled";
	if (!why)
		return false;
	pr_warn("WARNING: %s() called %s by 0x%lx: would deadlock, refused with -EDEADLK", api, why,
		caller);
	return true;
}

static bool stoppers_ready(void)
{
	return smp_load_acquire(&stop_machine_initialized);
}

/* 0, -EINVAL for a bad cpu, -ENOENT for one with no stopper (offline, or
 * before cpu_stop_init()). */
static int check_cpu(int cpu)
{
	if (cpu < 0 || cpu >= NR_CPUS)
		return -EINVAL;
	if (!cpu_online(cpu) || !stoppers_ready())
		return -ENOENT;
	return 0;
}

/**
 * stop_one_cpu() - run a function in one hart's stopper and wait for it.
 * @cpu: the hart that runs @fn; may be the caller's own.
 * @fn: the function; runs in migration/@cpu, ahead of everything else on that hart.
 * @arg: passed to @fn.
 *
 * Queues a work (it lives on the caller's stack) on @cpu's stopper, wakes the stopper and waits
 * until @fn has returned. @fn runs with preemption disabled and interrupts on; it must not sleep,
 * leak a preempt count or return with interrupts off (the stopper warns about each and repairs
 * the last two). If @cpu's stopper is disabled nothing is queued, @fn does not run and the call
 * does not wait.
 *
 * Context: May sleep. Process context only, with interrupts and preemption enabled (so no
 * spinlock held) and not from a stop fn: there the stopper could never run, or would wait for
 * itself. Each of those is refused with a warning naming the caller.
 * Return: @fn's return value (a negative one cannot be told apart from the errnos below);
 * -EINVAL if @cpu is out of range or @fn is NULL; -ENOENT if @cpu is offline, the stoppers do
 * not exist yet (before cpu_stop_init()) or @cpu's stopper is disabled; -EDEADLK if called from
 * one of the contexts refused above.
 */
int stop_one_cpu(int cpu, cpu_stop_fn_t fn, void *arg)
{
	struct cpu_stop_done done;
	struct cpu_stop_work work = {.fn = fn, .arg = arg, .done = &done, .caller = _RET_IP_};
	int rc = check_cpu(cpu);
	if (rc || !fn)
		return rc ? rc : -EINVAL;
	if (stop_call_would_deadlock("stop_one_cpu", _RET_IP_))
		return -EDEADLK;
	cpu_stop_init_done(&done, 1);
	if (!cpu_stop_queue_work(cpu, &work))
		return -ENOENT;
	wait_for_completion(&done.completion);
	return done.ret;
}

/**
 * stop_one_cpu_nowait() - queue a function on one hart's stopper without waiting for it.
 * @cpu: the hart that runs @fn; may be the caller's own.
 * @fn: the function; runs in migration/@cpu with preemption disabled and must not sleep.
 * @arg: passed to @fn.
 * @work_buf: the caller's work buffer, zeroed before its first use; it must stay valid until
 *	@fn has started.
 *
 * Fills @work_buf, queues it on @cpu's stopper and wakes the stopper; @fn's result is dropped.
 * The buffer belongs to the stopper from the moment it is queued until @fn starts, and is the
 * caller's again from then on (so @fn itself may queue it once more). Queueing a buffer that is
 * still queued would corrupt the stopper's list, so that is refused with a warning instead.
 * Users that must know whether @fn will run keep their own flag (active_balance, stop_pending)
 * and clear it themselves when this returns false: nobody else will.
 *
 * Context: any context, interrupt context and interrupts off included (the load balancer calls
 * it from the tick); does not sleep. Queues and wakes with preemption disabled. The wake-up takes
 * the stopper's pi_lock and @cpu's rq->lock, and the queueing @cpu's stopper lock: the caller
 * must hold none of them.
 * Return: true if @fn was queued; false if not: @cpu out of range or offline, the stoppers not
 * created yet, @fn or @work_buf NULL, @work_buf still queued, or @cpu's stopper disabled.
 */
bool stop_one_cpu_nowait(int cpu, cpu_stop_fn_t fn, void *arg, struct cpu_stop_work *work_buf)
{
	if (check_cpu(cpu) || !fn || !work_buf)
		return false;
	int expect = 0;
	if (!__atomic_compare_exchange_n(&work_buf->queued, &expect, 2, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED)) {
		pr_warn("WARNING: stop_one_cpu_nowait(cpu%d) by 0x%lx: work %p is still queued "
			"(fn %p); not queued again",
			cpu, _RET_IP_, (void *)work_buf, (void *)work_buf->fn);
		return false;
	}
	work_buf->fn = fn;
	work_buf->arg = arg;
	work_buf->done = NULL;
	work_buf->caller = _RET_IP_;
	if (!cpu_stop_queue_work(cpu, work_buf)) {
		smp_store_release(&work_buf->queued, 0);
		return false;
	}
	return true;
}

/**
 * stop_two_cpus() - rendezvous two harts and run a function on the first.
 * @cpu1: the hart that runs @fn.
 * @cpu2: the other participant; must differ from @cpu1.
 * @fn: the function; runs on @cpu1 while both harts spin with interrupts off.
 * @arg: passed to @fn.
 *
 * Queues multi_cpu_stop() on both stoppers and waits for both works. The two are appended in one
 * critical section holding both stopper locks (lower CPU first), so two multi-hart works never
 * sit in crossing orders on two lists and spin for each other forever; while stop_cpus() is
 * queueing hart by hart it drops the locks, waits for that to end and retries. Either both works
 * are queued or neither is.
 *
 * Context: May sleep. Process context only, with interrupts and preemption enabled (so no
 * spinlock held) and not from a stop fn; each of those is refused with a warning naming the
 * caller. Does not take stop_cpus_mutex.
 * Return: @fn's return value; -EINVAL if @cpu1 == @cpu2, @fn is NULL or a cpu is out of range;
 * -ENOENT if either hart is offline or has its stopper disabled, or the stoppers do not exist
 * yet (nothing is then queued on either hart); -EDEADLK if called from a context refused above.
 */
int stop_two_cpus(int cpu1, int cpu2, cpu_stop_fn_t fn, void *arg)
{
	struct cpu_stop_done done;
	struct cpu_stop_work work1, work2;
	cpumask_t active;
	int rc;

	if (cpu1 == cpu2 || !fn)
		return -EINVAL;
	if ((rc = check_cpu(cpu1)) || (rc = check_cpu(cpu2)))
		return rc;
	if (stop_call_would_deadlock("stop_two_cpus", _RET_IP_))
		return -EDEADLK;

	cpumask_clear(&active);
	cpumask_set_cpu(cpu1, &active);
	struct multi_stop_data ms = {.fn = fn,
				     .data = arg,
				     .num_threads = 2,
				     .active_cpus = &active,
				     .caller = _RET_IP_};
	cpumask_set_cpu(cpu1, &ms.participants);
	cpumask_set_cpu(cpu2, &ms.participants);
	cpu_stop_init_done(&done, 2);
	multi_stop_prepare(&ms);
	work1 = work2 = (struct cpu_stop_work){
		.fn = multi_cpu_stop, .arg = &ms, .done = &done, .caller = _RET_IP_};

	int lo = min(cpu1, cpu2), hi = max(cpu1, cpu2);
	struct cpu_stopper *s_lo = per_cpu_ptr(&cpu_stopper, lo),
			   *s_hi = per_cpu_ptr(&cpu_stopper, hi);
retry:
	preempt_disable();
	unsigned long flags = spin_lock_irqsave(&s_lo->lock);
	spin_lock(&s_hi->lock);
	rc = -ENOENT;
	if (s_lo->enabled && s_hi->enabled) {
		rc = -EAGAIN;
		/* stop_cpus() is queueing hart by hart: queueing now could put
		 * our two works in crossing orders with its. Wait it out. */
		if (!stop_cpus_in_progress) {
			__cpu_stop_queue_work(s_lo, &work1);
			__cpu_stop_queue_work(s_hi, &work2);
			rc = 0;
		}
	}
	spin_unlock(&s_hi->lock);
	spin_unlock_irqrestore(&s_lo->lock, flags);
	if (rc == -EAGAIN) {
		preempt_enable();
		smp_cond_load_acquire(&stop_cpus_in_progress, !VAL);
		goto retry;
	}
	if (rc == 0) {
		wake_up_process(s_lo->thread);
		wake_up_process(s_hi->thread);
	}
	preempt_enable();
	if (rc)
		return rc; /* nothing was queued on either hart */
	wait_for_completion(&done.completion);
	return done.ret;
}

/* Queue fn on every hart of mask, hart by hart. Caller holds stop_cpus_mutex. */
static bool queue_stop_cpus_work(const cpumask_t *mask, cpu_stop_fn_t fn, void *arg,
				 struct cpu_stop_done *done, unsigned long caller)
{
	bool queued = false;
	int cpu;
	/* Preemption off: our own stopper must not start spinning for peers
	 * that we have not queued yet. The flag keeps stop_two_cpus() out. */
	preempt_disable();
	WRITE_ONCE(stop_cpus_in_progress, 1);
	barrier();
	for_each_cpu(cpu, mask) {
		struct cpu_stop_work *work = &per_cpu(cpu_stopper, cpu).stop_work;
		work->fn = fn;
		work->arg = arg;
		work->done = done;
		work->caller = caller;
		work->queued = 0;
		if (cpu_stop_queue_work(cpu, work))
			queued = true;
		if (queue_delay_us)
			udelay(queue_delay_us);
	}
	barrier();
	smp_store_release(&stop_cpus_in_progress, 0);
	smp_cond_wake(&stop_cpus_in_progress);
	preempt_enable();
	return queued;
}

static int __stop_cpus(const cpumask_t *mask, cpu_stop_fn_t fn, void *arg, unsigned long caller)
{
	struct cpu_stop_done done;
	cpu_stop_init_done(&done, cpumask_weight(mask));
	if (!queue_stop_cpus_work(mask, fn, arg, &done, caller))
		return -ENOENT;
	wait_for_completion(&done.completion);
	return done.ret;
}

static int check_mask(const cpumask_t *mask)
{
	cpumask_t off;
	if (!mask || cpumask_empty(mask))
		return -EINVAL;
	cpumask_andnot(&off, mask, cpu_online_mask);
	return cpumask_empty(&off) && stoppers_ready() ? 0 : -ENOENT;
}

/* What every call taking a mask and a fn checks first: 0, or its result. */
static int check_mask_call(const cpumask_t *mask, cpu_stop_fn_t fn, const char *api,
			   unsigned long caller)
{
	int rc = check_mask(mask);
	if (rc || !fn)
		return rc ? rc : -EINVAL;
	return stop_call_would_deadlock(api, caller) ? -EDEADLK : 0;
}

/**
 * stop_cpus() - run a function in the stopper of every hart of a mask and wait for all.
 * @mask: the harts; all must be online.
 * @fn: the function; runs on each hart of @mask in its stopper, with preemption disabled and
 *	interrupts on. This is not a rendezvous: the harts do not wait for each other.
 * @arg: passed to every call of @fn.
 *
 * Serialised by stop_cpus_mutex (with try_stop_cpus(), stop_machine() and
 * stop_cpus_rendezvous()), because it uses each hart's one static stop work. It queues hart by
 * hart with preemption disabled, so that our own stopper cannot start before the others were
 * queued, and with stop_cpus_in_progress set, which keeps stop_two_cpus() from interleaving its
 * works with ours. A hart whose stopper is disabled is skipped (@fn does not run there).
 *
 * Context: May sleep (takes a mutex, waits for a completion). Process context only, with
 * interrupts and preemption enabled (so no spinlock held) and not from a stop fn; each of those
 * is refused with a warning naming the caller.
 * Return: 0, or a non-zero @fn result (if several harts return one, the last stored wins);
 * -EINVAL if @mask is NULL or empty or @fn is NULL; -ENOENT if a hart of @mask is offline, the
 * stoppers do not exist yet or no stopper of @mask is enabled; -EDEADLK if called from a context
 * refused above.
 */
int stop_cpus(const cpumask_t *mask, cpu_stop_fn_t fn, void *arg)
{
	int rc = check_mask_call(mask, fn, "stop_cpus", _RET_IP_);
	if (rc)
		return rc;
	mutex_lock(&stop_cpus_mutex);
	rc = __stop_cpus(mask, fn, arg, _RET_IP_);
	mutex_unlock(&stop_cpus_mutex);
	return rc;
}

/**
 * try_stop_cpus() - stop_cpus(), unless another stop_cpus-type call is under way.
 * @mask: the harts; all must be online.
 * @fn: the function; runs on each hart of @mask as for stop_cpus().
 * @arg: passed to every call of @fn.
 *
 * As stop_cpus(), but returns instead of waiting when stop_cpus_mutex is taken (by stop_cpus(),
 * try_stop_cpus(), stop_machine() or stop_cpus_rendezvous()). Once it has the mutex it still
 * waits for @fn to finish on every hart.
 *
 * Context: May sleep (waits for a completion). Process context only, with interrupts and
 * preemption enabled (so no spinlock held) and not from a stop fn; each of those is refused with
 * a warning naming the caller.
 * Return: as stop_cpus(): 0 or a non-zero @fn result, -EINVAL, -ENOENT, -EDEADLK; and -EAGAIN
 * if stop_cpus_mutex was held, in which case nothing was queued.
 */
int try_stop_cpus(const cpumask_t *mask, cpu_stop_fn_t fn, void *arg)
{
	int rc = check_mask_call(mask, fn, "try_stop_cpus", _RET_IP_);
	if (rc)
		return rc;
	if (!mutex_trylock(&stop_cpus_mutex))
		return -EAGAIN;
	rc = __stop_cpus(mask, fn, arg, _RET_IP_);
	mutex_unlock(&stop_cpus_mutex);
	return rc;
}

/* The rendezvous of the harts in `participants`; fn on those in `active`
 * (NULL: the first participant). Caller checked the arguments. */
static int __stop_machine(const cpumask_t *participants, const cpumask_t *active, cpu_stop_fn_t fn,
			  void *arg, unsigned long caller)
{
	mutex_lock(&stop_cpus_mutex);
	/* Under the mutex: no other stop_cpus() is queueing, and (there is no
	 * hotplug) the participants stay online. */
	struct multi_stop_data ms = {.fn = fn,
				     .data = arg,
				     .num_threads = cpumask_weight(participants),
				     .active_cpus = active,
				     .first_cpu = cpumask_first(participants),
				     .caller = caller};
	cpumask_copy(&ms.participants, participants);
	multi_stop_prepare(&ms);
	int rc = __stop_cpus(participants, multi_cpu_stop, &ms, caller);
	mutex_unlock(&stop_cpus_mutex);
	return rc;
}

/**
 * stop_machine() - stop every online hart and run a function with interrupts off everywhere.
 * @fn: the function.
 * @arg: passed to @fn.
 * @cpus: the harts that run @fn, all online; NULL for the first online hart only.
 *
 * Every online hart's stopper joins one rendezvous (multi_cpu_stop()): all arrive, all turn
 * their interrupts off, the harts of @cpus run @fn while the others spin, and all leave together,
 * so nothing else runs anywhere meanwhile (what text patching needs). Serialised with stop_cpus()
 * by stop_cpus_mutex. Before cpu_stop_init() there are no stoppers: @fn then runs once, on the
 * calling hart with its interrupts off, which is only right while a single hart is online (it
 * warns otherwise); in that case @cpus is ignored beyond the empty check and no context is
 * refused.
 *
 * Context: May sleep. Process context only, with interrupts and preemption enabled (so no
 * spinlock held) and not from a stop fn; each of those is refused with a warning naming the
 * caller. Early boot (before cpu_stop_init()) is the exception described above.
 * Return: 0, or a non-zero @fn result (if several harts return one, the last stored wins);
 * -EINVAL if @fn is NULL or @cpus is empty; -ENOENT if a hart of @cpus is offline (or no
 * stopper is enabled); -EDEADLK if called from a context refused above.
 */
int stop_machine(cpu_stop_fn_t fn, void *arg, const cpumask_t *cpus)
{
	if (!fn || (cpus && cpumask_empty(cpus)))
		return -EINVAL;
	if (!stop_machine_initialized) {
		/* Early boot: no stoppers yet. Only correct on one hart. */
		WARN(num_online_cpus() > 1,
		     "stop_machine() before the stoppers exist with %d harts "
		     "online: running fn on this hart only",
		     num_online_cpus());
		unsigned long flags = local_irq_save();
		int ret = fn(arg);
		local_irq_restore(flags);
		return ret;
	}
	int rc = cpus ? check_mask(cpus) : 0;
	if (rc)
		return rc;
	if (stop_call_would_deadlock("stop_machine", _RET_IP_))
		return -EDEADLK;
	return __stop_machine(cpu_online_mask, cpus, fn, arg, _RET_IP_);
}

/**
 * stop_cpus_rendezvous() - the stop_machine() rendezvous among some harts only.
 * @participants: the harts that rendezvous; all must be online.
 * @fn: the function; runs on the first hart of @participants, with interrupts off on all of them.
 * @arg: passed to @fn.
 *
 * The same multi-stop state machine as stop_machine(), but harts outside @participants keep
 * running; the bench uses it to measure the rendezvous for 1, 2, 4, ... harts. Serialised with
 * stop_cpus() and stop_machine() by stop_cpus_mutex. Unlike stop_machine() it has no early-boot
 * fallback.
 *
 * Context: May sleep. Process context only, with interrupts and preemption enabled (so no
 * spinlock held) and not from a stop fn; each of those is refused with a warning naming the
 * caller.
 * Return: 0 or @fn's non-zero result; -EINVAL if @participants is NULL or empty or @fn is NULL;
 * -ENOENT if a hart of @participants is offline, the stoppers do not exist yet or none of them
 * is enabled; -EDEADLK if called from a context refused above.
 */
int stop_cpus_rendezvous(const cpumask_t *participants, cpu_stop_fn_t fn, void *arg)
{
	int rc = check_mask_call(participants, fn, "stop_cpus_rendezvous", _RET_IP_);
	if (rc)
		return rc;
	return __stop_machine(participants, NULL, fn, arg, _RET_IP_);
}

/* ---- the stopper thread ---- */

static void cpu_stopper_run(struct cpu_stopper *stopper, struct cpu_stop_work *work)
{
	cpu_stop_fn_t fn = work->fn;
	void *arg = work->arg;
	struct cpu_stop_done *done = work->done;
	unsigned int count = preempt_count();
	unsigned long switches = current->nvcsw;

	preempt_disable();
	/* The tick is a single work's watchdog (cpu_stop_tick()), and a hart
	 * that left idle for its stopper alone has it off. A rendezvous is
	 * watched by its spinning participants instead: no timer write on
	 * its path. */
	if (fn != multi_cpu_stop) {
		unsigned long flags = local_irq_save();
		tick_nohz_restart();
		local_irq_restore(flags);
	}
	/* What the watchdog reads, before fn that says "something runs": a
	 * tick between the stores must not pair a new fn with the last
	 * work's start time (a false "running fn for N ms"). The release
	 * pairs with the acquire in stop_tick_check() and print_stop_info(). */
	stopper->caller = work->caller;
	stopper->reported = false;
	stopper->started = get_cycles();
	smp_store_release(&stopper->fn, fn);
	current->in_stop_fn = true;
	/* The buffer is the owner's again once fn starts (nowait users). */
	smp_store_release(&work->queued, 0);
	stop_trace(STOP_EV_WORK, 0);
	int ret = fn(arg);
	stop_trace(STOP_EV_WORK_END, ret);
	current->in_stop_fn = false;
	stopper->stats.works++;
	stopper->stats.fn_ticks += get_cycles() - stopper->started;
	WRITE_ONCE(stopper->fn, NULL);
	if (done) {
		if (ret)
			done->ret = ret;
		cpu_stop_signal_done(done);
	}
	if (WARN(preempt_count() != count + 1,
		 "cpu_stop: fn %p (caller 0x%lx) leaked preempt count %u", (void *)fn,
		 stopper->caller, preempt_count() - count - 1))
		preempt_count_set(count + 1);
	if (WARN(irqs_disabled(), "cpu_stop: fn %p (caller 0x%lx) returned with interrupts off",
		 (void *)fn, stopper->caller))
		local_irq_enable();
	WARN(current->nvcsw != switches, "cpu_stop: fn %p (caller 0x%lx) slept", (void *)fn,
	     stopper->caller);
	preempt_enable();
}

static int cpu_stopper_thread(void *data)
{
	int cpu = (int)(uintptr_t)data;
	struct cpu_stopper *stopper = per_cpu_ptr(&cpu_stopper, cpu);
	for (;;) {
		struct cpu_stop_work *work = NULL;
		/* State before the check: a queue+wake in between is not lost. */
		set_current_state(TASK_INTERRUPTIBLE);
		unsigned long flags = spin_lock_irqsave(&stopper->lock);
		if (!list_empty(&stopper->works)) {
			work = list_first_entry(&stopper->works, struct cpu_stop_work, list);
			list_del_init(&work->list);
		}
		spin_unlock_irqrestore(&stopper->lock, flags);
		if (!work) {
			if (kthread_should_stop())
				break;
			schedule();
			continue;
		}
		__set_current_state(TASK_RUNNING);
		cpu_stopper_run(stopper, work);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/* ---- boot ---- */

/**
 * cpu_stop_init() - create the stoppers and open the stop calls.
 *
 * For each online hart: initialise its stopper's lock and work list, create migration/N bound to
 * it, install that as the hart's stop-class task, enable it and wake it. It also reads the
 * stop_queue_delay_us boot argument, sets up the stall watchdog and registers print_stop_info()
 * for panics. Only at the end is stop_machine_initialized released: until then the stop calls
 * return -ENOENT (stop_machine() runs fn in place) because the locks and lists are not set up.
 * A hart that comes online later gets no stopper.
 *
 * Context: boot only, once, in start_kernel() on the boot hart after smp_boot_secondaries();
 * process context, interrupts on. Allocates memory and panics if a stopper cannot be created.
 * Return: Nothing.
 */
void cpu_stop_init(void)
{
	int cpu;
	stop_watchdog_init();
	queue_delay_us = cmdline_get_ulong("stop_queue_delay_us", 0);
	for_each_online_cpu(cpu) {
		struct cpu_stopper *stopper = per_cpu_ptr(&cpu_stopper, cpu);
		spin_lock_init_class(&stopper->lock, LOCK_CLASS_STOPPER, cpu);
		stopper->cpu = cpu;
		INIT_LIST_HEAD(&stopper->works);
		struct task_struct *t = kthread_create_on_cpu(
			cpu_stopper_thread, (void *)(uintptr_t)cpu, cpu, "migration/%u");
		if (!t)
			panic("stop_machine: no memory for migration/%d", cpu);
		stopper->thread = t;
		sched_set_stop_task(cpu, t);
		stopper->enabled = true;
		wake_up_process(t);
		pr_info("stop: migration/%d (pid %d) is cpu%d's stop-class task", cpu, t->pid, cpu);
	}
	panic_register_notifier(print_stop_info);
	stop_wait_init();
	smp_store_release(&stop_machine_initialized, true);
}
