/*
 * cpu_wait.c - halting waits for another hart, and their kicks (see
 * cpu_wait.h for the protocol and why no wake-up is lost).
 */
#include "cpu_wait.h"
#include "cpumask.h"
#include "ipi.h"
#include "kernel.h"
#include "ktime.h"
#include "percpu.h"
#include "smp.h"
#include "cmdline.h"
#include "tick.h"

uint64_t cpu_wait_spin_ticks = 200; /* 20 us at QEMU's 10 MHz, until cpu_wait_init() */

/* The word a halted hart waits on (NULL: not halted in a cpu wait). */
static DEFINE_PER_CPU(const volatile void *, wait_on);
static DEFINE_PER_CPU(unsigned long, halts);
static DEFINE_PER_CPU(unsigned long, kicks);
/* Harts registered in wait_on right now: lets a waker with nobody to
 * wake skip the scan after one load. */
int cpu_wait_nr_halted;

void cpu_wait_init(void)
{
	cpu_wait_spin_ticks = cmdline_get_ulong("cpu_wait_spin_us", 20) * (timebase_hz / 1000000);
}

/* Interrupts are masked from here to cpu_wait_halt_end(). */
unsigned long cpu_wait_halt_begin(const volatile void *ptr)
{
	/* Whoever we wait for may be the hart we have yet to tell. */
	resched_ipi_flush();
	unsigned long flags = local_irq_save();
	WRITE_ONCE(this_cpu(wait_on), ptr);
	/* amoadd.aqrl: the wait_on store is ordered before it and the
	 * caller's re-read of the word after it (the waiter's fence). */
	__atomic_fetch_add(&cpu_wait_nr_halted, 1, __ATOMIC_SEQ_CST);
	return flags;
}

void cpu_wait_halt_wfi(struct cpu_wait *w, unsigned long flags)
{
	bool irqs_were_on = flags & SSTATUS_SIE;
	/* With interrupts off for the caller a due tick would stay pending
	 * and every later wfi would return at once: push it a period on (it
	 * runs late, not never; jiffies follows the time CSR anyway). */
	if (!irqs_were_on)
		timer_defer_due_tick();
	/* A halt ends at least once a tick (the lockup, stall and
	 * backtrace waits count on it; with interrupts off only the timer or
	 * a kick can end it), and a hart that left idle for one task may
	 * have its tick off. */
	tick_nohz_restart();
	wfi();
	this_cpu(halts)++;
	w->halts++;
	if (!irqs_were_on)
		ipi_absorb_kick();
}

void cpu_wait_halt_end(unsigned long flags)
{
	__atomic_fetch_sub(&cpu_wait_nr_halted, 1, __ATOMIC_RELAXED);
	WRITE_ONCE(this_cpu(wait_on), NULL);
	local_irq_restore(flags);
}

/* Someone is halted: kick those waiting on ptr (smp_cond_wake()). */
void __smp_cond_wake(const volatile void *ptr)
{
	cpumask_t kick;
	int cpu, n = 0;
	cpumask_clear(&kick);
	for_each_online_cpu(cpu)
		if (READ_ONCE(per_cpu(wait_on, cpu)) == ptr) {
			cpumask_set_cpu(cpu, &kick);
			n++;
		}
	if (n) {
		send_ipi_mask(&kick, IPI_KICK);
		/* A statistic, counted on the hart of a moment ago. */
		__atomic_fetch_add(raw_cpu_ptr(&kicks), (unsigned long)n, __ATOMIC_RELAXED);
	}
}

bool cpu_wait_kick_if(int cpu, const volatile void *ptr)
{
	smp_mb();
	if (READ_ONCE(per_cpu(wait_on, cpu)) != ptr)
		return false;
	send_ipi(cpu, IPI_KICK);
	__atomic_fetch_add(raw_cpu_ptr(&kicks), 1, __ATOMIC_RELAXED);
	return true;
}

const volatile void *cpu_wait_waiting_on(int cpu)
{
	return READ_ONCE(per_cpu(wait_on, cpu));
}

unsigned long cpu_wait_halts(int cpu)
{
	return READ_ONCE(per_cpu(halts, cpu));
}

unsigned long cpu_wait_kicks(int cpu)
{
	return READ_ONCE(per_cpu(kicks, cpu));
}
