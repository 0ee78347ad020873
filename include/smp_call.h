/*
 * smp_call.h - run a function on other harts, in their interrupt context.
 *
 * Each hart has a lock-free call queue (a singly linked stack pushed with
 * compare-and-swap, taken whole with one swap and run in FIFO order). A
 * sender rings IPI_CALL_FUNCTION only when it made the queue non-empty;
 * otherwise the target is already due to look.
 *
 * fn runs with interrupts off on the target and must not sleep.
 * Waiting for a remote hart with interrupts disabled would deadlock
 * against a hart waiting the same way on us: those calls warn and
 * return -EDEADLK. All may be called with preemption disabled.
 */
#ifndef HARTSTOP_SMP_CALL_H
#define HARTSTOP_SMP_CALL_H

#include <stdbool.h>
#include "cpumask.h"

typedef void (*smp_call_func_t)(void *info);

struct call_single_data {
	struct call_single_data *next;
	smp_call_func_t fn;
	void *info;
	unsigned int flags; /* CSD_FLAG_* */
};
#define CSD_FLAG_LOCK 0x1 /* queued or running: owner must not reuse it */
#define CSD_FLAG_SYNC 0x2 /* unlock only after fn returned (caller waits) */

int smp_call_function_single(int cpu, smp_call_func_t fn, void *info, bool wait);
int smp_call_function_many(const cpumask_t *mask, smp_call_func_t fn, void *info, bool wait);
int on_each_cpu(smp_call_func_t fn, void *info, bool wait);
/* Queue a caller-owned csd (flags must be clear) without waiting. */
int smp_call_function_single_async(int cpu, struct call_single_data *csd);

#endif
