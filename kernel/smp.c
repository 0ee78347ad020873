/*
 * smp.c - numbering the harts and bringing the secondaries up.
 *
 * The boot hart (logical CPU 0) publishes a boot record per secondary
 * (stack, idle task), then starts them all with SBI HSM hart_start
 * and waits, with a timeout, for each to report online. Starting them
 * all before waiting lets 128 harts come up in parallel.
 *
 * A secondary's fate is decided by one compare-and-swap on its boot
 * state, so a hart that arrives after the boot hart gave up on it
 * (timeout) parks itself instead of running unannounced.
 */
#include <stdio.h>
#include <string.h>
#include "console.h"
#include "cpu_wait.h"
#include "ipi.h"
#include "irqchip.h"
#include "kernel.h"
#include "ktime.h"
#include "mm.h"
#include "preempt.h"
#include "riscv.h"
#include "kthread.h"
#include "sbi.h"
#include "sched.h"
#include "smp.h"
#include "entry.h"
#include "tick.h"

struct boot_record hart_boot_records[NR_CPUS] __attribute__((section(".data")));
unsigned int boot_lottery __attribute__((section(".data")));
unsigned long cpu_hartid[NR_CPUS];
unsigned long boot_hartid; /* a0 at entry: the hart OpenSBI picked */
int nr_cpu_ids = 1;
cpumask_t cpu_possible_mask_bits, cpu_online_mask_bits;
struct dt_info dt;

static int cpu_dt_index[NR_CPUS];		  /* logical cpu -> dt.cpus[] */
static enum cpu_boot_state dt_state[DT_MAX_CPUS]; /* per DT hart, for the table */
static int cpu_boot_state[NR_CPUS];		  /* CPU_BOOT_* while starting */
#define CPU_BOOT_STARTING 100

const struct dt_cpu *cpu_dt(int cpu)
{
	return &dt.cpus[cpu_dt_index[cpu]];
}

int hartid_to_cpu(unsigned long hartid)
{
	for (int cpu = 0; cpu < nr_cpu_ids; cpu++)
		if (cpu_hartid[cpu] == hartid)
			return cpu;
	return -1;
}

void smp_setup_cpus(unsigned long hartid)
{
	boot_hartid = hartid;
	cpu_hartid[0] = hartid;
	int boot_idx = -1;
	for (int i = 0; i < dt.ncpus; i++)
		if (dt.cpus[i].hartid == boot_hartid)
			boot_idx = i;
	if (boot_idx < 0)
		panic("smp: the boot hart %lu is not in the device tree", boot_hartid);
	cpu_dt_index[0] = boot_idx;
	dt_state[boot_idx] = CPU_BOOT_ONLINE;
	cpumask_set_cpu(0, cpu_possible_mask);
	cpumask_set_cpu(0, cpu_online_mask);

	for (int i = 0; i < dt.ncpus; i++) {
		if (i == boot_idx)
			continue;
		if (!dt.cpus[i].okay) {
			dt_state[i] = CPU_BOOT_DISABLED;
		} else if (!dt.cpus[i].mmu) {
			dt_state[i] = CPU_BOOT_NOMMU;
		} else if (nr_cpu_ids >= NR_CPUS) {
			dt_state[i] = CPU_BOOT_TOOMANY;
		} else {
			int cpu = nr_cpu_ids++;
			cpu_hartid[cpu] = dt.cpus[i].hartid;
			cpu_dt_index[cpu] = i;
			cpumask_set_cpu(cpu, cpu_possible_mask);
		}
	}
}

/* First C code of a secondary hart, on its own stack with tp = its idle
 * task (so smp_processor_id() already says cpu). */
