/*
 * smp_call.h - run a function on other harts, in their interrupt context.
 *
 * Each hart has a lock-free call queue (a singly linked stack pushed with
 * compare-and-swap, taken whole with one swap and run in FIFO order). A
 * sender rings IPI_CALL_FUNCTION only when it made the queue non-empty;
 * otherwise the target is already due to look.
 *
 * fn runs with interrupts off on the target and must not sleep.
 *
 * Context (Linux's rules): smp_call_function_single(), _many() and
 * on_each_cpu() need interrupts on and not in an interrupt, whether they
 * wait or not (they reuse this hart's csds, which a target with its
 * interrupts off may hold for ever): otherwise they warn naming the
 * caller and return -EDEADLK. They may be called with preemption off.
 * smp_call_function_single_async() works from any context: the csd is
 * the caller's, and -EBUSY says it is still in flight.
 * Return: 0, -ENXIO for a cpu that is not online, -EDEADLK as above.
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
