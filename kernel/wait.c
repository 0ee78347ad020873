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

/**
 * init_waitqueue_head() - initialise a wait queue at run time.
 * @wq: the queue.
 *
 * Sets up its lock (lock class LOCK_CLASS_WAITQ) and an empty list of waiters;
 * DECLARE_WAIT_QUEUE_HEAD() is the static form.
 *
 * Context: any context, before @wq is used; never on a queue that may have waiters. Does not
 * sleep.
 * Return: Nothing.
 */
void init_waitqueue_head(struct wait_queue_head *wq)
{
	spin_lock_init_class(&wq->lock, LOCK_CLASS_WAITQ, 0);
	INIT_LIST_HEAD(&wq->head);
}

/**
 * init_wait_entry() - initialise a wait entry for the current task.
 * @e: the entry, usually on the waiter's stack.
 *
 * Makes @e a non-exclusive entry for current that is on no queue. Required before the first
 * prepare_to_wait() on @e, which tests whether @e is already queued.
 *
 * Context: task context (it records current); does not sleep.
 * Return: Nothing.
 */
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

/**
 * prepare_to_wait() - queue the current task on a wait queue and set its sleep state.
 * @wq: the queue.
 * @e: current's entry, from init_wait_entry(); queued only once however often this is called.
 * @state: the state to sleep in, such as TASK_UNINTERRUPTIBLE.
 *
 * Adds @e at the head of @wq as a non-exclusive waiter (unless it is queued already) and sets
 * current's state to @state, both under @wq's lock: a waker that takes the lock after us finds
 * us queued and in @state, so a wake-up between this and schedule() is not lost. The caller then
 * tests its condition, calls schedule() if it is still false, and ends with finish_wait().
 *
 * Context: task context; does not sleep itself (the schedule() that follows does, so that needs
 * interrupts and preemption on). Takes @wq's lock with interrupts saved: the caller must not
 * hold it, nor any pi_lock or rq->lock.
 * Return: Nothing.
 */
void prepare_to_wait(struct wait_queue_head *wq, struct wait_queue_entry *e, long state)
{
	__prepare(wq, e, state, false);
}

/**
 * prepare_to_wait_exclusive() - prepare_to_wait() as an exclusive waiter.
 * @wq: the queue.
 * @e: current's entry, from init_wait_entry(); queued only once however often this is called.
 * @state: the state to sleep in, such as TASK_UNINTERRUPTIBLE.
 *
 * As prepare_to_wait(), but @e is marked exclusive and added at the tail: wake_up() wakes every
 * non-exclusive waiter but only the first exclusive one it finds asleep.
 *
 * Context: as prepare_to_wait(): task context, does not sleep itself; the caller must not hold
 * @wq's lock, nor any pi_lock or rq->lock.
 * Return: Nothing.
 */
void prepare_to_wait_exclusive(struct wait_queue_head *wq, struct wait_queue_entry *e, long state)
{
	__prepare(wq, e, state, true);
}

/**
 * finish_wait() - end a wait begun with prepare_to_wait().
 * @wq: the queue @e was queued on.
 * @e: current's entry.
 *
 * Sets current back to TASK_RUNNING and takes @e off @wq if it is still queued. Wakers never
 * dequeue entries, so this is where @e leaves the queue: call it before @e goes out of scope.
 * The unlocked "still queued?" test is safe because only @e's owner removes it.
 *
 * Context: task context, the task that queued @e; does not sleep. Takes @wq's lock with
 * interrupts saved: the caller must not hold it.
 * Return: Nothing.
 */
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

/**
 * wake_up() - wake the waiters of a queue, but at most one exclusive waiter.
 * @wq: the queue.
 *
 * Wakes every non-exclusive waiter and the first exclusive one that was actually asleep (one
 * already running does not count, so the wake-up passes to the next). Woken entries stay queued
 * until their owner's finish_wait().
 *
 * Context: any context, interrupt context included; does not sleep. Lock order: @wq's lock (with
 * interrupts saved), then each waiter's pi_lock and a rq->lock in wake_up_process(); the caller
 * must hold none of them.
 * Return: Nothing.
 */
void wake_up(struct wait_queue_head *wq)
{
	unsigned long flags = spin_lock_irqsave(&wq->lock);
	__wake_up_locked(wq, 1);
	spin_unlock_irqrestore(&wq->lock, flags);
}

/**
 * wake_up_all() - wake every waiter of a queue, exclusive or not.
 * @wq: the queue.
 *
 * As wake_up(), without the limit on exclusive waiters. Woken entries stay queued until their
 * owner's finish_wait().
 *
 * Context: any context, interrupt context included; does not sleep. Takes @wq's lock, then each
 * waiter's pi_lock and a rq->lock: the caller must hold none of them.
 * Return: Nothing.
 */
void wake_up_all(struct wait_queue_head *wq)
{
	unsigned long flags = spin_lock_irqsave(&wq->lock);
	__wake_up_locked(wq, 0x7fffffff);
	spin_unlock_irqrestore(&wq->lock, flags);
}

