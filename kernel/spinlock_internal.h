/*
 * spinlock_internal.h - what the two lock kinds (qspinlock.c,
 * ticket_spinlock.c) share with spinlock.c: the lockup watch of a wait.
 */
#ifndef HARTSTOP_SPINLOCK_INTERNAL_H
#define HARTSTOP_SPINLOCK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "spinlock.h"

/* A lock nobody releases for this long is reported (once per wait). */
#define LOCKUP_SECONDS 5

struct spin_wait_watch {
	uint64_t start; /* get_cycles() when the wait began */
	bool reported;
};

static inline void spin_wait_watch_start(struct spin_wait_watch *ww)
{
	ww->start = get_cycles();
	ww->reported = false;
}

/*
 * Call after each halt of a wait for l (a halt ends at least once a
 * tick): names a lock held for LOCKUP_SECONDS, and with hang_panic= a
 * lockup panics rather than hangs.
 */
void spin_wait_watch(spinlock_t *l, struct spin_wait_watch *ww);

#endif
