/*
 * spinlock.h - ticket spinlocks.
 *
 * A ticket lock hands the lock over in arrival order, so no hart starves
 * under contention (QEMU's MTTCG makes unfair locks starve for seconds).
 * The _irqsave variants must be used by any lock that an interrupt
 * handler may also take; the lock order of the whole kernel is listed in
 * README.md ("Lock order") and at each lock's definition.
 */
#ifndef HARTSTOP_SPINLOCK_H
#define HARTSTOP_SPINLOCK_H

#include <stdint.h>
#include "riscv.h"

typedef struct {
	uint32_t next;	/* next ticket to hand out */
	uint32_t owner; /* ticket now being served */
	int holder;	/* logical cpu holding it, -1 if none (diagnostics) */
} spinlock_t;

#define SPIN_LOCK_UNLOCKED                                                                         \
	{                                                                                          \
		0, 0, -1                                                                           \
	}
#define DEFINE_SPINLOCK(x) spinlock_t x = SPIN_LOCK_UNLOCKED

static inline void spin_lock_init(spinlock_t *l)
{
	l->next = 0;
	l->owner = 0;
	l->holder = -1;
}

void spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);
bool spin_trylock(spinlock_t *l);
bool spin_is_locked(spinlock_t *l);
bool spin_held_by_me(spinlock_t *l);

static inline unsigned long spin_lock_irqsave(spinlock_t *l)
{
	unsigned long flags = local_irq_save();
	spin_lock(l);
	return flags;
}

/* Release, then restore interrupts, then reschedule if that became due
 * meanwhile: unlocking first with interrupts still off could not preempt,
 * and a wakeup of a higher-priority task here would wait for a tick. */
void spin_unlock_irqrestore(spinlock_t *l, unsigned long flags);

#endif
