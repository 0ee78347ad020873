/*
 * switch.S - the context switch and a new kernel thread's first steps.
 *
 * switch_to(prev, next) saves the callee-saved registers, sp and ra of
 * prev into prev->ctx (offset 0 of task_struct) and loads next's. It
 * returns on next's stack with a0 still holding prev: to the resumed
 * task that is "the task we switched away from", which
 * finish_task_switch() needs (the runqueue lock is handed across).
 * tp is the hart's per-cpu offset and stays as it is.
 */
	.section .text
	.globl switch_to
switch_to:
	sd	ra, 0(a0)
	sd	sp, 8(a0)
	sd	s0, 16(a0)
	sd	s1, 24(a0)
	sd	s2, 32(a0)
	sd	s3, 40(a0)
	sd	s4, 48(a0)
	sd	s5, 56(a0)
	sd	s6, 64(a0)
	sd	s7, 72(a0)
	sd	s8, 80(a0)
	sd	s9, 88(a0)
	sd	s10, 96(a0)
	sd	s11, 104(a0)
	ld	ra, 0(a1)
	ld	sp, 8(a1)
	ld	s0, 16(a1)
	ld	s1, 24(a1)
	ld	s2, 32(a1)
	ld	s3, 40(a1)
	ld	s4, 48(a1)
	ld	s5, 56(a1)
	ld	s6, 64(a1)
	ld	s7, 72(a1)
	ld	s8, 80(a1)
	ld	s9, 88(a1)
	ld	s10, 96(a1)
	ld	s11, 104(a1)
	ret

/*
 * A new thread's first "return" from switch_to lands here (ctx.ra), with
 * a0 = the previous task, s1 = the function, s2 = its argument. The
 * runqueue lock is still held: schedule_tail() drops it, then the thread
 * body runs. s0 = 0 ends frame-pointer backtraces here.
 */
	.globl ret_from_kthread
ret_from_kthread:
	call	schedule_tail
	mv	a0, s2
	jalr	s1
1:	j	1b
