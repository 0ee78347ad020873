/*
 * mutex.h - sleeping mutual exclusion.
 *
 * A mutex may be held across sleeps and must be released by its owner.
 * Waiters queue in FIFO order and the unlocker hands ownership straight
 * to the first waiter, so nobody starves. mutex_lock() may sleep.
 */
#ifndef HARTSTOP_MUTEX_H
#define HARTSTOP_MUTEX_H

#include "list.h"
#include "sched.h"
#include "spinlock.h"

struct mutex {
	struct task_struct *owner; /* NULL when free */
	spinlock_t wait_lock;	   /* guards owner hand-off and waiters */
	struct list_head waiters;
};

#define MUTEX_INITIALIZER(name)                                                                    \
	{                                                                                          \
		NULL, SPIN_LOCK_UNLOCKED_CLASS(LOCK_CLASS_WAITQ), LIST_HEAD_INIT((name).waiters)   \
	}
#define DEFINE_MUTEX(name) struct mutex name = MUTEX_INITIALIZER(name)

void mutex_init(struct mutex *m);
void mutex_lock(struct mutex *m);
bool mutex_trylock(struct mutex *m);
void mutex_unlock(struct mutex *m);
bool mutex_is_locked(struct mutex *m);

#endif
