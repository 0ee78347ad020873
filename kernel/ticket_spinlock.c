/*
 * ticket_spinlock.c - the ticket lock's wait (ticket_spinlock.h has the
 * rest; spinlock=ticket selects it).
 */
#include "cpu_wait.h"
#include "spinlock_internal.h"
#include "ticket_spinlock.h"

static bool served(spinlock_t *l, uint32_t ticket)
{
	/* Acquire: pairs with the release of the unlock that served us. */
	return smp_load_acquire(&l->owner) == ticket;
}

/*
 * Not our turn yet: wait for the unlock that serves our ticket (out of
 * line, so that the uncontended path stays short). Spin, then halt,
 * registered on the owner word, until an unlock kicks us (cpu_wait.h).
 * Every unlock kicks every hart halted on the word, and all but one go
 * back to sleep: that herd, and a hand-off that must wait for one
 * particular hart to run, are what the queued lock does without.
 */
__attribute__((noinline)) void ticket_spin_lock_wait(spinlock_t *l, uint32_t ticket)
{
	struct cpu_wait w = {0, 0};
	struct spin_wait_watch ww;
	spin_wait_watch_start(&ww);
	while (!served(l, ticket)) {
		if (!cpu_wait_should_halt(&w)) {
			cpu_relax();
			continue;
		}
		cpu_wait_halt_unless(&w, &l->owner, served(l, ticket));
		spin_wait_watch(l, &ww);
	}
}
