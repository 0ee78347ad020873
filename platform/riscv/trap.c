/*
 * trap.c - what happens after entry.S saved the frame: interrupts are
 * dispatched by cause, exceptions either resume a test that expected
 * them or panic with a register dump; breakpoints may be probes'.
 *
 * The whole file is no-patch text (platform/riscv/kernel.ld): a probe or
 * a patch here would trap, or change, the code that handles it.
 */
#include <string.h>
#include "console.h"
#include "ipi.h"
#include "irqchip.h"
#include "kernel.h"
#include "percpu.h"
#include "preempt.h"
#include "probe.h"
#include "riscv.h"
#include "sched.h"
#include "ktime.h"
#include "trap.h"
#include "tick.h"

_Static_assert(offsetof(struct pt_regs, s0) == PT_S0, "pt_regs layout");
_Static_assert(offsetof(struct pt_regs, t6) == PT_T6, "pt_regs layout");
_Static_assert(offsetof(struct pt_regs, tval) == PT_TVAL, "pt_regs layout");
_Static_assert(sizeof(struct pt_regs) == PT_SIZE, "pt_regs size");

struct fault_catch {
	jmp_buf env;
	struct fault_record rec;
	unsigned int preempt;
	bool irqs_on;
};

DEFINE_PER_CPU(unsigned long, overflow_stack_top); /* read by entry.S */
DEFINE_PER_CPU(unsigned long, irq_count);
DEFINE_PER_CPU(struct pt_regs *, irq_regs); /* innermost interrupt's frame */

struct pt_regs *get_irq_regs(void)
{
	return this_cpu(irq_regs);
}
DECLARE_PER_CPU(struct pt_regs *, panic_regs);

static const char *const exc_names[] = {
	[EXC_INST_MISALIGNED] = "instruction address misaligned",
	[EXC_INST_ACCESS] = "instruction access fault",
	[EXC_ILLEGAL_INSN] = "illegal instruction",
	[EXC_BREAKPOINT] = "breakpoint",
	[EXC_LOAD_MISALIGNED] = "load address misaligned",
	[EXC_LOAD_ACCESS] = "load access fault",
	[EXC_STORE_MISALIGNED] = "store address misaligned",
	[EXC_STORE_ACCESS] = "store access fault",
	[8] = "environment call from U-mode",
	[9] = "environment call from S-mode",
	[EXC_INST_PAGE_FAULT] = "instruction page fault",
	[EXC_LOAD_PAGE_FAULT] = "load page fault",
	[EXC_STORE_PAGE_FAULT] = "store page fault",
};

void show_regs(const struct pt_regs *r)
{
	const unsigned long *v = (const unsigned long *)r;
	static const char *const names[] = {"epc", "ra", "sp", "gp", "tp",	"t0",	  "t1",
					    "t2",  "s0", "s1", "a0", "a1",	"a2",	  "a3",
					    "a4",  "a5", "a6", "a7", "s2",	"s3",	  "s4",
					    "s5",  "s6", "s7", "s8", "s9",	"s10",	  "s11",
					    "t3",  "t4", "t5", "t6", "sstatus", "scause", "stval"};
	for (unsigned i = 0; i < ARRAY_SIZE(names); i += 3) {
		console_printf(" %7s: %016lx", names[i], v[i]);
		if (i + 1 < ARRAY_SIZE(names))
			console_printf(" %7s: %016lx", names[i + 1], v[i + 1]);
		if (i + 2 < ARRAY_SIZE(names))
			console_printf(" %7s: %016lx", names[i + 2], v[i + 2]);
		console_printf("\n");
	}
}

/* Resume the test that armed a fault catch on this hart, if any. */
static void try_fault_catch(struct pt_regs *regs, bool overflow)
{
	struct task_struct *t = current;
	struct fault_catch *fc = t->fault_catch;
	if (!fc)
		return;
	t->fault_catch = NULL;
	fc->rec.cause = regs->cause;
	fc->rec.tval = regs->tval;
	fc->rec.epc = regs->epc;
	fc->rec.overflow = overflow;
	longjmp(fc->env, 1);
}

bool call_catching_fault(void (*fn)(void *), void *arg, struct fault_record *rec)
{
	struct fault_catch fc;
	memset(&fc, 0, sizeof(fc));
	fc.preempt = preempt_count();
	fc.irqs_on = !irqs_disabled();
	current->fault_catch = &fc; /* per task: it may migrate meanwhile */
	if (setjmp(fc.env) == 0) {
		fn(arg);
		current->fault_catch = NULL;
		return false;
	}
	/* Back from the trap handler, which left interrupts off. */
	preempt_count_set(fc.preempt);
	if (fc.irqs_on)
		local_irq_enable();
	*rec = fc.rec;
	return true;
}

static void do_exception(struct pt_regs *regs)
{
	unsigned long code = regs->cause;
	if (code == EXC_BREAKPOINT && probe_handle_breakpoint(regs))
		return; /* a counting probe (kernel/probe.c): resume where it says */
	try_fault_catch(regs, false);
	const char *name = code < ARRAY_SIZE(exc_names) && exc_names[code] ? exc_names[code]
									   : "unknown exception";
	console_force_unlock();
	console_printf("\nUnhandled exception on cpu%d: %s (scause %lu) at pc 0x%lx, stval 0x%lx\n",
		       smp_processor_id(), name, code, regs->epc, regs->tval);
	show_regs(regs);
	this_cpu(panic_regs) = regs;
	panic("unhandled %s at pc 0x%lx, stval 0x%lx", name, regs->epc, regs->tval);
}

/* Called by entry.S on the overflow stack when sp hit a guard page. */
void handle_stack_overflow(struct pt_regs *regs)
{
	try_fault_catch(regs, true);
	console_force_unlock();
	console_printf("\nKernel stack overflow on cpu%d: sp 0x%lx in the guard page of the stack "
		       "at 0x%lx (pc 0x%lx)\n",
		       smp_processor_id(), regs->sp, regs->sp & ~(THREAD_SIZE - 1), regs->epc);
	show_regs(regs);
	this_cpu(panic_regs) = regs;
	panic("stack overflow: sp 0x%lx, pc 0x%lx", regs->sp, regs->epc);
}

void do_trap(struct pt_regs *regs)
{
	if (!(regs->cause & CAUSE_IRQ_FLAG)) {
		do_exception(regs);
		return;
	}
	irq_enter();
	tick_irq_enter();
	this_cpu(irq_count)++;
	struct pt_regs *outer = this_cpu(irq_regs);
	this_cpu(irq_regs) = regs;
	switch (regs->cause & ~CAUSE_IRQ_FLAG) {
	case IRQ_S_SOFT:
		ipi_interrupt();
		break;
	case IRQ_S_TIMER:
		timer_interrupt();
		break;
	case IRQ_S_EXT:
		irqchip_handle();
		break;
	default:
		pr_warn("spurious interrupt, scause 0x%lx", regs->cause);
	}
	this_cpu(irq_regs) = outer;
	irq_exit();
	resched_ipi_flush();		 /* wakes from the handler */
	if (regs->status & SSTATUS_SPIE) /* interrupts were on where it hit */
		preempt_schedule_irq();
}
