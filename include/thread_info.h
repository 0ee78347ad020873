/*
 * thread_info.h - what a running task carries in `tp`.
 *
 * `tp` holds the current task, as in Linux on RISC-V: the trap entry
 * leaves it alone (there is no user mode, so every trap comes from a
 * task running in S-mode with `tp` already right), and switch_to()
 * loads the next task into it together with its stack. struct
 * thread_info sits at offset 0 of struct task_struct, so `tp` points
 * at it too.
 *
 * Why per task and not per hart: on RISC-V an update of a per-hart
 * word is a load of the hart's base, an add, a load, the change and a
 * store; a task preempted in the middle and moved to another hart
 * would finish the update on the old hart's word. A task's own fields
 * go wherever the task goes, so preempt_count and `current` read through
 * `tp` can never name another hart's state. The hart number is a field
 * of the task too (the hart it runs on): it changes only while the task
 * is not running (set_task_cpu()), so a running task reads its own hart.
 * Its per-cpu offset travels beside it (set together), which makes
 * this_cpu_ptr() one load and an add, as it is through a register on
 * architectures that have one to spare.
 *
 * The offsets are used by entry.S (TI_* in asm.h, checked in trap.c).
 */
#ifndef HARTSTOP_THREAD_INFO_H
#define HARTSTOP_THREAD_INFO_H

struct thread_info {
	unsigned int preempt_count; /* this task's; see preempt.h for the bits */
	int cpu;		    /* the hart it runs on (or will run on next) */
	unsigned long trap_sp;	    /* entry.S: where the stack-overflow path parks sp */
	unsigned long pcpu_offset;  /* __per_cpu_offset[cpu], kept with cpu */
};

struct task_struct;
/* The current task: a global register variable pinned to `tp`, which
 * the compiler never allocates (it is the ABI's thread pointer). */
register struct task_struct *__current_tp __asm__("tp");

static inline struct thread_info *current_thread_info(void)
{
	return (struct thread_info *)__current_tp;
}

#endif
