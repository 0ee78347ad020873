/*
 * trap.h - the saved register frame and fault handling hooks.
 */
#ifndef HARTSTOP_TRAP_H
#define HARTSTOP_TRAP_H

#include <setjmp.h>
#include <stdbool.h>
#include "asm.h"

struct pt_regs {
	unsigned long epc, ra, sp, gp, tp, t0, t1, t2, s0, s1;
	unsigned long a0, a1, a2, a3, a4, a5, a6, a7;
	unsigned long s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;
	unsigned long t3, t4, t5, t6;
	unsigned long status, cause, tval;
	unsigned long pad;
};

void do_trap(struct pt_regs *regs);
struct pt_regs *get_irq_regs(void); /* the frame the current interrupt saved, or NULL */
void show_regs(const struct pt_regs *regs);
void dump_backtrace(unsigned long fp, unsigned long pc);
/* The return addresses of the frame chain from fp (at most max); how many. */
int save_backtrace(unsigned long fp, unsigned long *ra, int max);
/* "Backtrace:", then pc (if not 0, marked "(pc)") and the n return addresses. */
void print_backtrace(unsigned long pc, const unsigned long *ra, int n);

/*
 * Catching an expected fault (tests only): run fn(arg); if it faults on
 * this hart, or overflows its stack, the trap handler abandons it and
 * call_catching_fault() returns true with the details in *rec.
 * Interrupt state and preempt count are restored to what they were.
 */
struct fault_record {
	unsigned long cause, tval, epc;
	bool overflow; /* the stack guard caught it */
};
bool call_catching_fault(void (*fn)(void *), void *arg, struct fault_record *rec);

/* Run fn(arg) with sp = stack_top (entry.S); returns when fn returns. */
void call_on_stack(void (*fn)(void *), void *arg, unsigned long stack_top);

#endif
