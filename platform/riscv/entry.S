/*
 * entry.S - where OpenSBI enters the kernel, and the S-mode trap vector.
 *
 * OpenSBI 1.1 enters S-mode with stvec pointing at the entry itself, so
 * the first instruction installs a vector: an early fault must print,
 * not silently restart the kernel.
 */
#include "asm.h"
#include "config.h"

	.section .text.entry, "ax"
	.globl _start
_start:
	/* a0 = hartid, a1 = DTB (boot hart) or stale (HSM race, below). */
	la	t0, trap_vector
	csrw	stvec, t0
	csrw	sie, zero
	/* tp is the current task from the first instruction on: the boot
	 * hart's boot context is init_task (swapper/0, in bss, so it reads
	 * cpu 0 and preempt count 0 once bss is cleared below). */
	la	tp, init_task

	/*
	 * Our own lottery. OpenSBI 1.1's hart_start marks the target
	 * START_PENDING before it writes the start address, so a secondary
	 * can wake early and jump here, to the boot entry, with a1 = the DTB
	 * (fixed upstream in OpenSBI 1.3). Only the first hart to arrive is
	 * the boot hart; every later one is a secondary, found by hartid.
	 */
	la	t0, boot_lottery
	li	t1, 1
	amoadd.w t1, t1, (t0)
	bnez	t1, secondary_wait

	/* Boot hart: clear bss (boot_lottery lives in .data), take the boot stack. */
	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, (t0)
	addi	t0, t0, 8
	j	1b
2:	la	sp, boot_stack
	li	t0, THREAD_SIZE - STACK_TOP_PAD
	add	sp, sp, t0
	mv	s0, zero
	call	start_kernel
3:	wfi
	j	3b

/*
 * HSM start address: a0 = hartid, a1 = opaque (our boot record). The
 * record is looked up again by hartid, since a hart that came in
 * through _start has no trustworthy a1 at all.
 */
	.globl secondary_entry
secondary_entry:
	la	t0, trap_vector
	csrw	stvec, t0
	csrw	sie, zero
	/* Until the record names our idle task, an early trap reports as
	 * swapper/0 rather than dereferencing a null tp. */
	la	tp, init_task
secondary_wait:
	la	t0, hart_boot_records
	li	t1, NR_CPUS
1:	ld	t2, BR_READY(t0)
	beqz	t2, 2f
	ld	t2, BR_HARTID(t0)
	beq	t2, a0, 3f
2:	addi	t0, t0, BR_SIZE
	addi	t1, t1, -1
	bnez	t1, 1b
	/* Not published yet: keep looking (pause hint, see riscv.h). */
	.4byte	0x0100000f
	j	secondary_wait
3:	fence	r, rw
	ld	sp, BR_STACK(t0)
	ld	tp, BR_TASK(t0)
	mv	a1, t0
	mv	s0, zero
	call	secondary_start
4:	wfi
	j	4b

/* Save every register but sp and t0 (the callers handle those two). */
.macro SAVE_REGS
	sd	ra, PT_RA(sp)
	sd	gp, PT_GP(sp)
	sd	tp, PT_TP(sp)
	sd	t1, PT_T1(sp)
	sd	t2, PT_T2(sp)
	sd	s0, PT_S0(sp)
	sd	s1, PT_S1(sp)
	sd	a0, PT_A0(sp)
	sd	a1, PT_A1(sp)
	sd	a2, PT_A2(sp)
	sd	a3, PT_A3(sp)
	sd	a4, PT_A4(sp)
	sd	a5, PT_A5(sp)
	sd	a6, PT_A6(sp)
	sd	a7, PT_A7(sp)
	sd	s2, PT_S2(sp)
	sd	s3, PT_S3(sp)
	sd	s4, PT_S4(sp)
	sd	s5, PT_S5(sp)
	sd	s6, PT_S6(sp)
	sd	s7, PT_S7(sp)
	sd	s8, PT_S8(sp)
	sd	s9, PT_S9(sp)
	sd	s10, PT_S10(sp)
	sd	s11, PT_S11(sp)
	sd	t3, PT_T3(sp)
	sd	t4, PT_T4(sp)
	sd	t5, PT_T5(sp)
	sd	t6, PT_T6(sp)
	csrr	t1, sepc
	sd	t1, PT_EPC(sp)
	csrr	t1, sstatus
	sd	t1, PT_STATUS(sp)
	csrr	t1, scause
	sd	t1, PT_CAUSE(sp)
	csrr	t1, stval
	sd	t1, PT_TVAL(sp)
.endm

