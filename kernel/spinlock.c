/*
 * spinlock.c - the spinlock API over the two lock kinds (queued by
 * default, ticket with spinlock=ticket; see spinlock.h), and the lock
 * order check.
 *
 * Taking a spinlock disables preemption, as in Linux: a task holding a
 * spinlock must not be switched out, or another task on the same hart
 * could spin on it forever. (The queued lock also counts on it: the
 * waiter's queue node is its hart's.)
 */
#include <string.h>
#include "cmdline.h"
#include "console.h"
#include "cpu_wait.h"
#include "kernel.h"
#include "ktime.h"
#include "preempt.h"
#include "smp.h"
#include "ipi.h"
#include "qspinlock.h"
#include "spinlock.h"
#include "spinlock_internal.h"
#include "ticket_spinlock.h"
/* ---- the lock order check ---- */

bool lock_debug = true;

/*
 * The locks each hart holds, innermost last. Per hart rather than per
 * task: a spinlock holder cannot be preempted, and the runqueue lock,
 * which one task takes and the next one releases across switch_to(),
 * stays on the hart. Only this hart touches its stack, with interrupts
 * masked (an interrupt handler's locks come and go on top).
 */
#define MAX_HELD 16
struct held_locks {
	int n;
	const spinlock_t *lock[MAX_HELD];
};
static DEFINE_PER_CPU(struct held_locks, held_locks);
/* Pairs (held class, new class) reported already: one report each. */
static int reported[NR_LOCK_CLASSES][NR_LOCK_CLASSES];

static const char *const class_names[NR_LOCK_CLASSES] = {
	"unclassed", "stopper", "wait queue", "pi_lock", "rq",	       "timer base",
	"tasklist",  "kmalloc", "zone",	      "pt",	 "console rx", "console",
};

/* May `l` be taken while `h` is held? */
static bool order_ok(const spinlock_t *h, const spinlock_t *l)
{
	if (h->lclass == LOCK_CLASS_NONE || l->lclass == LOCK_CLASS_NONE)
		return true;
	if (l->lclass == LOCK_CLASS_CONSOLE) /* printk works under any lock */
		return h->lclass != LOCK_CLASS_CONSOLE;
	if (h->lclass == l->lclass) /* only the per-cpu classes, upwards */
		return (l->lclass == LOCK_CLASS_RQ || l->lclass == LOCK_CLASS_STOPPER) &&
		       l->subclass > h->subclass;
	if (h->lclass == LOCK_CLASS_STOPPER) /* the stopper is woken after unlock */
		return false;
	return l->lclass > h->lclass;
}

static void check_order(const spinlock_t *l, unsigned long caller)
{
	struct held_locks *hl = this_cpu_ptr(&held_locks); /* preemption is off */
	for (int i = 0; i < hl->n; i++) {
		const spinlock_t *h = hl->lock[i];
		if (order_ok(h, l) ||
		    __atomic_exchange_n(&reported[h->lclass][l->lclass], 1, __ATOMIC_RELAXED))
			continue;
		pr_err("BUG: lock order: taking a %s lock (%d) while holding a %s lock (%d), "
		       "caller 0x%lx",
		       class_names[l->lclass], l->subclass, class_names[h->lclass], h->subclass,
		       caller);
		dump_stack();
	}
}

static void held_push(const spinlock_t *l)
{
	unsigned long flags = local_irq_save();
	struct held_locks *hl = this_cpu_ptr(&held_locks);
	if (hl->n < MAX_HELD)
		hl->lock[hl->n] = l;
	hl->n++; /* beyond MAX_HELD: counted, not checked */
	local_irq_restore(flags);
}

static void held_pop(const spinlock_t *l)
{
	unsigned long flags = local_irq_save();
	struct held_locks *hl = this_cpu_ptr(&held_locks);
	int i = min(hl->n, MAX_HELD) - 1;
	while (i >= 0 && hl->lock[i] != l)
		i--;
	if (i >= 0) {
		for (; i + 1 < min(hl->n, MAX_HELD); i++)
			hl->lock[i] = hl->lock[i + 1];
		hl->n--;
	} else if (hl->n > MAX_HELD) {
		hl->n--;
	}
	local_irq_restore(flags);
}

