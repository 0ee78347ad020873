/*
 * cpu_wait.h - waiting for another hart: spin a little, then halt until
 * kicked.
 *
 * A hart that busy-waits for another hart to change a word takes a host
 * core (or, under QEMU 7.2's single-threaded round robin with -icount,
 * all of the instruction budget the harts after it needed to make the
 * change at all: the run live-locks). So every cross-hart wait here
 * spins for a short budget (cpu_wait_spin_ticks of the time CSR) and
 * then halts in `wfi`, and the hart that changes the word kicks the
 * halted waiters with an IPI:
 *
 *	waiter					waker
 *	v = smp_cond_load_acquire(&w, VAL != 0);	WRITE_ONCE(w, 1);
 *						smp_cond_wake(&w);
 *
 * Linux's smp_cond_load_acquire() has the same shape; on arm64 the
 * waiter sleeps in WFE and the write itself wakes it. RISC-V's
 * equivalent (Zawrs) is not in QEMU 7.2, so here the writer kicks:
 * every write a waiter waits for must be followed by smp_cond_wake().
 *
 * Why no wake-up is lost (RVWMO): a halting waiter, with its interrupts
 * masked, publishes the word it waits on (per-cpu wait_on) and then
 * increments nr_halted with a fully fenced AMO, then reads the word once
 * more; the waker writes the word, executes a full fence, then reads
 * nr_halted and, if non-zero, every wait_on. That is the store-buffering
 * pattern with a fence on both sides: either the waiter's second read
 * sees the write (it does not halt), or the waker sees the waiter
 * registered (it sends the kick). A kick that arrives before the `wfi`
 * stays pending (interrupts are masked) and makes the `wfi` return.
 *
 * Interrupts: the halt masks them around the check and the `wfi`, so
 * with interrupts on at the call the kick (or any interrupt) is taken
 * right after; with interrupts off the kick is absorbed in place
 * (ipi_absorb_kick(): other IPI reasons stay pending for later), and a
 * tick that falls due is deferred by one period rather than left
 * pending, which would make every later `wfi` return at once. A halted
 * waiter therefore also wakes at least once a tick, which keeps
 * watchdogs in wait loops alive.
 *
 * Context: any (interrupt context included). Never sleeps in the
 * scheduler's sense: the task stays current and its hart halts.
 */
#ifndef HARTSTOP_CPU_WAIT_H
#define HARTSTOP_CPU_WAIT_H

#include <stdbool.h>
#include <stdint.h>
#include "riscv.h"

/* How long to spin before halting, in time CSR ticks (boot argument
 * cpu_wait_spin_us, default 20; 0 halts at once). */
extern uint64_t cpu_wait_spin_ticks;

struct cpu_wait {
	uint64_t start; /* get_cycles() at the first miss, 0 before */
	unsigned int halts;
};

/* True once the spin budget is spent: the caller should halt. */
static inline bool cpu_wait_should_halt(struct cpu_wait *w)
{
	uint64_t now = get_cycles();
	if (!w->start) {
		w->start = now | 1;
		return cpu_wait_spin_ticks == 0;
	}
	return now - w->start >= cpu_wait_spin_ticks;
}

/* Harts halted in a cpu wait right now (cpu_wait.c). */
extern int cpu_wait_nr_halted;
void __smp_cond_wake(const volatile void *ptr);

/* Kick every hart halted waiting on ptr. Call after the write they wait
 * for: the fence orders that write before the check (the waker's half
 * of the pairing), and the check costs one load when nobody is halted
 * anywhere. */
static inline void smp_cond_wake(const volatile void *ptr)
{
	smp_mb();
	if (__builtin_expect(smp_load_acquire(&cpu_wait_nr_halted) != 0, 0))
		__smp_cond_wake(ptr);
}

/* Kick cpu if it is halted waiting on ptr; whether it was. Call after the
 * write it waits for (the fence is inside, as in smp_cond_wake()). */
bool cpu_wait_kick_if(int cpu, const volatile void *ptr);
/* The word cpu is halted waiting on, NULL if none (tests, hang reports). */
const volatile void *cpu_wait_waiting_on(int cpu);

/* Statistics: halts this hart made and kicks it sent (tests, bench). */
unsigned long cpu_wait_halts(int cpu);
unsigned long cpu_wait_kicks(int cpu);

void cpu_wait_init(void); /* boot hart: read cpu_wait_spin_us */

/*
 * One halt of a wait for the word at ptr: interrupts masked, registered
 * as a waiter on ptr (fenced), then cond_expr is evaluated once more and
 * only if it is still false does the hart execute `wfi`. Then it
 * unregisters and restores interrupts (absorbing a kick first if they
 * were off). Callers loop around it: a halt may end for any reason.
 */
#define cpu_wait_halt_unless(w, ptr, cond_expr)                                                    \
	do {                                                                                       \
		unsigned long __flags = cpu_wait_halt_begin(ptr);                                  \
		if (!(cond_expr))                                                                  \
			cpu_wait_halt_wfi(w, __flags);                                             \
		cpu_wait_halt_end(__flags);                                                        \
	} while (0)

unsigned long cpu_wait_halt_begin(const volatile void *ptr);
void cpu_wait_halt_wfi(struct cpu_wait *w, unsigned long flags);
void cpu_wait_halt_end(unsigned long flags);

/*
 * smp_cond_load_acquire(ptr, cond_expr): Linux's, with VAL the value
 * read; returns it. Spins, then halts as above. cond_expr may be
 * evaluated many times and must have no side effects.
 */
#define smp_cond_load_acquire(ptr, cond_expr)                                                      \
	({                                                                                         \
		__typeof__(ptr) __p = (ptr);                                                       \
		__typeof__(*__p) VAL;                                                              \
		struct cpu_wait __w = {0, 0};                                                      \
		for (;;) {                                                                         \
			VAL = smp_load_acquire(__p);                                               \
			if (cond_expr)                                                             \
				break;                                                             \
			if (!cpu_wait_should_halt(&__w)) {                                         \
				cpu_relax();                                                       \
				continue;                                                          \
			}                                                                          \
			cpu_wait_halt_unless(&__w, __p,                                            \
					     (VAL = smp_load_acquire(__p), (cond_expr)));          \
		}                                                                                  \
		VAL;                                                                               \
	})

#endif
