/*
 * preempt.c - the preemption hooks and might_sleep().
 */
#include "kernel.h"
#include "preempt.h"
#include "riscv.h"

DEFINE_PER_CPU(unsigned int, __preempt_count);
/* Installed by the scheduler once it runs; until then nothing preempts. */
void (*preempt_schedule_hook)(void);

void preempt_schedule(void)
{
	if (preempt_schedule_hook && !irqs_disabled())
		preempt_schedule_hook();
}

void __might_sleep(const char *file, int line)
{
	extern volatile int panic_cpu;
	if (likely(preempt_count() == 0 && !irqs_disabled()) || panic_cpu >= 0)
		return;
	pr_warn("WARNING: sleeping function called from invalid context at %s:%d "
		"(in_irq %d, preempt_count 0x%x, irqs_disabled %d, caller 0x%lx)",
		file, line, in_irq() ? 1 : 0, preempt_count(), irqs_disabled() ? 1 : 0,
		(unsigned long)__builtin_return_address(0));
	dump_stack();
}
