/*
 * probe.h - counting probes (kprobe-like): count every execution of one
 * kernel instruction, per hart, without stopping the code that runs it.
 *
 * probe_add(addr) saves the instruction at addr into a slot of out-of-line
 * text and replaces it with `ebreak` (`c.ebreak` for a 2-byte one), both
 * in one patch_text_batch(). A hart reaching addr traps; the breakpoint
 * handler (probe_handle_breakpoint(), from the trap path) counts the hit
 * for that hart, turns the interrupted context's interrupts off (SPIE)
 * and resumes in the slot, which holds the original instruction and then
 * an `ebreak`; that second trap restores SPIE and resumes at addr + len.
 * Interrupts stay off from the first trap to the second, so no task is
 * ever preempted with its pc inside a slot.
 *
 * Refused (-EINVAL): instructions whose effect depends on their own pc or
 * that leave the slot some other way: auipc, jal, jalr, branches, c.j,
 * c.jr, c.jalr, c.beqz, c.bnez, and the SYSTEM opcode (ecall, ebreak,
 * CSR accesses, sret, wfi: an sstatus write would fight the SPIE
 * juggling). They are not emulated.
 *
 * Lock order: probe_mutex -> text_mutex -> stop_cpus_mutex.
 */
#ifndef HARTSTOP_PROBE_H
#define HARTSTOP_PROBE_H

#include <stdbool.h>
#include "trap.h"

#define MAX_PROBES 16

int probe_add(unsigned long addr);
int probe_del(unsigned long addr);
/* Hits of the probe at @addr on @cpu (0 if there is no such probe). */
unsigned long probe_hits(unsigned long addr, int cpu);
/* The address of probe number @i (0 <= i < MAX_PROBES), 0 if unused. */
unsigned long probe_addr(int i);

/* The trap path (platform/riscv/trap.c): true if the breakpoint at
 * regs->epc was a probe's (regs now say where to resume). */
bool probe_handle_breakpoint(struct pt_regs *regs);

#endif
