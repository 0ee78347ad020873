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
 * What watches all this (the stall watchdog, the witnesses, counters and
 * panic dumps) is stop_machine_debug.c.
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

struct task_struct *cpu_stopper_task(int cpu)
{
	return per_cpu(cpu_stopper, cpu).thread;
}

enum multi_stop_state cpu_stop_state(int cpu)
{
	return READ_ONCE(per_cpu(cpu_stopper, cpu).state);
}

/* Caller holds stopper->lock; the wake-up happens after it is dropped. */
static void __cpu_stop_queue_work(struct cpu_stopper *stopper, struct cpu_stop_work *work)
{
	WRITE_ONCE(work->queued, 1);
	list_add_tail(&work->list, &stopper->works);
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

/* ---- the multi-stop state machine ---- */

static void set_state(struct multi_stop_data *ms, enum multi_stop_state newstate)
{
	/* Reset the ack count before publishing the state. */
	__atomic_store_n(&ms->thread_ack, ms->num_threads, __ATOMIC_RELAXED);
	cpumask_clear(&ms->acked);
	ms->state_start = get_cycles();
	smp_wmb();
	smp_store_release(&ms->state, newstate);
	smp_cond_wake(&ms->state); /* participants halted waiting for it */
}

/* The last hart to ack a state moves everyone to the next one. */
static void ack_state(struct multi_stop_data *ms)
{
	cpumask_set_cpu_atomic(smp_processor_id(), &ms->acked);
	if (__atomic_sub_fetch(&ms->thread_ack, 1, __ATOMIC_ACQ_REL) == 0)
		set_state(ms, ms->state + 1);
}

int multi_cpu_stop(void *data)
{
	struct multi_stop_data *ms = data;
	struct cpu_stopper *stopper = this_cpu_ptr(&cpu_stopper);
	enum multi_stop_state curstate = MULTI_STOP_NONE;
	int cpu = smp_processor_id(), err = 0;
	bool is_active =
		ms->active_cpus ? cpumask_test_cpu(cpu, ms->active_cpus) : cpu == ms->first_cpu;
	/* PREPARE runs with interrupts as they were (on, in the stopper): a
	 * hart that has not arrived yet may be waiting for a cross-hart call
	 * that only we can answer. */
	unsigned long flags = csr_read(sstatus) & SSTATUS_SIE;
	uint64_t entered = get_cycles();
	struct cpu_wait w = {0, 0};

	stopper->stats.rendezvous++;
	WRITE_ONCE(stopper->ms, ms);
	do {
		enum multi_stop_state newstate = smp_load_acquire(&ms->state);
		if (newstate != curstate) {
			w = (struct cpu_wait){0, 0}; /* a fresh spin budget per state */
			uint64_t now = get_cycles();
			stopper->stats.state_ticks[curstate] += now - entered;
			entered = now;
			curstate = newstate;
			WRITE_ONCE(stopper->state, curstate);
			switch (curstate) {
			case MULTI_STOP_DISABLE_IRQ:
				local_irq_disable();
				/* The witness: this hart's own view of itself, taken
				 * before it acks, so every participant has one before
				 * any fn runs (RUN needs every ack). */
				stopper->witness.irqs_off = irqs_disabled();
				stopper->witness.preempt_count = preempt_count();
				smp_store_release(&stopper->witness_ms, ms);
				break;
			case MULTI_STOP_RUN:
				if (is_active)
					err = ms->fn(ms->data);
				break;
			default:
				break;
			}
			ack_state(ms);
		} else {
			/* Past PREPARE interrupts are off, so the tick cannot watch
			 * us: this loop is the watchdog (for PREPARE too). A halt
			 * ends at the next state (set_state() kicks) or, at the
			 * latest, a tick later (cpu_wait.h), so it keeps watching. */
			stop_watchdog_check(ms, curstate);
			stop_hang_check(ms, curstate);
			if (cpu_wait_should_halt(&w))
				cpu_wait_halt_unless(&w, &ms->state,
						     smp_load_acquire(&ms->state) != curstate);
			else
				cpu_relax();
		}
	} while (curstate != MULTI_STOP_EXIT);
	stopper->stats.state_ticks[MULTI_STOP_EXIT] += get_cycles() - entered;
	WRITE_ONCE(stopper->state, MULTI_STOP_NONE);
	WRITE_ONCE(stopper->ms, NULL);
	local_irq_restore(flags);
	return err;
}

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
	set_state(&ms, MULTI_STOP_PREPARE);
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
	set_state(&ms, MULTI_STOP_PREPARE);
	int rc = __stop_cpus(participants, multi_cpu_stop, &ms, caller);
	mutex_unlock(&stop_cpus_mutex);
	return rc;
}

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
	int ret = fn(arg);
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

void cpu_stop_init(void)
{
	int cpu;
	stop_watchdog_init();
	queue_delay_us = cmdline_get_ulong("stop_queue_delay_us", 0);
	for_each_online_cpu(cpu) {
		struct cpu_stopper *stopper = per_cpu_ptr(&cpu_stopper, cpu);
		spin_lock_init_class(&stopper->lock, LOCK_CLASS_STOPPER, cpu);
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
	smp_store_release(&stop_machine_initialized, true);
}