/* ---- completions ---- */

#define COMPLETE_ALL 0x7fffffffU

/**
 * init_completion() - initialise a completion at run time.
 * @c: the completion.
 *
 * Not done, no waiters; DECLARE_COMPLETION() is the static form. Use reinit_completion() to
 * reuse a completion that may still have waiters queued.
 *
 * Context: any context, before @c is used; never while someone may wait on @c or complete it.
 * Does not sleep.
 * Return: Nothing.
 */
void init_completion(struct completion *c)
{
	c->done = 0;
	init_waitqueue_head(&c->wait);
}

/**
 * reinit_completion() - make a completion not done again, for reuse.
 * @c: the completion.
 *
 * Resets the done count, also after complete_all(), and leaves the wait queue alone. It is a
 * plain store without @c's lock: the caller must make sure no complete() or complete_all() of
 * the previous use can still arrive, or that one is lost (or counted for the next use).
 *
 * Context: any context; does not sleep.
 * Return: Nothing.
 */
void reinit_completion(struct completion *c)
{
	WRITE_ONCE(c->done, 0);
}

/**
 * wait_for_completion_timeout() - wait for a completion, for at most a number of ticks.
 * @c: the completion.
 * @timeout: the longest wait in jiffies; (unsigned long)-1 waits for ever, 0 only looks.
 *
 * Sleeps in TASK_UNINTERRUPTIBLE as an exclusive waiter until @c is done or @timeout has
 * passed, then consumes one done (none after complete_all(), which stays done): each complete()
 * releases one waiter. A done that arrives just as the time runs out still counts.
 *
 * Context: May sleep (might_sleep()): process context, interrupts and preemption on, no
 * spinlock held, not from a stop fn.
 * Return: 0 if @timeout passed and @c was not done; otherwise the ticks that were left, at least
 * 1 (so 1 when waiting for ever, or when @c was done already and @timeout was 0).
 */
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

/**
 * wait_for_completion() - wait for a completion, for as long as it takes.
 * @c: the completion.
 *
 * wait_for_completion_timeout() with no time limit: sleeps uninterruptibly as an exclusive
 * waiter until @c is done, then consumes one done (none after complete_all()).
 *
 * Context: May sleep: process context, interrupts and preemption on, no spinlock held, not from
 * a stop fn.
 * Return: Nothing.
 */
void wait_for_completion(struct completion *c)
{
	wait_for_completion_timeout(c, (unsigned long)-1);
}

/**
 * try_wait_for_completion() - consume a completion's done if there is one, never sleeping.
 * @c: the completion.
 *
 * Like wait_for_completion() when @c is done already; otherwise returns at once.
 *
 * Context: any context, interrupt context included; does not sleep. Takes @c's lock with
 * interrupts saved: the caller must not hold it.
 * Return: true if @c was done (one done consumed, unless after complete_all()); false if not.
 */
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

/**
 * completion_done() - whether a completion is done, without consuming it.
 * @c: the completion.
 *
 * An unlocked snapshot: a waiter may consume the done right after.
 *
 * Context: any context; does not sleep.
 * Return: true if @c has a done not yet consumed (or complete_all() was called); false if a
 * wait on it would sleep.
 */
bool completion_done(struct completion *c)
{
	return READ_ONCE(c->done) != 0;
}

/**
 * complete() - signal a completion once, releasing one waiter.
 * @c: the completion.
 *
 * Adds one done (after complete_all() @c stays done for good) and wakes the first exclusive
 * waiter that is asleep; a waiter that comes later finds the done and does not sleep. The woken
 * waiter retakes @c's lock before it returns, so this has let go of @c by then: @c may live on
 * the waiter's stack.
 *
 * Context: any context, interrupt context and interrupts off included; does not sleep. Takes
 * @c's lock, then the waiter's pi_lock and a rq->lock: the caller must hold none of them.
 * Return: Nothing.
 */
void complete(struct completion *c)
{
	unsigned long flags = spin_lock_irqsave(&c->wait.lock);
	if (c->done != COMPLETE_ALL)
		c->done++;
	__wake_up_locked(&c->wait, 1);
	spin_unlock_irqrestore(&c->wait.lock, flags);
}

/**
 * complete_all() - mark a completion done for good, releasing every waiter.
 * @c: the completion.
 *
 * Wakes every waiter, and every later wait returns at once without consuming anything, until
 * reinit_completion(). Used where any number of parties wait for one event (a kthread's exit,
 * an affinity change).
 *
 * Context: any context, interrupt context and interrupts off included; does not sleep. Takes
 * @c's lock, then each waiter's pi_lock and a rq->lock: the caller must hold none of them.
 * Return: Nothing.
 */
void complete_all(struct completion *c)
{
	unsigned long flags = spin_lock_irqsave(&c->wait.lock);
	c->done = COMPLETE_ALL;
	__wake_up_locked(&c->wait, 0x7fffffff);
	spin_unlock_irqrestore(&c->wait.lock, flags);
}
