/*
 * spinlock.h - spinlocks: queued (MCS) by default, ticket for comparison.
 *
 * Both kinds hand the lock over in arrival order, so no hart starves under
 * contention (QEMU's MTTCG makes unfair locks starve for seconds). They
 * differ in how waiters wait, which is what matters when harts outnumber
 * the host's cores:
 *
 * - queued (qspinlock.h, kernel/qspinlock.c): each waiter spins on its
 *   own per-cpu node, and past a short budget halts in `wfi`; the hart
 *   ahead of it in the queue kicks it (one IPI) when it is next. An
 *   unlock touches one waiter at most.
 * - ticket (ticket_spinlock.h, spinlock=ticket on the command line):
 *   every waiter watches the one owner word; halted waiters are all
 *   kicked by every unlock, and a hand-off waits until the one hart whose
 *   ticket is served happens to run.
 *
 * The kind is chosen once at boot (spinlock_init()), before any other
 * hart runs; every lock carries the fields of both.
 *
 * The _irqsave variants must be used by any lock that an interrupt
 * handler may also take; the lock order of the whole kernel is listed in
 * README.md ("Lock order") and at each lock's definition.
 *
 * The lock order is also checked (Linux's lockdep, in miniature): every
 * lock of the kernel belongs to a class, the classes are ranked outer to
 * inner as README lists them, and each hart keeps the locks it holds.
 * Taking a lock whose class is not inner to every class held (or, for
 * runqueue and stopper locks, a second one of the same class on a lower
 * CPU) prints "BUG: lock order" once per pair of classes, before the
 * acquisition that could deadlock. A trylock cannot deadlock and is not
 * checked, but what is taken under it is. On while lock_debug is set (the
 * bench image clears it).
 */
#ifndef HARTSTOP_SPINLOCK_H
#define HARTSTOP_SPINLOCK_H

#include <stdint.h>
#include "riscv.h"

/* Outer to inner (README.md, "Lock order"). */
enum lock_class {
	LOCK_CLASS_NONE,     /* not checked (tests' own locks) */
	LOCK_CLASS_STOPPER,  /* nothing nests in it but a stopper on a higher CPU */
	LOCK_CLASS_WAITQ,    /* wait queues, completions, mutex wait_lock */
	LOCK_CLASS_PI,	     /* p->pi_lock */
	LOCK_CLASS_RQ,	     /* rq->lock; two in ascending CPU order */
	LOCK_CLASS_TIMER,    /* a hart's timer base */
	LOCK_CLASS_TASKLIST, /* tasklist_lock */
	LOCK_CLASS_KMALLOC,  /* a kmalloc size class */
	LOCK_CLASS_ZONE,     /* the page allocator */
	LOCK_CLASS_PT,	     /* the kernel page table */
	LOCK_CLASS_RX,	     /* console input's ring */
	LOCK_CLASS_CONSOLE,  /* printk: the leaf */
	NR_LOCK_CLASSES
};

typedef struct {
	/* Queued lock word (qspinlock.h): the locked byte, and the tail of
	 * the waiters' queue (0: nobody queued). */
	union {
		uint32_t val;
		struct {
			uint8_t locked;
			uint8_t pad;
			uint16_t tail;
		};
	};
	int16_t head;	  /* queued: cpu + 1 of the queue head that may halt, 0 if none */
	uint8_t lclass;	  /* enum lock_class */
	int16_t subclass; /* ordering within a class: the CPU, for per-cpu locks */
	int holder;	  /* logical cpu holding it, -1 if none (diagnostics) */
	uint32_t next;	  /* ticket lock: next ticket to hand out */
	uint32_t owner;	  /* ticket lock: ticket now being served */
} spinlock_t;

#define SPIN_LOCK_UNLOCKED_CLASS(c)                                                                \
	{                                                                                          \
		.val = 0, .head = 0, .lclass = (c), .subclass = 0, .holder = -1, .next = 0,        \
		.owner = 0                                                                         \
	}
#define SPIN_LOCK_UNLOCKED	    SPIN_LOCK_UNLOCKED_CLASS(LOCK_CLASS_NONE)
#define DEFINE_SPINLOCK(x)	    spinlock_t x = SPIN_LOCK_UNLOCKED
#define DEFINE_SPINLOCK_CLASS(x, c) spinlock_t x = SPIN_LOCK_UNLOCKED_CLASS(c)

static inline void spin_lock_init_class(spinlock_t *l, enum lock_class c, int subclass)
{
	l->val = 0;
	l->head = 0;
	l->next = 0;
	l->owner = 0;
	l->holder = -1;
	l->lclass = (uint8_t)c;
	l->subclass = (int16_t)subclass;
}

static inline void spin_lock_init(spinlock_t *l)
{
	spin_lock_init_class(l, LOCK_CLASS_NONE, 0);
}

extern bool lock_debug; /* the order check above */

/* true: ticket locks (boot argument spinlock=ticket); false: queued. */
extern bool spinlock_ticket;
/* Boot hart, before any other hart runs and with no lock held: read
 * spinlock=queued|ticket. */
void spinlock_init(void);

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
