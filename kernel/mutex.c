/*
 * mutex.c - sleeping mutexes with FIFO hand-off (see mutex.h).
 */
#include "kernel.h"
#include "mutex.h"
#include "preempt.h"

struct mutex_waiter {
	struct list_head list;
	struct task_struct *task;
	bool granted; /* set by the unlocker together with owner */
};

void mutex_init(struct mutex *m)
{
	m->owner = NULL;
	spin_lock_init_class(&m->wait_lock, LOCK_CLASS_WAITQ, 0);
	INIT_LIST_HEAD(&m->waiters);
}

bool mutex_trylock(struct mutex *m)
{
	struct task_struct *expect = NULL;
	return __atomic_compare_exchange_n(&m->owner, &expect, current, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

void mutex_lock(struct mutex *m)
{
	might_sleep();
	if (WARN(READ_ONCE(m->owner) == current, "mutex %p: recursive lock by %s", (void *)m,
		 current->comm))
		return;
	if (mutex_trylock(m))
		return;
	struct mutex_waiter w = {.task = current, .granted = false};
	unsigned long flags = spin_lock_irqsave(&m->wait_lock);
	if (mutex_trylock(m)) { /* released while we took the lock */
		spin_unlock_irqrestore(&m->wait_lock, flags);
		return;
	}
	list_add_tail(&w.list, &m->waiters);
	for (;;) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		if (READ_ONCE(w.granted))
			break;
		spin_unlock_irqrestore(&m->wait_lock, flags);
		schedule();
		flags = spin_lock_irqsave(&m->wait_lock);
	}
	__set_current_state(TASK_RUNNING);
	spin_unlock_irqrestore(&m->wait_lock, flags);
}

void mutex_unlock(struct mutex *m)
{
	if (WARN(READ_ONCE(m->owner) != current, "mutex %p: unlocked by %s, not its owner",
		 (void *)m, current->comm))
		return;
	unsigned long flags = spin_lock_irqsave(&m->wait_lock);
	if (list_empty(&m->waiters)) {
		smp_store_release(&m->owner, NULL);
	} else {
		/* Hand over directly: the first waiter owns it from now on. */
		struct mutex_waiter *w = list_first_entry(&m->waiters, struct mutex_waiter, list);
		list_del_init(&w->list);
		smp_store_release(&m->owner, w->task);
		WRITE_ONCE(w->granted, true);
		wake_up_process(w->task);
	}
	spin_unlock_irqrestore(&m->wait_lock, flags);
}

bool mutex_is_locked(struct mutex *m)
{
	return READ_ONCE(m->owner) != NULL;
}
