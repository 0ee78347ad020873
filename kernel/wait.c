/*
 * wait.c - wait queues and completions (see wait.h).
 *
 * Lock order: a wait queue's lock is taken before p->pi_lock (wake_up
 * calls wake_up_process with it held), never after.
 */
#include "kernel.h"
#include "preempt.h"
#include "wait.h"
#include "timer.h"

void init_waitqueue_head(struct wait_queue_head *wq)
{
	spin_lock_init_class(&wq->lock, LOCK_CLASS_WAITQ, 0);
	INIT_LIST_HEAD(&wq->head);
}

void init_wait_entry(struct wait_queue_entry *e)
{
	e->task = current;
	e->exclusive = false;
	INIT_LIST_HEAD(&e->entry);
}

static void __prepare(struct wait_queue_head *wq, struct wait_queue_entry *e, long state,
		      bool exclusive)
{
	unsigned long flags = spin_lock_irqsave(&wq->lock);
	e->task = current;
	e->exclusive = exclusive;
	if (list_empty(&e->entry)) {
		if (exclusive)
			list_add_tail(&e->entry, &wq->head);
		else
			list_add(&e->entry, &wq->head);
	}
	/* The state is set under the queue lock: a waker that takes the lock
	 * after us sees us queued and finds the state to wake. */
	set_current_state(state);
	spin_unlock_irqrestore(&wq->lock, flags);
}

void prepare_to_wait(struct wait_queue_head *wq, struct wait_queue_entry *e, long state)
{
	__prepare(wq, e, state, false);
}

void prepare_to_wait_exclusive(struct wait_queue_head *wq, struct wait_queue_entry *e, long state)
{
	__prepare(wq, e, state, true);
}

void finish_wait(struct wait_queue_head *wq, struct wait_queue_entry *e)
{
	__set_current_state(TASK_RUNNING);
	if (!list_empty(&e->entry)) {
		unsigned long flags = spin_lock_irqsave(&wq->lock);
		list_del_init(&e->entry);
		spin_unlock_irqrestore(&wq->lock, flags);
	}
}

/* wq->lock held. Wake every non-exclusive waiter and nr_exclusive others. */
static void __wake_up_locked(struct wait_queue_head *wq, int nr_exclusive)
{
	struct wait_queue_entry *e, *n;
	list_for_each_entry_safe(e, n, &wq->head, entry) {
		bool excl = e->exclusive;
		if (wake_up_process(e->task) && excl && --nr_exclusive == 0)
			break;
	}
}

void wake_up(struct wait_queue_head *wq)
{
	unsigned long flags = spin_lock_irqsave(&wq->lock);
	__wake_up_locked(wq, 1);
	spin_unlock_irqrestore(&wq->lock, flags);
}

void wake_up_all(struct wait_queue_head *wq)
{
	unsigned long flags = spin_lock_irqsave(&wq->lock);
	__wake_up_locked(wq, 0x7fffffff);
	spin_unlock_irqrestore(&wq->lock, flags);
}

/* ---- completions ---- */

#define COMPLETE_ALL 0x7fffffffU

void init_completion(struct completion *c)
{
	c->done = 0;
	init_waitqueue_head(&c->wait);
}

void reinit_completion(struct completion *c)
{
	WRITE_ONCE(c->done, 0);
}

long wait_for_completion_timeout(struct completion *c, unsigned long timeout)
{
	struct wait_queue_entry e;
	bool forever = timeout == (unsigned long)-1;
	long left = forever ? 1 : (long)timeout;

	might_sleep();
	init_wait_entry(&e);
	unsigned long flags = spin_lock_irqsave(&c->wait.lock);
	while (!c->done && left > 0) {
		e.exclusive = true;
		if (list_empty(&e.entry))
			list_add_tail(&e.entry, &c->wait.head);
		set_current_state(TASK_UNINTERRUPTIBLE);
		spin_unlock_irqrestore(&c->wait.lock, flags);
		if (forever)
			schedule();
		else
			left = schedule_timeout(left);
		flags = spin_lock_irqsave(&c->wait.lock);
	}
	__set_current_state(TASK_RUNNING);
	if (!list_empty(&e.entry))
		list_del_init(&e.entry);
	long ret = 0;
	if (c->done) {
		if (c->done != COMPLETE_ALL)
			c->done--;
		ret = left > 0 ? left : 1;
	}
	spin_unlock_irqrestore(&c->wait.lock, flags);
	return ret;
}

void wait_for_completion(struct completion *c)
{
	wait_for_completion_timeout(c, (unsigned long)-1);
}

bool try_wait_for_completion(struct completion *c)
{
	bool ret = false;
	unsigned long flags = spin_lock_irqsave(&c->wait.lock);
	if (c->done) {
		if (c->done != COMPLETE_ALL)
			c->done--;
		ret = true;
	}
	spin_unlock_irqrestore(&c->wait.lock, flags);
	return ret;
}

bool completion_done(struct completion *c)
{
	return READ_ONCE(c->done) != 0;
}

void complete(struct completion *c)
{
	unsigned long flags = spin_lock_irqsave(&c->wait.lock);
	if (c->done != COMPLETE_ALL)
		c->done++;
	__wake_up_locked(&c->wait, 1);
	spin_unlock_irqrestore(&c->wait.lock, flags);
}

void complete_all(struct completion *c)
{
	unsigned long flags = spin_lock_irqsave(&c->wait.lock);
	c->done = COMPLETE_ALL;
	__wake_up_locked(&c->wait, 0x7fffffff);
	spin_unlock_irqrestore(&c->wait.lock, flags);
}
