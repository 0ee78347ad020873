/*
 * timer.c - per-hart timer lists run from the tick, schedule_timeout()
 * and msleep().
 *
 * Each hart keeps an unsorted list under its own lock (interrupts off);
 * the tick walks it. Fine for the handful of timers this kernel arms.
 * Lock order: a timer base lock is a leaf apart from what the timer
 * function takes (it runs after the lock is dropped).
 */
#include "cpu_wait.h"
#include "kernel.h"
#include "ktime.h"
#include "percpu.h"
#include "preempt.h"
#include "sched.h"
#include "smp.h"
#include "spinlock.h"
#include "tick.h"
#include "timer.h"

struct timer_base {
	spinlock_t lock;
	struct list_head timers;
	struct timer_list *running; /* whose function runs now (del_timer_sync) */
	bool ready;
};
DEFINE_PER_CPU(struct timer_base, timer_bases);

static struct timer_base *base_of(int cpu)
{
	struct timer_base *b = per_cpu_ptr(&timer_bases, cpu);
	if (!b->ready) { /* zeroed per-cpu data: set up on first use, own hart only */
		spin_lock_init_class(&b->lock, LOCK_CLASS_TIMER, cpu);
		INIT_LIST_HEAD(&b->timers);
		b->ready = true;
	}
	return b;
}

unsigned long msecs_to_jiffies(unsigned int ms)
{
	return ((unsigned long)ms * HZ + 999) / 1000;
}

void timer_setup(struct timer_list *t, void (*fn)(struct timer_list *))
{
	INIT_LIST_HEAD(&t->entry);
	t->function = fn;
	t->cpu = -1;
}

int add_timer(struct timer_list *t)
{
	unsigned long flags = local_irq_save();
	int cpu = smp_processor_id();
	struct timer_base *b = base_of(cpu);
	spin_lock(&b->lock);
	t->cpu = cpu;
	list_add_tail(&t->entry, &b->timers);
	spin_unlock(&b->lock);
	tick_nohz_timer_added(t->expires); /* our tick may be off */
	local_irq_restore(flags);
	return cpu; /* t->cpu may already be -1 again when the caller looks */
}

bool del_timer(struct timer_list *t)
{
	int cpu = READ_ONCE(t->cpu);
	if (cpu < 0)
		return false;
	struct timer_base *b = per_cpu_ptr(&timer_bases, cpu);
	unsigned long flags = spin_lock_irqsave(&b->lock);
	bool pending = t->cpu == cpu && !list_empty(&t->entry);
	if (pending) {
		list_del_init(&t->entry);
		t->cpu = -1;
	}
	spin_unlock_irqrestore(&b->lock, flags);
	return pending;
}

void run_local_timers(void)
{
	struct timer_base *b = base_of(smp_processor_id());
	for (;;) {
		struct timer_list *t, *due = NULL;
		spin_lock(&b->lock);
		list_for_each_entry(t, &b->timers, entry) {
			if ((long)(jiffies - t->expires) >= 0) {
				due = t;
				break;
			}
		}
		if (due) {
			list_del_init(&due->entry);
			due->cpu = -1;
		}
		WRITE_ONCE(b->running, due);
		spin_unlock(&b->lock);
		if (!due)
			return;
		due->function(due);
		smp_store_release(&b->running, NULL);
		smp_cond_wake(&b->running); /* del_timer_sync() waiters */
	}
}

/**
 * get_next_timer_interrupt() - when this hart's first timer expires.
 * @expires: set to that timer's expiry, in jiffies, when there is one.
 *
 * For tickless idle: the tick may stay off until then. Another hart never
 * adds to this list (add_timer() arms on the caller's own hart), so with
 * interrupts off the answer stays true until this hart adds a timer.
 *
 * Context: interrupts off; takes this hart's timer base lock.
 * Return: true if a timer is pending on this hart (*@expires set).
 */
bool get_next_timer_interrupt(unsigned long *expires)
{
	struct timer_base *b = base_of(smp_processor_id());
	struct timer_list *t;
	bool any = false;
	spin_lock(&b->lock);
	list_for_each_entry(t, &b->timers, entry) {
		if (!any || (long)(t->expires - *expires) < 0)
			*expires = t->expires;
		any = true;
	}
	spin_unlock(&b->lock);
	return any;
}

/* del_timer(), and wait for its function if it is running right now:
 * after this returns the timer (and what it points to) may be freed. */
bool del_timer_sync(struct timer_list *t, int armed_cpu)
{
	bool pending = del_timer(t);
	if (armed_cpu < 0 || armed_cpu >= NR_CPUS)
		return pending;
	struct timer_base *b = per_cpu_ptr(&timer_bases, armed_cpu);
	/* The base lock orders us after run_local_timers()' update of both
	 * t->cpu and b->running (no fence between those plain stores). */
	unsigned long flags = spin_lock_irqsave(&b->lock);
	spin_unlock_irqrestore(&b->lock, flags);
	smp_cond_load_acquire(&b->running, VAL != t);
	return pending;
}

struct sleeper {
	struct timer_list timer;
	struct task_struct *task;
};

static void wake_sleeper(struct timer_list *t)
{
	wake_up_process(container_of(t, struct sleeper, timer)->task);
}

/* Sleep (in the state the caller set) for up to `ticks`; returns the
 * ticks left if woken early, else 0. */
long schedule_timeout(long ticks)
{
	struct sleeper s;
	might_sleep();
	if (ticks <= 0) {
		__set_current_state(TASK_RUNNING);
		return 0;
	}
	unsigned long expire = jiffies + (unsigned long)ticks;
	timer_setup(&s.timer, wake_sleeper);
	s.task = current;
	s.timer.expires = expire;
	int armed_cpu = add_timer(&s.timer);
	schedule();
	del_timer_sync(&s.timer, armed_cpu);
	long left = (long)(expire - jiffies);
	return left > 0 ? left : 0;
}

void msleep(unsigned int ms)
{
	long left = (long)msecs_to_jiffies(ms) + 1;
	while (left > 0) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		left = schedule_timeout(left);
	}
}