/* ---- the lock ---- */

bool spinlock_ticket;

void spinlock_init(void)
{
	char kind[16];
	if (!cmdline_get("spinlock", kind, sizeof(kind)))
		return;
	if (!strcmp(kind, "ticket"))
		spinlock_ticket = true;
	else if (strcmp(kind, "queued"))
		pr_warn("WARNING: spinlock=%s: not queued or ticket; queued it is", kind);
	/* Every lock is free now (one hart, nothing held): its ticket
	 * fields and its queued word both say so, whichever kind ran. */
	pr_info("spinlock: %s", spinlock_ticket ? "ticket" : "queued");
}

void spin_wait_watch(spinlock_t *l, struct spin_wait_watch *ww)
{
	uint64_t waited = get_cycles() - ww->start;
	/* Not for the console lock: the report would wait for the lock that
	 * this hart is already queued on, behind itself. */
	if (!ww->reported && waited > (uint64_t)timebase_hz * LOCKUP_SECONDS &&
	    READ_ONCE(panic_cpu) < 0 && l->lclass != LOCK_CLASS_CONSOLE) {
		ww->reported = true;
		pr_err("BUG: spinlock lockup suspected on cpu%d: lock %p held by cpu%d for %d s "
		       "(word 0x%x, head %d)",
		       raw_smp_processor_id(), (void *)l, READ_ONCE(l->holder), LOCKUP_SECONDS,
		       spinlock_ticket ? READ_ONCE(l->next) - READ_ONCE(l->owner)
				       : READ_ONCE(l->val),
		       READ_ONCE(l->head) - 1);
		dump_stack();
	}
	if (hang_panic_ticks && waited > hang_panic_ticks)
		panic("spinlock lockup: lock %p held by cpu%d (hang_panic)", (void *)l,
		      READ_ONCE(l->holder));
}

static __attribute__((noinline)) void spin_lock_debug(spinlock_t *l, unsigned long caller)
{
	if (READ_ONCE(panic_cpu) >= 0)
		return;
	/* The order first: a recursion is also an order breach, and the
	 * report says which lock was held. */
	check_order(l, caller);
	if (READ_ONCE(l->holder) == raw_smp_processor_id())
		panic("spinlock recursion on %p (caller %lx)", (void *)l, caller);
}

void spin_lock(spinlock_t *l)
{
	preempt_disable();
	if (lock_debug)
		spin_lock_debug(l, _RET_IP_);
	if (spinlock_ticket)
		ticket_spin_lock(l);
	else
		queued_spin_lock(l);
	l->holder = smp_processor_id();
	if (lock_debug)
		held_push(l);
}

bool spin_trylock(spinlock_t *l)
{
	preempt_disable();
	if (spinlock_ticket ? ticket_spin_trylock(l) : queued_spin_trylock(l)) {
		l->holder = smp_processor_id();
		if (lock_debug)
			held_push(l);
		return true;
	}
	preempt_enable();
	return false;
}

static inline void __spin_release(spinlock_t *l)
{
	if (lock_debug)
		held_pop(l);
	l->holder = -1;
	if (spinlock_ticket)
		ticket_spin_unlock(l);
	else
		queued_spin_unlock(l);
}

void spin_unlock(spinlock_t *l)
{
	__spin_release(l);
	preempt_enable();
}

bool spin_is_locked(spinlock_t *l)
{
	return spinlock_ticket ? ticket_spin_is_locked(l) : queued_spin_is_locked(l);
}

bool spin_held_by_me(spinlock_t *l)
{
	/* Raw: a holder cannot be preempted, so if the holder is the hart we
	 * run on, it is us; if it is not, moving cannot make it so. */
	return spin_is_locked(l) && READ_ONCE(l->holder) == raw_smp_processor_id();
}

void spin_unlock_irqrestore(spinlock_t *l, unsigned long flags)
{
	__spin_release(l);
	preempt_enable_no_resched();
	if (preempt_count() == 0)
		resched_ipi_flush(); /* even if interrupts stay off for the caller */
	local_irq_restore(flags);
	if (preempt_count() == 0 && !irqs_disabled())
		preempt_schedule();
}
