/*
 * entry.h - what the assembly defines for C (platform/riscv/entry.S,
 * switch.S) and the linker script's section bounds (kernel.ld).
 */
#ifndef HARTSTOP_ENTRY_H
#define HARTSTOP_ENTRY_H

struct task_struct;

/* switch.S: save prev's callee-saved registers, load next's; returns
 * prev in the context of next. Called with next's rq->lock held. */
struct task_struct *switch_to(struct task_struct *prev, struct task_struct *next);
void ret_from_kthread(void); /* a new thread's first return address */

/* entry.S */
extern char secondary_entry[]; /* where HSM starts a secondary hart */
extern char boot_stack[];      /* the boot hart's first stack */

/* kernel.ld */
extern char __text_start[];
extern char __percpu_start[], __percpu_end[];

#endif
