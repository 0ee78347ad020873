/*
 * spinlock.c - ticket spinlocks (see spinlock.h for the why).
 *
 * Taking a spinlock disables preemption, as in Linux: a task holding a
 * spinlock must not be switched out, or another task on the same hart
 * could spin on it forever.
 *
 * A waiter whose turn does not come within the cpu-wait spin budget
 * halts (cpu_wait.h), registered on the lock's owner word; every unlock
 * kicks the harts halted on it, and the one whose ticket is now served
 * goes on. A holder whose vCPU the host does not run is then not
 * competing with its own waiters for the host's cores.
 */
#include "cpu_wait.h"
#include "kernel.h"
#include "preempt.h"
#include "smp.h"
#include "spinlock.h"

extern volatile int panic_cpu;

void spin_lock(spinlock_t *l)
{
	preempt_disable();
	int me = smp_processor_id();
	if (unlikely(READ_ONCE(l->holder) == me) && READ_ONCE(panic_cpu) < 0)
		panic("spinlock recursion on %p (caller %lx)", (void *)l, _RET_IP_);
	uint32_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	/* Acquire: pairs with the release of the unlock that served us. */
	smp_cond_load_acquire(&l->owner, VAL == ticket);
	l->holder = me;
}

bool spin_trylock(spinlock_t *l)
{
	preempt_disable();
	/* Acquire on this load: it reads the owner value that the last
	 * unlock released, and the critical section must see everything
	 * that unlock published. The CAS below only claims the ticket. */
	uint32_t owner = __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE);
	uint32_t expect = owner;
	if (__atomic_compare_exchange_n(&l->next, &expect, owner + 1, false, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED)) {
		l->holder = smp_processor_id();
		return true;
	}
	preempt_enable();
	return false;
}

/* Serve the next ticket and kick whoever halted waiting for it. */
static inline void __spin_release(spinlock_t *l)
{
	l->holder = -1;
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
	smp_cond_wake(&l->owner);
}

void spin_unlock(spinlock_t *l)
{
	__spin_release(l);
	preempt_enable();
}

bool spin_is_locked(spinlock_t *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) !=
	       __atomic_load_n(&l->next, __ATOMIC_RELAXED);
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
	local_irq_restore(flags);
	if (preempt_count() == 0 && !irqs_disabled())
		preempt_schedule();
}
