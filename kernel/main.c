/*
 * main.c - start_kernel(): from OpenSBI's hand-off to every hart online.
 *
 * Runs on the boot hart (logical CPU 0), interrupts off, on the boot
 * stack in bss. The order matters: the trap vector is live from the
 * first instruction (entry.S); the DT must be parsed before the UART,
 * memory and harts are known; paging needs the page allocator; per-cpu
 * copies need paging; the secondaries need all of it.
 */
#include <string.h>
#include "console.h"
#include "cpu_wait.h"
#include "devicetree.h"
#include "ipi.h"
#include "irqchip.h"
#include "kernel.h"
#include "kthread.h"
#include "ktime.h"
#include "mm.h"
#include "percpu.h"
#include "riscv.h"
#include "sbi.h"
#include "smp.h"
#include "stop_machine.h"
#include "apps.h"
#include "cmdline.h"
#include "spinlock.h"
#include "tick.h"
#include "uart.h"

#define HARTSTOP_VERSION "0.1"

DECLARE_PER_CPU(unsigned long, overflow_stack_top);
static char boot_overflow_stack[OVERFLOW_STACK_SIZE] __aligned(16);

static void print_banner(void)
{
	unsigned long v = sbi_impl_version();
	pr_info("Hartstop %s (%s image): a RISC-V stop-machine kernel", HARTSTOP_VERSION,
		image_name);
	pr_info("sbi: %s %lu.%lu, SBI spec %lu.%lu; extensions:%s%s%s%s%s%s", sbi_impl_name(),
		v >> 16, v & 0xffff, sbi_spec_version() >> 24, sbi_spec_version() & 0xffffff,
		sbi_has(SBI_EXT_TIME) ? " TIME" : "", sbi_has(SBI_EXT_IPI) ? " IPI" : "",
		sbi_has(SBI_EXT_RFENCE) ? " RFENCE" : "", sbi_has(SBI_EXT_HSM) ? " HSM" : "",
		sbi_has(SBI_EXT_SRST) ? " SRST" : "", sbi_has(SBI_EXT_DBCN) ? " DBCN" : "");
}

static bool all_harts_have_sstc(void)
{
	int cpu;
	for_each_possible_cpu(cpu)
		if (!cpu_dt(cpu)->sstc)
			return false;
	return true;
}

static int init_thread(void *unused)
{
	image_main();
	return 0;
}

void start_kernel(unsigned long hartid, const void *dtb)
{
	char err[128];

	this_cpu(overflow_stack_top) = (uintptr_t)boot_overflow_stack + OVERFLOW_STACK_SIZE;
	cpu_hartid[0] = hartid;
	sbi_init();

	if (dt_parse(dtb, DT_MAX_BLOB, &dt, err, sizeof(err)) < 0)
		panic("device tree at %p from the firmware is unusable: %s", dtb, err);
	if (dt.uart.present)
		uart_init((uintptr_t)dt.uart.base);
	print_banner();
	strncpy(boot_command_line, dt.bootargs, DT_BOOTARGS_LEN - 1);
	pr_info("cmdline: \"%s\"", boot_command_line);
	spinlock_init(); /* before any other hart takes a lock */
	pr_info("smp: boot hart %lu; DT at %p (%u bytes), %d harts listed", hartid, dtb,
		dt.dtb_size, dt.ncpus);
	/* Which OpenSBI flavour: fw_jump puts the DTB at its fixed
	 * FW_JUMP_FDT_ADDR, fw_dynamic near the top of RAM. */
	pr_info("firmware: %s %lu.%lu, %s", sbi_impl_name(), sbi_impl_version() >> 16,
		sbi_impl_version() & 0xffff,
		(uintptr_t)dtb == 0x82200000
			? "fw_jump (DTB at its fixed address)"
			: "fw_dynamic or similar (DTB passed near the top of RAM)");

	smp_setup_cpus(hartid);
	time_init(dt.timebase_hz, all_harts_have_sstc());
	pr_info("time: timebase %u Hz, tick %d Hz through %s", timebase_hz, HZ, timer_path());
	cpu_wait_init();
	hang_panic_init();

	page_alloc_init(&dt, (uintptr_t)dtb, dt.dtb_size);
	kmalloc_init();
	paging_init(&dt);
	paging_enable_this_cpu();
	pr_info("vm: Sv39 on; text RX, rodata R, data RW-NX, stack guard pages");
	setup_per_cpu_areas(nr_cpu_ids);

	irqchip_init();
	ipi_init();
	irqchip_init_this_cpu();
	ipi_init_this_cpu();
	timer_init_this_cpu();
	pr_info("irq: %s; console %s", irqchip_name(),
		dt.uart.present ? "ns16550a" : "SBI putchar");
	local_irq_enable();

	sched_init();
	smp_boot_secondaries();
	print_hart_table();
	cpu_stop_init();
	console_input_init();

	/* As Linux's rest_init(): the work goes to a thread, and this boot
	 * context becomes CPU 0's idle task. */
	struct task_struct *init = kthread_create(init_thread, NULL, "init");
	if (!init)
		panic("no memory for the init thread");
	wake_up_process(init);
	cpu_startup_entry();
}
