/*
 * riscv.h - CSRs, interrupt masking and barriers for S-mode rv64.
 */
#ifndef HARTSTOP_RISCV_H
#define HARTSTOP_RISCV_H

#include <stdbool.h>
#include <stdint.h>

#define SSTATUS_SIE	     (1UL << 1)
#define SSTATUS_SPIE	     (1UL << 5)
#define SSTATUS_SPP	     (1UL << 8)
#define SSTATUS_SUM	     (1UL << 18)

#define IRQ_S_SOFT	     1
#define IRQ_S_TIMER	     5
#define IRQ_S_EXT	     9
#define SIE_SSIE	     (1UL << IRQ_S_SOFT)
#define SIE_STIE	     (1UL << IRQ_S_TIMER)
#define SIE_SEIE	     (1UL << IRQ_S_EXT)
#define CAUSE_IRQ_FLAG	     (1UL << 63)

#define EXC_INST_MISALIGNED  0
#define EXC_INST_ACCESS	     1
#define EXC_ILLEGAL_INSN     2
#define EXC_BREAKPOINT	     3
#define EXC_LOAD_MISALIGNED  4
#define EXC_LOAD_ACCESS	     5
#define EXC_STORE_MISALIGNED 6
#define EXC_STORE_ACCESS     7
#define EXC_INST_PAGE_FAULT  12
#define EXC_LOAD_PAGE_FAULT  13
#define EXC_STORE_PAGE_FAULT 15

/* CSRs the assembler of -march=rv64imac may not name: use numbers. */
#define CSR_STIMECMP 0x14d
#define CSR_SISELECT 0x150
#define CSR_SIREG    0x151
#define CSR_STOPEI   0x15c

#define __str(x)     #x
/* The "= 0" before each asm that sets the variable costs nothing (the
 * compiler drops the dead store) and keeps cppcheck from reporting it as
 * read uninitialised. */
#define csr_read(csr)                                                                              \
	({                                                                                         \
		unsigned long __v = 0;                                                             \
		__asm__ volatile("csrr %0, " __str(csr) : "=r"(__v)::"memory");                    \
		__v;                                                                               \
	})
#define csr_write(csr, val)                                                                        \
	({ __asm__ volatile("csrw " __str(csr) ", %0" ::"rK"((unsigned long)(val)) : "memory"); })
#define csr_set(csr, val)                                                                          \
	({ __asm__ volatile("csrs " __str(csr) ", %0" ::"rK"((unsigned long)(val)) : "memory"); })
#define csr_clear(csr, val)                                                                        \
	({ __asm__ volatile("csrc " __str(csr) ", %0" ::"rK"((unsigned long)(val)) : "memory"); })
#define csr_read_clear(csr, val)                                                                   \
	({                                                                                         \
		unsigned long __v = 0;                                                             \
		__asm__ volatile("csrrc %0, " __str(csr) ", %1"                                    \
				 : "=r"(__v)                                                       \
				 : "rK"((unsigned long)(val))                                      \
				 : "memory");                                                      \
		__v;                                                                               \
	})
#define csr_swap(csr, val)                                                                         \
	({                                                                                         \
		unsigned long __v = 0;                                                             \
		__asm__ volatile("csrrw %0, " __str(csr) ", %1"                                    \
				 : "=r"(__v)                                                       \
				 : "rK"((unsigned long)(val))                                      \
				 : "memory");                                                      \
		__v;                                                                               \
	})

static inline void local_irq_enable(void)
{
	csr_set(sstatus, SSTATUS_SIE);
}

static inline void local_irq_disable(void)
{
	csr_clear(sstatus, SSTATUS_SIE);
}

static inline unsigned long local_irq_save(void)
{
	return csr_read_clear(sstatus, SSTATUS_SIE) & SSTATUS_SIE;
}

static inline void local_irq_restore(unsigned long flags)
{
	csr_set(sstatus, flags & SSTATUS_SIE);
}

static inline bool irqs_disabled(void)
{
	return !(csr_read(sstatus) & SSTATUS_SIE);
}

static inline uint64_t get_cycles(void)
{
	return csr_read(time);
}

static inline void wfi(void)
{
	__asm__ volatile("wfi" ::: "memory");
}

/* Zihintpause "pause", encoded by hand: rv64imac does not include it and
 * harts without it execute the encoding as a harmless fence. */
