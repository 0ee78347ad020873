/*
 * percpu.h - per-hart variables, and which hart this is.
 *
 * DEFINE_PER_CPU() places a variable in the .percpu section. CPU 0 (the
 * boot hart) uses that section itself; every other possible CPU gets a
 * copy allocated at boot, and __per_cpu_offset[cpu] is the distance from
 * the section to the copy. The hart number comes from the current task
 * (thread_info.h): this_cpu_ptr() is __per_cpu_offset[that] away, an
 * offset the task carries with its hart number.
 *
 * The .percpu section lives in bss and the copies are zero-filled, so
 * every per-cpu variable starts as zero on every CPU: initialise them in
 * code, never with an initializer.
 *
 * The rule (Linux's): smp_processor_id(), this_cpu_ptr() and this_cpu()
 * answer for the hart the caller runs on *now*; unless the caller cannot
 * move (preemption or interrupts off, or a task bound to one hart) the
 * answer may be stale by the time it is used. The debug check
 * (preempt_debug, on in every image but the bench's) warns once per call
 * site about a call from preemptible context. Where a stale answer is
 * harmless (a statistic, a hint, a message), call raw_smp_processor_id()
 * / raw_cpu_ptr() / raw_cpu() and say why at the call.
 */
#ifndef HARTSTOP_PERCPU_H
#define HARTSTOP_PERCPU_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "jump_label.h"
#include "thread_info.h"

#define DEFINE_PER_CPU(type, name)  __attribute__((section(".percpu"))) __typeof__(type) name
#define DECLARE_PER_CPU(type, name) extern __typeof__(type) name

extern unsigned long __per_cpu_offset[NR_CPUS];

/* The hart the current task runs on, unchecked. */
#define raw_smp_processor_id() (current_thread_info()->cpu)

/* The checks below (kernel/preempt.c): a static key, so that with the
 * checks off (the bench image) each smp_processor_id() costs a nop. */
DECLARE_STATIC_KEY_TRUE(preempt_debug);
/* Warns (once per call site: its return address) if the caller could
 * migrate; returns the hart. */
int check_preemption_disabled(const char *what);

static inline __attribute__((always_inline)) int __smp_processor_id(const char *what)
{
	if (static_branch_unlikely(&preempt_debug))
		return check_preemption_disabled(what);
	return raw_smp_processor_id();
}
#define smp_processor_id()    __smp_processor_id("smp_processor_id")

#define per_cpu_ptr(ptr, cpu) ((__typeof__(ptr))((uintptr_t)(ptr) + __per_cpu_offset[(cpu)]))
#define per_cpu(var, cpu)     (*per_cpu_ptr(&(var), (cpu)))
/* This hart's copy: the current task carries the offset (thread_info.h). */
#define raw_cpu_ptr(ptr)  ((__typeof__(ptr))((uintptr_t)(ptr) + current_thread_info()->pcpu_offset))
#define raw_cpu(var)	  (*raw_cpu_ptr(&(var)))
#define this_cpu_ptr(ptr) ((void)__smp_processor_id("this_cpu_ptr"), raw_cpu_ptr(ptr))
#define this_cpu(var)	  (*this_cpu_ptr(&(var)))

/* Allocate and fill the copies for CPUs 1..ncpus-1 (kernel/percpu.c). */
void setup_per_cpu_areas(int ncpus);

#endif
