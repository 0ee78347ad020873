/*
 * preempt.h - preemption and interrupt-context accounting.
 *
 * preempt_count is per task (thread_info.h), as Linux keeps it on RISC-V:
 * the task reaches it through `tp`, so an update that is interrupted,
 * preempted and finished on another hart still updates the same word.
 * Anything that interrupts a task (an interrupt, a preemption) gives
 * the count back to it unchanged, so a load-add-store of it needs no
 * atomicity. Bits:
 *   0..7   preempt_disable() nesting (spinlocks included)
 *   8..15  hard interrupt nesting (irq_enter/irq_exit)
 * A task may sleep only when the whole count is 0 and interrupts are on.
 * A task switched out by __schedule() holds one more count (the runqueue
 * lock), which the next task's finish_task_switch() drops for it; a new
 * thread starts with that 1.
 */
#ifndef HARTSTOP_PREEMPT_H
#define HARTSTOP_PREEMPT_H

#include "percpu.h"
#include "kernel.h"
#include "riscv.h"

#define PREEMPT_MASK   0x000000ffU
#define HARDIRQ_OFFSET 0x00000100U
#define HARDIRQ_MASK   0x0000ff00U

static inline unsigned int preempt_count(void)
{
	return READ_ONCE(current_thread_info()->preempt_count);
}

/* Put the count back to a value saved earlier (fault catching, tests). */
static inline void preempt_count_set(unsigned int v)
{
	barrier();
	WRITE_ONCE(current_thread_info()->preempt_count, v);
	barrier();
}

static inline void preempt_count_add(unsigned int v)
{
	current_thread_info()->preempt_count += v;
	barrier();
}

static inline void preempt_count_sub(unsigned int v)
{
	barrier();
	current_thread_info()->preempt_count -= v;
}

#define in_irq()       ((preempt_count() & HARDIRQ_MASK) != 0)
#define in_interrupt() in_irq()
#define in_atomic()    (preempt_count() != 0)

/* Linux's get_cpu()/put_cpu(): the hart, kept until put_cpu(). */
#define get_cpu()                                                                                  \
	({                                                                                         \
		preempt_disable();                                                                 \
		smp_processor_id();                                                                \
	})
#define put_cpu()     preempt_enable()
#define preemptible() (preempt_count() == 0 && !irqs_disabled())

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
