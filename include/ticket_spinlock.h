/*
 * ticket_spinlock.h - the ticket spinlock, kept for comparison with the
 * queued one (boot argument spinlock=ticket; the bench measures both).
 *
 * Take a ticket (one atomic add to l->next), wait until l->owner serves
 * it. Every waiter watches the one owner word: an unlock kicks all the
 * waiters that halted on it, and only the one whose ticket is now served
 * goes on (kernel/ticket_spinlock.c).
 */
#ifndef HARTSTOP_TICKET_SPINLOCK_H
#define HARTSTOP_TICKET_SPINLOCK_H

#include "cpu_wait.h"
#include "kernel.h"
#include "riscv.h"
#include "spinlock.h"

void ticket_spin_lock_wait(spinlock_t *l, uint32_t ticket);

static inline void ticket_spin_lock(spinlock_t *l)
{
	uint32_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	/* Acquire: pairs with the release of the unlock that served us. */
	if (unlikely(smp_load_acquire(&l->owner) != ticket))
		ticket_spin_lock_wait(l, ticket);
}

static inline bool ticket_spin_trylock(spinlock_t *l)
{
	/* Acquire on this load: it reads the owner value that the last
	 * unlock released, and the critical section must see everything
	 * that unlock published. The CAS only claims the ticket. */
	uint32_t owner = smp_load_acquire(&l->owner);
	return cmpxchg32_relaxed(&l->next, owner, owner + 1) == owner;
}

/* Serve the next ticket and kick whoever halted waiting for it. Only
 * the holder writes owner, so a plain release store serves; then
 * smp_cond_wake()'s fence orders it before the check for halted waiters
 * (cpu_wait.h). */
static inline void ticket_spin_unlock(spinlock_t *l)
{
	smp_store_release(&l->owner, l->owner + 1);
	smp_cond_wake(&l->owner);
}

static inline bool ticket_spin_is_locked(spinlock_t *l)
{
	return READ_ONCE(l->owner) != READ_ONCE(l->next);
}

#endif
