/*
 * preempt.h - preemption and interrupt-context accounting.
 *
 * preempt_count is per hart (as on x86 Linux): the context switch saves
 * the outgoing task's count and loads the incoming one's. Bits:
 *   0..7   preempt_disable() nesting (spinlocks included)
 *   8..15  hard interrupt nesting (irq_enter/irq_exit)
 * A hart may sleep only when the whole count is 0 and interrupts are on.
 */
#ifndef HARTSTOP_PREEMPT_H
#define HARTSTOP_PREEMPT_H

#include "percpu.h"
#include "kernel.h"
#include "riscv.h"

#define PREEMPT_MASK   0x000000ffU
#define HARDIRQ_OFFSET 0x00000100U
#define HARDIRQ_MASK   0x0000ff00U

DECLARE_PER_CPU(unsigned int, __preempt_count);

static inline unsigned int preempt_count(void)
{
	return *(volatile unsigned int *)this_cpu_ptr(&__preempt_count);
}

static inline void preempt_count_add(unsigned int v)
{
	this_cpu(__preempt_count) += v;
	barrier();
}

static inline void preempt_count_sub(unsigned int v)
{
	barrier();
	this_cpu(__preempt_count) -= v;
}

#define in_irq()       ((preempt_count() & HARDIRQ_MASK) != 0)
#define in_interrupt() in_irq()
#define in_atomic()    (preempt_count() != 0)

/* Reschedule hook run when the count drops to zero (the scheduler's). */
void preempt_schedule(void);

static inline void preempt_disable(void)
{
	preempt_count_add(1);
}

static inline void preempt_enable_no_resched(void)
{
	preempt_count_sub(1);
}

static inline void preempt_enable(void)
{
	preempt_count_sub(1);
	if (preempt_count() == 0)
		preempt_schedule();
}

static inline void irq_enter(void)
{
	preempt_count_add(HARDIRQ_OFFSET);
}

static inline void irq_exit(void)
{
	preempt_count_sub(HARDIRQ_OFFSET);
}

/*
 * might_sleep(): annotate a function that may sleep. Warns (once per
 * call site) if called from interrupt context, with preemption off or
 * with interrupts disabled: those callers would deadlock or corrupt.
 */
void __might_sleep(const char *file, int line);
#define might_sleep() __might_sleep(__FILE__, __LINE__)

#endif
