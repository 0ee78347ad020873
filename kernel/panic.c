/*
 * panic.c - panic(), warnings and backtraces.
 *
 * One hart wins panic_cpu; any other hart that panics meanwhile parks.
 * The winner takes the console by force (its holder may be the very
 * hart that is stuck), prints the message and a frame-pointer backtrace,
 * stops every other hart with an IPI and leaves QEMU with EXIT_PANIC.
 * Each "#N 0x..." frame carries the kernel's own "name+0xoff/0xsize"
 * (kallsyms); the host runner adds file:line with addr2line.
 */
#include <stdio.h>
#include "console.h"
#include "ipi.h"
#include "kallsyms.h"
#include "kernel.h"
#include "ktime.h"
#include "riscv.h"
#include "smp.h"
#include "trap.h"
#include "cmdline.h"
#include "reboot.h"

volatile int panic_cpu = -1;
uint64_t hang_panic_ticks;

void hang_panic_init(void)
{
	hang_panic_ticks = cmdline_get_ulong("hang_panic", 0) * timebase_hz;
}

/* Set by the trap code before it panics: backtrace the trapped context. */
DEFINE_PER_CPU(struct pt_regs *, panic_regs);
static void (*panic_notifiers[4])(void);

void panic_register_notifier(void (*fn)(void))
{
	for (unsigned i = 0; i < ARRAY_SIZE(panic_notifiers); i++)
		if (!panic_notifiers[i]) {
			panic_notifiers[i] = fn;
			return;
		}
}

/* Is [fp - 16, fp) inside some kernel stack we can read? Stacks are
 * THREAD_SIZE blocks in RAM; check the frame stays in one block above
 * its guard page so a corrupt fp ends the walk instead of faulting. */
static bool frame_ok(unsigned long fp, unsigned long prev)
{
	if (!fp || (fp & 7) || fp <= prev)
		return false;
	unsigned long off = fp & (THREAD_SIZE - 1);
	return fp >= KERNEL_BASE && off >= PAGE_SIZE + 16;
}

/*
 * One frame: "#N 0x<16 hex digits>", " (pc)" for the exact faulting pc,
 * then the kernel's own name for it (kallsyms). The host runner parses
 * the prefix (test/ktap.py RE_FRAME) and appends addr2line's file:line,
 * so the prefix must keep that shape. Any other frame is a return
 * address: it is looked up at address - 1 (after a call to a noreturn
 * function it may point past the caller's end) and printed with its own
 * offset, as Linux's %pB does. kallsyms takes no lock: safe in panic.
 */
static void print_frame(int depth, unsigned long addr, bool is_pc)
{
	unsigned long size, off;
	const char *name = kallsyms_lookup(is_pc ? addr : addr - 1, &size, &off);
	if (!name) {
		console_printf("  #%d 0x%016lx%s\n", depth, addr, is_pc ? " (pc)" : "");
		return;
	}
	console_printf("  #%d 0x%016lx%s %s+0x%lx/0x%lx\n", depth, addr, is_pc ? " (pc)" : "", name,
		       is_pc ? off : off + 1, size);
}

void print_backtrace(unsigned long pc, const unsigned long *ra, int n)
{
	int depth = 0;
	console_printf("Backtrace:\n");
	if (pc)
		print_frame(depth++, pc, true);
	for (int i = 0; i < n; i++)
		print_frame(depth++, ra[i], false);
}

void dump_backtrace(unsigned long fp, unsigned long pc)
{
	unsigned long ra[32];
	print_backtrace(pc, ra, save_backtrace(fp, ra, pc ? 31 : 32)); /* 32 lines at most */
}

int save_backtrace(unsigned long fp, unsigned long *ra, int max)
{
	int n = 0;
	unsigned long prev = 0;
	while (n < max && frame_ok(fp, prev)) {
		unsigned long r = ((unsigned long *)fp)[-1];
		if (!r)
			break;
		ra[n++] = r;
		prev = fp;
		fp = ((unsigned long *)fp)[-2];
	}
	return n;
}

void dump_stack(void)
{
	dump_backtrace((unsigned long)__builtin_frame_address(0), 0);
}

__noreturn static void park_this_hart(void)
{
	local_irq_disable();
	for (;;)
		wfi();
}

void panic(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int me;

	local_irq_disable();
	me = smp_processor_id();
	int expect = -1;
	if (!__atomic_compare_exchange_n(&panic_cpu, &expect, me, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST)) {
		if (expect != me)
			park_this_hart();
		/* Nested panic on the panicking hart: get out now. */
		console_printf("Kernel panic: nested panic on cpu%d, giving up\n", me);
		platform_poweroff(EXIT_PANIC);
	}
	console_force_unlock();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	console_printf("\nKernel panic on cpu%d (hart %lu): %s\n", me, cpu_to_hartid(me), msg);
	struct pt_regs *regs = this_cpu(panic_regs);
	if (regs)
		dump_backtrace(regs->s0, regs->epc);
	else
		dump_backtrace((unsigned long)__builtin_frame_address(0), 0);
	smp_send_stop();
	for (unsigned i = 0; i < ARRAY_SIZE(panic_notifiers); i++)
		if (panic_notifiers[i])
			panic_notifiers[i]();
	console_printf("---[ end Kernel panic ]---\n");
	platform_poweroff(EXIT_PANIC);
}

void __warn(const char *file, int line, unsigned long caller, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_warn("WARNING: at %s:%d caller 0x%lx: %s", file, line, caller, msg);
	dump_stack();
}
