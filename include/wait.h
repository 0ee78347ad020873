/*
 * wait.h - wait queues and completions.
 *
 * A wait queue is a list of sleeping tasks behind a spinlock (taken with
 * interrupts off, so wake_up() works from interrupt context). The usual
 * pattern, which cannot lose a wakeup:
 *
 *	prepare_to_wait(&wq, &entry, TASK_UNINTERRUPTIBLE);
 *	if (!condition)
 *		schedule();
 *	finish_wait(&wq, &entry);
 *
 * wait_event() wraps it. Sleeping functions here call might_sleep().
 */
#ifndef HARTSTOP_WAIT_H
#define HARTSTOP_WAIT_H

#include "list.h"
#include "sched.h"
#include "spinlock.h"

struct wait_queue_head {
	spinlock_t lock;
	struct list_head head;
};

struct wait_queue_entry {
	struct task_struct *task;
	struct list_head entry;
	bool exclusive; /* wake_up() wakes every non-exclusive and one exclusive */
};

#define WAIT_QUEUE_HEAD_INIT(name)                                                                 \
	{                                                                                          \
		SPIN_LOCK_UNLOCKED_CLASS(LOCK_CLASS_WAITQ), LIST_HEAD_INIT((name).head)            \
	}
#define DECLARE_WAIT_QUEUE_HEAD(name) struct wait_queue_head name = WAIT_QUEUE_HEAD_INIT(name)

void init_waitqueue_head(struct wait_queue_head *wq);
void init_wait_entry(struct wait_queue_entry *e);
void prepare_to_wait(struct wait_queue_head *wq, struct wait_queue_entry *e, long state);
void prepare_to_wait_exclusive(struct wait_queue_head *wq, struct wait_queue_entry *e, long state);
void finish_wait(struct wait_queue_head *wq, struct wait_queue_entry *e);
void wake_up(struct wait_queue_head *wq);
void wake_up_all(struct wait_queue_head *wq);

#define wait_event(wq, cond)                                                                       \
	do {                                                                                       \
		struct wait_queue_entry __we;                                                      \
		might_sleep();                                                                     \
		init_wait_entry(&__we);                                                            \
		for (;;) {                                                                         \
			prepare_to_wait(&(wq), &__we, TASK_UNINTERRUPTIBLE);                       \
			if (cond)                                                                  \
				break;                                                             \
			schedule();                                                                \
		}                                                                                  \
		finish_wait(&(wq), &__we);                                                         \
	} while (0)

struct completion {
	unsigned int done;
	struct wait_queue_head wait;
};

#define COMPLETION_INITIALIZER(name)                                                               \
	{                                                                                          \
		0, WAIT_QUEUE_HEAD_INIT((name).wait)                                               \
	}
#define DECLARE_COMPLETION(name) struct completion name = COMPLETION_INITIALIZER(name)

void init_completion(struct completion *c);
void reinit_completion(struct completion *c);
void wait_for_completion(struct completion *c); /* may sleep */
/* 0 on timeout, else the ticks left (at least 1). May sleep. */
long wait_for_completion_timeout(struct completion *c, unsigned long timeout_ticks);
bool try_wait_for_completion(struct completion *c);
bool completion_done(struct completion *c);
void complete(struct completion *c);	 /* any context */
void complete_all(struct completion *c); /* any context */

#endif
