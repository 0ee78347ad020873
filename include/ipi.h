/*
 * ipi.h - inter-hart interrupts with reasons.
 *
 * Hardware IPIs coalesce: two sends before the target looks are one
 * interrupt. So the reason travels separately, as a bit in the target's
 * pending word (atomic OR before the doorbell); the handler takes the
 * whole word with one atomic swap and handles every bit in it.
 *
 * Delivery ("the IPI path") is chosen once at boot: SBI IPI by default,
 * or straight from S-mode when the DT shows the hardware for it: ACLINT
 * SSWI (a store to the target's register raises its SSIP) or the IMSIC
 * (a store of the IPI id to the target's S-mode interrupt file). Direct
 * paths skip the trap into M-mode. IPI=sbi (make) / ipi=sbi (bootargs)
 * forces the SBI path for comparison.
 */
#ifndef HARTSTOP_IPI_H
#define HARTSTOP_IPI_H

#include "cpumask.h"
#include "kernel.h"
#include "percpu.h"

enum ipi_reason {
	IPI_RESCHEDULE,	   /* run the scheduler on the way out of the interrupt */
	IPI_CALL_FUNCTION, /* run queued smp_call_function work */
	IPI_STOP,	   /* panic: stop this hart for good */
	IPI_TEST,	   /* test suites count these */
	IPI_BACKTRACE,	   /* print where this hart was interrupted (hang reports) */
	IPI_KICK,	   /* end a halted cpu wait (cpu_wait.h); nothing else to do */
	NR_IPI
};

enum ipi_path { IPI_PATH_SBI, IPI_PATH_SSWI, IPI_PATH_IMSIC };

void ipi_init(void);	      /* boot hart: pick the path */
void ipi_init_this_cpu(void); /* every hart, before its interrupts go on */
const char *ipi_path_name(void);
enum ipi_path ipi_path(void);

void send_ipi(int cpu, enum ipi_reason reason);
void send_ipi_mask(const cpumask_t *mask, enum ipi_reason reason);
/* RESCHEDULE, deferred to the end of the caller's critical section (ipi.c). */
void send_resched_ipi(int cpu);
DECLARE_PER_CPU(int, resched_deferred);
void __resched_ipi_flush(void);

/**
 * resched_ipi_flush() - ring the RESCHEDULE IPIs this hart deferred.
 *
 * Inline: it runs wherever the preempt count reaches 0, so the common
 * case (nothing deferred) is one load.
 *
 * Context: any.
 * Return: Nothing.
 */
static inline void resched_ipi_flush(void)
{
	/* Raw: a stale look only skips a flush that the old hart's next
	 * flush point (its __schedule(), which moved us) makes. */
	if (__builtin_expect(READ_ONCE(raw_cpu(resched_deferred)), 0))
		__resched_ipi_flush();
}
void ipi_interrupt(void); /* trap context: handle every pending reason */
/* Interrupts off, after a wfi: take a pending kick without taking the
 * interrupt; any other pending reason is left for the interrupt. */
void ipi_absorb_kick(void);
void smp_send_stop(void); /* panic: stop every other online hart */
/* Every other online hart prints its current task and the backtrace of
 * what the IPI interrupted; waits up to wait_ms for them, names the harts
 * that did not answer (interrupts off), returns how many those were and,
 * if silent is not NULL, which. Thread or irq context. */
int trigger_all_cpu_backtrace(unsigned int wait_ms, cpumask_t *silent);

unsigned long ipi_count_received(int cpu, enum ipi_reason reason);
unsigned long ipi_count_sent(int cpu);
unsigned long ipi_count_irqs(int cpu); /* hardware interrupts taken */

/* Called for IPI_TEST in the handler (bench ping-pong), if set: the one
 * reason whose handler is registered rather than built in. */
extern void (*ipi_test_hook)(void);

/* smp_call.c: what IPI_CALL_FUNCTION does. */
void generic_smp_call_function_interrupt(void);

#endif