static inline void cpu_relax(void)
{
	__asm__ volatile(".4byte 0x0100000f" ::: "memory");
}

#define barrier() __asm__ volatile("" ::: "memory")
#define mb()	  __asm__ volatile("fence rw, rw" ::: "memory")
#define rmb()	  __asm__ volatile("fence r, r" ::: "memory")
#define wmb()	  __asm__ volatile("fence w, w" ::: "memory")
#define smp_mb()  mb()
#define smp_rmb() __asm__ volatile("fence r, r" ::: "memory")
#define smp_wmb() __asm__ volatile("fence w, w" ::: "memory")
/*
 * Acquire loads and release stores, mapped as the RVWMO memory model's
 * appendix and Linux riscv do: a load then `fence r,rw`; `fence rw,w`
 * then a store. GCC 12 maps __atomic_load_n(ACQUIRE) to a load and a
 * full `fence rw,rw` and __atomic_store_n(RELEASE) to a fence and an
 * amoswap: stronger than needed, and under QEMU's TCG on an x86 host the
 * full fence is an mfence and the AMO a helper call, on every lock and
 * unlock. Naturally aligned scalars only (one load or store).
 */
#define smp_load_acquire(p)                                                                        \
	({                                                                                         \
		__typeof__(*(p)) ___v = *(const volatile __typeof__(*(p)) *)(p);                   \
		__asm__ volatile("fence r, rw" ::: "memory");                                      \
		___v;                                                                              \
	})
#define smp_store_release(p, v)                                                                    \
	do {                                                                                       \
		__asm__ volatile("fence rw, w" ::: "memory");                                      \
		*(volatile __typeof__(*(p)) *)(p) = (v);                                           \
	} while (0)

/*
 * 32-bit compare-and-exchange, an LR/SC loop, with the RVWMO mappings
 * Linux riscv uses: acquire is a `fence r,rw` after the loop, release a
 * `fence rw,w` before it. (GCC 12's __atomic_compare_exchange_n puts .aq
 * on the SC for acquire and no ordering at all for release.) Returns the
 * value read: the exchange happened iff it equals old. The operands go
 * in sign-extended, as lr.w reads.
 */
#define __cmpxchg32(p, old, new, before, after)                                                    \
	({                                                                                         \
		long __prev, __rc;                                                                 \
		__asm__ volatile(before "0:	lr.w %0, %2\n"                                         \
					"	bne %0, %z3, 1f\n"                                       \
					"	sc.w %1, %z4, %2\n"                                      \
					"	bnez %1, 0b\n"                                           \
					"1:\n" after                                               \
				 : "=&r"(__prev), "=&r"(__rc), "+A"(*(p))                          \
				 : "rJ"((long)(int32_t)(old)), "rJ"((long)(int32_t)(new))          \
				 : "memory");                                                      \
		(uint32_t) __prev;                                                                 \
	})
#define cmpxchg32_relaxed(p, old, new) __cmpxchg32(p, old, new, "", "")
#define cmpxchg32_acquire(p, old, new) __cmpxchg32(p, old, new, "", "	fence r, rw\n")
#define cmpxchg32_release(p, old, new) __cmpxchg32(p, old, new, "	fence rw, w\n", "")

/* Order MMIO writes after prior memory writes (e.g. an IPI doorbell). */
#define io_wmb() __asm__ volatile("fence w, o" ::: "memory")

static inline void local_flush_tlb_all(void)
{
	__asm__ volatile("sfence.vma" ::: "memory");
}

static inline void local_flush_tlb_page(unsigned long va)
{
	__asm__ volatile("sfence.vma %0" ::"r"(va) : "memory");
}

static inline void writel(uint32_t v, uintptr_t addr)
{
	__asm__ volatile("sw %0, 0(%1)" ::"r"(v), "r"(addr) : "memory");
}

static inline uint32_t readl(uintptr_t addr)
{
	uint32_t v = 0; /* set by the asm; initialised for cppcheck */
	__asm__ volatile("lw %0, 0(%1)" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void writeb(uint8_t v, uintptr_t addr)
{
	__asm__ volatile("sb %0, 0(%1)" ::"r"(v), "r"(addr) : "memory");
}

static inline uint8_t readb(uintptr_t addr)
{
	uint8_t v = 0; /* set by the asm; initialised for cppcheck */
	__asm__ volatile("lbu %0, 0(%1)" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

#endif
