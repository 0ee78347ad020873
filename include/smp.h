/*
 * smp.h - logical CPUs, hart ids, and bringing the other harts up.
 *
 * Logical CPU 0 is whichever hart OpenSBI's lottery made the boot hart;
 * the other harts the DT lists get 1, 2, ... in DT order. cpu_to_hartid()
 * and hartid_to_cpu() are the one table between the two numberings.
 */
#ifndef HARTSTOP_SMP_H
#define HARTSTOP_SMP_H

#include <stdbool.h>
#include "cpumask.h"
#include "devicetree.h"
#include "percpu.h"

/*
 * What a secondary hart needs before it can run C (a stack and its
 * current task): published by the boot hart (ready = 1 last, with
 * release ordering) before hart_start.
 * entry.S reads it by hartid; the layout matches BR_* in asm.h.
 */
struct boot_record {
	unsigned long hartid;
	unsigned long stack_top;
	struct task_struct *idle; /* the hart's idle task, loaded into `tp` */
	unsigned long ready;
};
extern struct boot_record hart_boot_records[NR_CPUS];

extern unsigned long cpu_hartid[NR_CPUS];
extern unsigned long boot_hartid;
extern int nr_cpu_ids; /* possible CPUs: 1 + the other usable DT harts */
extern struct dt_info dt;

static inline unsigned long cpu_to_hartid(int cpu)
{
	return cpu_hartid[cpu];
}
int hartid_to_cpu(unsigned long hartid); /* -1 if unknown */
const struct dt_cpu *cpu_dt(int cpu);	 /* the DT entry of a logical CPU */

void smp_setup_cpus(unsigned long boot_hartid); /* number the DT harts */
void smp_boot_secondaries(void);

/* What a hart was told, and did, on the way up (for the hart table). */
enum cpu_boot_state {
	CPU_BOOT_NONE, /* not tried */
	CPU_BOOT_ONLINE,
	CPU_BOOT_DISABLED, /* status = "disabled" in the DT */
	CPU_BOOT_NOMMU,	   /* no Sv39 MMU */
	CPU_BOOT_REFUSED,  /* HSM hart_start failed */
	CPU_BOOT_TIMEOUT,  /* started but never came online */
	CPU_BOOT_TOOMANY,  /* beyond NR_CPUS */
};

void print_hart_table(void);

/*
 * Run fn(arg) in thread context (a kernel thread bound to each online
 * hart of @mask, the caller's own included) and wait until every one has
 * returned. May sleep; -ENOMEM (and fn runs nowhere) if threads cannot
 * be made.
 */
int run_on_cpus(const cpumask_t *mask, void (*fn)(void *), void *arg);

#endif