void secondary_start(unsigned long hartid, struct boot_record *rec)
{
	int cpu = (int)(rec - hart_boot_records);

	paging_enable_this_cpu();
	if (raw_smp_processor_id() != cpu || cpu_to_hartid(cpu) != hartid)
		panic("smp: hart %lu took boot record of cpu%d", hartid, cpu);
	int expect = CPU_BOOT_STARTING;
	if (!__atomic_compare_exchange_n(&cpu_boot_state[cpu], &expect, CPU_BOOT_ONLINE, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		/* The boot hart gave up on us: stay out of the way for good. */
		sbi_hart_stop();
		for (;;)
			wfi();
	}
	irqchip_init_this_cpu();
	ipi_init_this_cpu();
	timer_init_this_cpu();
	cpumask_set_cpu_atomic(cpu, cpu_online_mask);
	smp_cond_wake(&cpu_boot_state[cpu]); /* the boot hart, if it halted waiting */
	local_irq_enable();
	/* IPIs sent before we were STARTED were dropped by OpenSBI 1.1. */
	ipi_interrupt();
	cpu_startup_entry();
}

static unsigned long alloc_overflow_stack(void)
{
	void *p = alloc_pages(1);
	if (!p)
		panic("smp: no memory for an overflow stack");
	return (uintptr_t)p + OVERFLOW_STACK_SIZE;
}

void smp_boot_secondaries(void)
{
	DECLARE_PER_CPU(unsigned long, overflow_stack_top);
	uint64_t timeout = (uint64_t)timebase_hz * (5 + (unsigned)nr_cpu_ids / 4);

	/* Everything the secondaries need is allocated before the first one
	 * starts: unmapping a stack's guard page is then a local TLB flush,
	 * with no shootdown racing harts that are still coming up. */
	for (int cpu = 1; cpu < nr_cpu_ids; cpu++) {
		struct boot_record *rec = &hart_boot_records[cpu];
		void *stack = alloc_kernel_stack();
		if (!stack)
			panic("smp: no memory for cpu%d's stack", cpu);
		per_cpu(overflow_stack_top, cpu) = alloc_overflow_stack();
		rec->hartid = cpu_to_hartid(cpu);
		rec->stack_top = (uintptr_t)stack + THREAD_SIZE - STACK_TOP_PAD;
		rec->idle = cpu_idle_task(cpu);
	}
	for (int cpu = 1; cpu < nr_cpu_ids; cpu++) {
		struct boot_record *rec = &hart_boot_records[cpu];
		cpu_boot_state[cpu] = CPU_BOOT_STARTING;
		smp_store_release(&rec->ready, 1);
		int rc = sbi_hart_start(rec->hartid, (uintptr_t)secondary_entry, (uintptr_t)rec);
		if (rc) {
			pr_warn("smp: hart %lu (cpu%d): HSM hart_start failed: %d", rec->hartid,
				cpu, rc);
			cpu_boot_state[cpu] = CPU_BOOT_REFUSED;
		}
	}

	uint64_t start = get_cycles();
	for (int cpu = 1; cpu < nr_cpu_ids; cpu++) {
		/* The hart wakes us once it is online (a halt also ends at our
		 * tick, which bounds the wait for one that never comes). */
		struct cpu_wait w = {0, 0};
		while (!cpu_online(cpu) &&
		       smp_load_acquire(&cpu_boot_state[cpu]) != CPU_BOOT_REFUSED &&
		       get_cycles() - start < timeout) {
			if (cpu_wait_should_halt(&w))
				cpu_wait_halt_unless(&w, &cpu_boot_state[cpu], cpu_online(cpu));
			else
				cpu_relax();
		}
		int expect = CPU_BOOT_STARTING;
		if (__atomic_compare_exchange_n(&cpu_boot_state[cpu], &expect, CPU_BOOT_TIMEOUT,
						false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			pr_warn("smp: hart %lu (cpu%d) never came online (HSM status %d); left out",
				cpu_to_hartid(cpu), cpu, sbi_hart_get_status(cpu_to_hartid(cpu)));
		dt_state[cpu_dt_index[cpu]] = (enum cpu_boot_state)cpu_boot_state[cpu];
	}
	/* A hart that won its CAS just now sets "online" next. */
	for (int cpu = 1; cpu < nr_cpu_ids; cpu++)
		smp_cond_load_acquire(&cpu_boot_state[cpu],
				      VAL != CPU_BOOT_ONLINE || cpu_online(cpu));
	pr_info("smp: %d of %d harts online in %lu ms", num_online_cpus(), dt.ncpus,
		ticks_to_ms(get_cycles() - start));
}

void print_hart_table(void)
{
	static const char *const state_names[] = {
		[CPU_BOOT_NONE] = "not started",	[CPU_BOOT_ONLINE] = "online",
		[CPU_BOOT_DISABLED] = "disabled in DT", [CPU_BOOT_NOMMU] = "no MMU",
		[CPU_BOOT_REFUSED] = "HSM refused",	[CPU_BOOT_TIMEOUT] = "timed out",
		[CPU_BOOT_TOOMANY] = "beyond NR_CPUS",
	};
	console_printf("  hart  cpu  state           timer  ipi          isa\n");
	for (int i = 0; i < dt.ncpus; i++) {
		const struct dt_cpu *c = &dt.cpus[i];
		int cpu = hartid_to_cpu(c->hartid);
		char cpus[8] = "-";
		if (cpu >= 0)
			snprintf(cpus, sizeof(cpus), "%d", cpu);
		/* ISA highlights: the base letters, then the extensions that
		 * change what this kernel does on that hart. */
		static const char *const exts[] = {"sstc", "ssaia", "zihintpause", "svpbmt",
						   "zicbom"};
		char isa[96];
		int n = snprintf(isa, sizeof(isa), "%.*s", (int)strcspn(c->isa, "_"), c->isa);
		for (unsigned e = 0; e < ARRAY_SIZE(exts) && n < (int)sizeof(isa); e++)
			if (dt_isa_has(c->isa, exts[e]))
				n += snprintf(isa + n, sizeof(isa) - (size_t)n, " %s", exts[e]);
		console_printf("  %4lu  %3s  %-15s %-6s %-12s %s\n", c->hartid, cpus,
			       state_names[dt_state[i]], c->sstc ? "sstc" : "sbi",
			       dt_state[i] == CPU_BOOT_ONLINE ? ipi_path_name() : "-", isa);
	}
}

struct run_on_cpus {
	void (*fn)(void *);
	void *arg;
	int pending;
	struct completion done;
};

static int run_on_cpus_thread(void *data)
{
	struct run_on_cpus *r = data;
	r->fn(r->arg);
	if (__atomic_sub_fetch(&r->pending, 1, __ATOMIC_ACQ_REL) == 0)
		complete(&r->done);
	return 0;
}

int run_on_cpus(const cpumask_t *mask, void (*fn)(void *), void *arg)
{
	struct run_on_cpus r = {.fn = fn, .arg = arg, .pending = 0};
	struct task_struct *threads[NR_CPUS];
	int cpu, n = 0, rc = 0;

	might_sleep();
	init_completion(&r.done);
	for_each_cpu(cpu, mask) {
		if (!cpu_online(cpu))
			continue;
		struct task_struct *p =
			kthread_create_on_cpu(run_on_cpus_thread, &r, cpu, "run/%u");
		if (!p) {
			rc = -ENOMEM;
			break;
		}
		threads[n++] = p;
	}
	r.pending = n;
	if (rc) { /* stop the ones made so far before they ever run fn */
		for (int i = 0; i < n; i++)
			kthread_stop(threads[i]);
		return rc;
	}
	for (int i = 0; i < n; i++) {
		get_task_struct(threads[i]);
		wake_up_process(threads[i]);
	}
	if (n)
		wait_for_completion(&r.done);
	for (int i = 0; i < n; i++)
		kthread_reap(threads[i]); /* gone, stacks freed, when we return */
	return 0;
}