/*
 * The trap vector. All traps come from S-mode (there is no user mode),
 * onto the stack in use. Before touching memory below sp, check that
 * neither sp nor the frame about to be pushed lies in the stack's guard
 * page: with THREAD_SIZE-aligned stacks whose lowest page is the guard,
 * "page index inside the block is 0" says exactly that. If so, switch
 * to this hart's overflow stack rather than fault recursively.
 * sscratch holds t0 meanwhile (the kernel has no other use for it).
 */
	.section .text
	.balign 4
	.globl trap_vector
trap_vector:
	csrw	sscratch, t0
	slli	t0, sp, 64 - THREAD_SHIFT
	srli	t0, t0, 64 - THREAD_SHIFT + 12
	beqz	t0, stack_overflow
	addi	t0, sp, -PT_SIZE
	slli	t0, t0, 64 - THREAD_SHIFT
	srli	t0, t0, 64 - THREAD_SHIFT + 12
	beqz	t0, stack_overflow

	addi	sp, sp, -PT_SIZE
	csrr	t0, sscratch
	sd	t0, PT_T0(sp)
	addi	t0, sp, PT_SIZE
	sd	t0, PT_SP(sp)
	SAVE_REGS
	mv	a0, sp
	call	do_trap

	.globl ret_from_trap
ret_from_trap:
	/* sstatus carries SPP/SPIE back; SIE stays off until sret. */
	ld	t0, PT_STATUS(sp)
	csrw	sstatus, t0
	ld	t0, PT_EPC(sp)
	csrw	sepc, t0
	ld	ra, PT_RA(sp)
	ld	gp, PT_GP(sp)
	/*
	 * tp is the current task and is not restored from the frame. It is
	 * already right: every trap comes from S-mode, where tp is always
	 * current (no user mode to swap it with through sscratch, as Linux
	 * must), and a trap that switched tasks on the way out came back
	 * through switch_to(), which loads tp with the task that owns this
	 * frame. The saved copy is for register dumps only.
	 */
	ld	t0, PT_T0(sp)
	ld	t1, PT_T1(sp)
	ld	t2, PT_T2(sp)
	ld	s0, PT_S0(sp)
	ld	s1, PT_S1(sp)
	ld	a0, PT_A0(sp)
	ld	a1, PT_A1(sp)
	ld	a2, PT_A2(sp)
	ld	a3, PT_A3(sp)
	ld	a4, PT_A4(sp)
	ld	a5, PT_A5(sp)
	ld	a6, PT_A6(sp)
	ld	a7, PT_A7(sp)
	ld	s2, PT_S2(sp)
	ld	s3, PT_S3(sp)
	ld	s4, PT_S4(sp)
	ld	s5, PT_S5(sp)
	ld	s6, PT_S6(sp)
	ld	s7, PT_S7(sp)
	ld	s8, PT_S8(sp)
	ld	s9, PT_S9(sp)
	ld	s10, PT_S10(sp)
	ld	s11, PT_S11(sp)
	ld	t3, PT_T3(sp)
	ld	t4, PT_T4(sp)
	ld	t5, PT_T5(sp)
	ld	t6, PT_T6(sp)
	ld	sp, PT_SP(sp)
	sret

stack_overflow:
	/*
	 * t0 is in sscratch; sp is unusable as a stack. Take this hart's
	 * overflow stack: this hart's copy of overflow_stack_top, at the
	 * per-cpu offset the current task carries. Building that address
	 * takes two registers, so the bad sp is parked in the current task
	 * (tp is always valid) meanwhile.
	 */
	sd	sp, TI_TRAP_SP(tp)
	ld	t0, TI_PCPU_OFFSET(tp)
	la	sp, overflow_stack_top
	add	t0, t0, sp
	ld	t0, 0(t0)
	ld	sp, TI_TRAP_SP(tp)
	addi	t0, t0, -PT_SIZE
	sd	sp, PT_SP(t0)
	mv	sp, t0
	csrr	t0, sscratch
	sd	t0, PT_T0(sp)
	SAVE_REGS
	mv	a0, sp
	call	handle_stack_overflow
5:	wfi
	j	5b

/*
 * call_on_stack(fn, arg, stack_top): run fn(arg) on another stack and
 * come back. s0 keeps the old sp across the call (callee-saved).
 */
	.globl call_on_stack
call_on_stack:
	addi	sp, sp, -16
	sd	ra, 8(sp)
	sd	s0, 0(sp)
	mv	s0, sp
	mv	sp, a2
	mv	t0, a0
	mv	a0, a1
	jalr	t0
	mv	sp, s0
	ld	ra, 8(sp)
	ld	s0, 0(sp)
	addi	sp, sp, 16
	ret
