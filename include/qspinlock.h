/*
 * qspinlock.h - the queued spinlock's fast paths. kernel/qspinlock.c has
 * the queue, the waiting and the argument for why they are right.
 *
 * The lock word (spinlock_t.val), as Linux's for fewer than 16K CPUs but
 * without the "pending" byte:
 *
 *	bits  0-7   locked: 1 while held, 0 when free
 *	bits  8-15  0
 *	bits 16-17  the index of the queue tail's node on its hart
 *	bits 18-31  the queue tail's cpu + 1 (0: nobody is queued)
 *
 * Uncontended, taking the lock is one compare-and-swap of the whole word
 * from 0 (an LR/SC pair): it succeeds only while nobody is queued, so an
 * arriving hart never overtakes a queued one (FIFO). Releasing it is a
 * store of 0 to the locked byte, then one load to see whether the queue's
 * head may have halted and needs a kick.
 */
#ifndef HARTSTOP_QSPINLOCK_H
#define HARTSTOP_QSPINLOCK_H

#include "cpu_wait.h"
#include "kernel.h"
#include "riscv.h"
#include "spinlock.h"

#define Q_LOCKED_VAL	  1U
#define Q_LOCKED_MASK	  0xffU
#define Q_TAIL_IDX_OFFSET 16
#define Q_TAIL_CPU_OFFSET 18
#define Q_TAIL_MASK	  0xffff0000U

/* Per-hart counts (tests): slow paths taken, and of them those nested in
 * an interrupt over another wait. Kicks are counted by cpu_wait.c. */
enum qstat { QSTAT_SLOWPATH, QSTAT_NESTED, NR_QSTATS };
unsigned long qspinlock_stat(int cpu, enum qstat stat);

void queued_spin_lock_slowpath(spinlock_t *l);

static inline bool queued_spin_trylock(spinlock_t *l)
{
	return READ_ONCE(l->val) == 0 && cmpxchg32_acquire(&l->val, 0, Q_LOCKED_VAL) == 0;
}

/* Preemption is off (the lock's per-cpu queue node stays ours). */
static inline void queued_spin_lock(spinlock_t *l)
{
	if (likely(cmpxchg32_acquire(&l->val, 0, Q_LOCKED_VAL) == 0))
		return;
	queued_spin_lock_slowpath(l);
}

/*
 * Only the holder writes the locked byte to 0, so a release store does;
 * the queue's tail, in the same word, may change under it (an LR/SC
 * that swaps the tail in fails and retries). The full fence then orders
 * that store before the look at l->head: a head that halts publishes
 * itself in l->head and then re-reads the locked byte, with a full fence
 * between (qspinlock.c), so either it sees the 0 or we see it.
 */
static inline void queued_spin_unlock(spinlock_t *l)
{
	smp_store_release(&l->locked, 0);
	smp_mb();
	int head = READ_ONCE(l->head);
	if (unlikely(head))
		cpu_wait_kick_if(head - 1, &l->val);
}

static inline bool queued_spin_is_locked(spinlock_t *l)
{
	return READ_ONCE(l->val) != 0; /* held, or being handed to a queued hart */
}

#endif
