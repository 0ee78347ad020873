/*
 * percpu.h - per-hart variables, reachable in O(1) from any context.
 *
 * DEFINE_PER_CPU() places a variable in the .percpu section. CPU 0 (the
 * boot hart) uses that section itself; every other possible CPU gets a
 * copy allocated at boot, and __per_cpu_offset[cpu] is the distance from
 * the section to the copy. Each hart keeps its own offset in `tp`, which
 * nothing else in the kernel uses (there is no TLS and no user mode), so
 * this_cpu_ptr() is one add. Threads migrate between harts; `tp` belongs
 * to the hart, never to a thread, and the context switch leaves it alone.
 *
 * The .percpu section lives in bss and the copies are zero-filled, so
 * every per-cpu variable starts as zero on every CPU: initialise them in
 * code, never with an initializer.
 *
 * Callers of this_cpu_*() must not migrate in between (interrupts or
 * preemption disabled) unless a stale answer is harmless.
 */
#ifndef HARTSTOP_PERCPU_H
#define HARTSTOP_PERCPU_H

#include <stdint.h>
#include "config.h"

#define DEFINE_PER_CPU(type, name)  __attribute__((section(".percpu"))) __typeof__(type) name
#define DECLARE_PER_CPU(type, name) extern __typeof__(type) name

extern unsigned long __per_cpu_offset[NR_CPUS];

static inline unsigned long __my_cpu_offset(void)
{
	unsigned long off;
	__asm__ volatile("mv %0, tp" : "=r"(off));
	return off;
}

#define per_cpu_ptr(ptr, cpu) ((__typeof__(ptr))((uintptr_t)(ptr) + __per_cpu_offset[(cpu)]))
#define per_cpu(var, cpu)     (*per_cpu_ptr(&(var), (cpu)))
#define this_cpu_ptr(ptr)     ((__typeof__(ptr))((uintptr_t)(ptr) + __my_cpu_offset()))
#define this_cpu(var)	      (*this_cpu_ptr(&(var)))

DECLARE_PER_CPU(int, cpu_number);
#define smp_processor_id() (this_cpu(cpu_number))

/* Allocate and fill the copies for CPUs 1..ncpus-1 (kernel/percpu.c). */
void setup_per_cpu_areas(int ncpus);

#endif
