/* config.h - compile-time limits. Override NR_CPUS/HZ from the make line. */
#ifndef HARTSTOP_CONFIG_H
#define HARTSTOP_CONFIG_H

#ifndef NR_CPUS
#define NR_CPUS 128 /* logical CPUs; harts beyond this are reported and left out */
#endif
#ifndef HZ
#define HZ 250 /* periodic tick rate per hart */
#endif

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1UL << PAGE_SHIFT)

/*
 * Every kernel stack is a naturally aligned 32 KiB block whose lowest
 * page is left unmapped (the guard). The trap entry relies on that
 * alignment to spot an overflowing sp with shifts alone (entry.S), so
 * the layout is an invariant of every stack in the kernel, boot stacks
 * included. A stack's initial sp is THREAD_SIZE - 16 above the block:
 * sp never equals the block's top, which would look like page 0 of the
 * next block.
 */
#define THREAD_SHIFT	    15
#define THREAD_SIZE	    (1UL << THREAD_SHIFT)
#define THREAD_ORDER	    (THREAD_SHIFT - PAGE_SHIFT)
#define STACK_TOP_PAD	    16

#define OVERFLOW_STACK_SIZE 8192 /* per hart, for reporting a stack overflow */

#define KERNEL_BASE	    0x80200000UL /* where OpenSBI jumps; the ELF is linked here */

#endif
