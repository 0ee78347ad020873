/*
 * asm.h - the trap frame layout, shared by entry.S and C.
 * C checks these offsets against struct pt_regs with _Static_assert.
 */
#ifndef HARTSTOP_ASM_H
#define HARTSTOP_ASM_H

#define PT_EPC	  0
#define PT_RA	  8
#define PT_SP	  16
#define PT_GP	  24
#define PT_TP	  32
#define PT_T0	  40
#define PT_T1	  48
#define PT_T2	  56
#define PT_S0	  64
#define PT_S1	  72
#define PT_A0	  80
#define PT_A1	  88
#define PT_A2	  96
#define PT_A3	  104
#define PT_A4	  112
#define PT_A5	  120
#define PT_A6	  128
#define PT_A7	  136
#define PT_S2	  144
#define PT_S3	  152
#define PT_S4	  160
#define PT_S5	  168
#define PT_S6	  176
#define PT_S7	  184
#define PT_S8	  192
#define PT_S9	  200
#define PT_S10	  208
#define PT_S11	  216
#define PT_T3	  224
#define PT_T4	  232
#define PT_T5	  240
#define PT_T6	  248
#define PT_STATUS 256
#define PT_CAUSE  264
#define PT_TVAL	  272
#define PT_SIZE	  288 /* 16-byte aligned */

/* struct boot_record (smp.h) as the secondary entry reads it. */
#define BR_HARTID 0
#define BR_STACK  8
#define BR_TASK	  16 /* the hart's idle task: its `tp` */
#define BR_READY  24
#define BR_SIZE	  32

/* struct thread_info at offset 0 of struct task_struct (thread_info.h),
 * and the saved context after it (sched.h); checked in sched/core.c. */
#define TI_PREEMPT_COUNT 0
#define TI_CPU		 4
#define TI_TRAP_SP	 8
#define TI_PCPU_OFFSET	 16
#define TASK_CTX	 24

#endif
