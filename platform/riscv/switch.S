/*
 * switch.S - the context switch and a new kernel thread's first steps.
 *
 * switch_to(prev, next) saves the callee-saved registers, sp and ra of
 * prev into prev->ctx and loads next's, and makes next current: tp =
 * next (thread_info.h). Interrupts are off (the runqueue lock is held),
 * so no trap ever sees a tp that does not match sp. It returns on next's
 * stack with a0 still holding prev: to the resumed task that is "the
 * task we switched away from", which finish_task_switch() needs (the
 * runqueue lock is handed across).
 */
#include "asm.h"

	.section .text
	.globl switch_to
switch_to:
	sd	ra, TASK_CTX + 0(a0)
	sd	sp, TASK_CTX + 8(a0)
	sd	s0, TASK_CTX + 16(a0)
	sd	s1, TASK_CTX + 24(a0)
	sd	s2, TASK_CTX + 32(a0)
	sd	s3, TASK_CTX + 40(a0)
	sd	s4, TASK_CTX + 48(a0)
	sd	s5, TASK_CTX + 56(a0)
	sd	s6, TASK_CTX + 64(a0)
	sd	s7, TASK_CTX + 72(a0)
	sd	s8, TASK_CTX + 80(a0)
	sd	s9, TASK_CTX + 88(a0)
	sd	s10, TASK_CTX + 96(a0)
	sd	s11, TASK_CTX + 104(a0)
	ld	ra, TASK_CTX + 0(a1)
	ld	sp, TASK_CTX + 8(a1)
	ld	s0, TASK_CTX + 16(a1)
	ld	s1, TASK_CTX + 24(a1)
	ld	s2, TASK_CTX + 32(a1)
	ld	s3, TASK_CTX + 40(a1)
	ld	s4, TASK_CTX + 48(a1)
	ld	s5, TASK_CTX + 56(a1)
	ld	s6, TASK_CTX + 64(a1)
	ld	s7, TASK_CTX + 72(a1)
	ld	s8, TASK_CTX + 80(a1)
	ld	s9, TASK_CTX + 88(a1)
	ld	s10, TASK_CTX + 96(a1)
	ld	s11, TASK_CTX + 104(a1)
	mv	tp, a1
	ret

/*
 * A new thread's first "return" from switch_to lands here (ctx.ra), with
 * a0 = the previous task, s1 = the function, s2 = its argument and tp
 * already the new thread. The runqueue lock is still held (the thread's
 * preempt count starts at 1 for it): schedule_tail() drops it, then the
 * thread body runs. s0 = 0 ends frame-pointer backtraces here.
 */
	.globl ret_from_kthread
ret_from_kthread:
	call	schedule_tail
	mv	a0, s2
	jalr	s1
1:	j	1b
