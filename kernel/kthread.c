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

struct task_struct *kthread_run_on_cpu(int (*fn)(void *), void *data, int cpu, const char *namefmt)
{
	struct task_struct *p = kthread_create_on_cpu(fn, data, cpu, namefmt);
	if (p)
		wake_up_process(p);
	return p;
}

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

bool kthread_is_per_cpu(const struct task_struct *p)
{
	return p->kthread && p->kthread->bound_cpu >= 0;
}

bool kthread_should_stop(void)
{
	struct kthread *k = to_kthread(current);
	return k && test_flag(k, KTHREAD_SHOULD_STOP);
}

bool kthread_should_park(void)
{
	struct kthread *k = to_kthread(current);
	return k && test_flag(k, KTHREAD_SHOULD_PARK);
}

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

int kthread_park(struct task_struct *p)
{
	struct kthread *k = to_kthread(p);
	might_sleep();
	if (!k || test_flag(k, KTHREAD_IS_PARKED))
		return -EBUSY;
	reinit_completion(&k->parked);
	set_flag(k, KTHREAD_SHOULD_PARK);
	if (p != current) {
		wake_up_process(p);
		wait_for_completion(&k->parked); /* it is in TASK_PARKED from now */
	}
	return 0;
}

void kthread_unpark(struct task_struct *p)
{
	struct kthread *k = to_kthread(p);
	if (!k)
		return;
	/* A per-cpu thread parks on its own hart and comes back to it. */
	if (k->bound_cpu >= 0 && test_flag(k, KTHREAD_IS_PARKED)) {
		smp_cond_load_acquire(&p->on_cpu, !VAL); /* off its hart for good */
		kthread_bind(p, k->bound_cpu);
	}
	clear_flag(k, KTHREAD_SHOULD_PARK);
	wake_up_state(p, TASK_PARKED);
}

int kthread_wait_exit(struct task_struct *p)
{
	wait_for_completion(&p->kthread->exited);
	return p->kthread->result;
}

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
