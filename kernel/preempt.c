/*
 * preempt.c - might_sleep() and the preemption debug check of
 * smp_processor_id() / this_cpu_*() (Linux's DEBUG_PREEMPT).
 * preempt_schedule() itself is the scheduler's (sched/core.c).
 */
#include "kernel.h"
#include "preempt.h"
#include "riscv.h"
#include "sched.h"

/*
 * The checks of percpu.h: on from the first instruction in every image;
 * the bench image turns them off so that it measures what a production
 * kernel runs. A static key: every smp_processor_id()/this_cpu_ptr()
 * inlines a site that jumps to the check while the key is on and is a
 * 4-byte nop when it is off (a plain flag cost a load and a branch per
 * call). It is the kernel's one key with hundreds of sites, so turning
 * it off is also the largest batch a single stop_machine() patches;
 * the shell's `key off preempt_debug` does the same at run time.
 */
DEFINE_STATIC_KEY_TRUE(preempt_debug);

void __might_sleep(const char *file, int line)
{
	if (likely(preempt_count() == 0 && !irqs_disabled()) || panic_cpu >= 0)
		return;
	pr_warn("WARNING: sleeping function called from invalid context at %s:%d "
		"(in_irq %d, preempt_count 0x%x, irqs_disabled %d, caller 0x%lx)",
		file, line, in_irq() ? 1 : 0, preempt_count(), irqs_disabled() ? 1 : 0,
		(unsigned long)__builtin_return_address(0));
	dump_stack();
}

/*
 * Call sites already reported, so that a check in a loop warns once. A
 * small open-addressed set; when it is full, sites are reported again
 * (noisy, never silent).
 */
#define REPORTED_SITES 64
static unsigned long reported[REPORTED_SITES];

static bool first_report(unsigned long site)
{
	unsigned int h = (unsigned int)(site >> 1) % REPORTED_SITES;
	for (unsigned int i = 0; i < REPORTED_SITES; i++) {
		unsigned long *slot = &reported[(h + i) % REPORTED_SITES];
		unsigned long seen = __atomic_load_n(slot, __ATOMIC_RELAXED);
		if (seen == site)
			return false;
		if (!seen && __atomic_compare_exchange_n(slot, &seen, site, false, __ATOMIC_RELAXED,
							 __ATOMIC_RELAXED))
			return true;
		if (seen == site) /* lost the race to the same site */
			return false;
	}
	return true;
}

/*
 * The caller is about to use the hart it runs on. That is only stable if
 * it cannot migrate: preemption or interrupts off (interrupt context
 * included), or a task allowed on one hart only (a per-cpu thread, the
 * idle task, or any task pinned there). Before the scheduler runs nothing
 * migrates. Otherwise warn, once per call site, naming it.
 *
 * Context: any. Returns raw_smp_processor_id().
 */
int check_preemption_disabled(const char *what)
{
	struct task_struct *p = current;
	int cpu = raw_smp_processor_id();
	if (likely(preempt_count() != 0 || irqs_disabled()))
		return cpu;
	if (p->nr_cpus_allowed == 1 || !scheduler_running || READ_ONCE(panic_cpu) >= 0)
		return cpu;
	unsigned long site = _RET_IP_;
	if (!first_report(site))
		return cpu;
	/* Counted against migration while we print: a report of our own
	 * must not recurse into itself. */
	preempt_disable();
	pr_err("BUG: using %s() in preemptible code: %s/%d, caller 0x%lx", what, p->comm, p->pid,
	       site);
	dump_stack();
	preempt_enable();
	return cpu;
}
