/*
 * patch.h - changing kernel text while the kernel runs.
 *
 * Kernel text is mapped read+execute and never writable (W^X). To change
 * an instruction the patcher maps the physical page behind it a second
 * time, read+write, at an alias address (kernel/vm.c, text_alias_map()),
 * writes through the alias, unmaps it and makes every hart's instruction
 * fetches see the new bytes with `fence.i`.
 *
 *   patch_text(addr, insns, len)   any length (2-byte multiples, at most a
 *                                  page, may straddle two pages): under
 *                                  stop_machine(), every hart parked while
 *                                  one writes, then every hart fence.i
 *   patch_text_nosync(addr, insn, len)
 *                                  one 2-byte or naturally aligned 4-byte
 *                                  instruction with a single store: the
 *                                  other harts run on and see the old or
 *                                  the new instruction, never a mix
 *
 * No-patch text: the code that runs the rendezvous, the trap path, the
 * halting waits and the patcher itself is linked between __nopatch_start
 * and __nopatch_end (platform/riscv/kernel.ld); patch_text() refuses it
 * (-EPERM), because a hart may be executing it while another writes, or a
 * breakpoint there would trap inside the trap handler. Mark a function
 * with __nopatch to put it there.
 *
 * Lock order: text_mutex (a mutex, may sleep) -> stop_cpus_mutex
 * (stop_machine()). Static keys and probes take their own mutex before
 * text_mutex. patch_lock (a leaf spinlock, interrupts off) serialises
 * patch_text_nosync() callers; stop_machine() cannot start while a hart
 * holds it (that hart has interrupts off and cannot enter its stopper).
 */
#ifndef HARTSTOP_PATCH_H
#define HARTSTOP_PATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define __nopatch __attribute__((section(".text.nopatch"), noinline))

extern char __nopatch_start[], __nopatch_end[];
/* A 4-aligned 4-byte nop that nothing executes (kernel/patch.c): timing. */
extern char patch_timing_site[];

int patch_text(void *addr, const void *insns, size_t len);
int patch_text_nosync(void *addr, const void *insns, size_t len);

/* One write of a batch: at most 8 bytes (an instruction, or two). */
struct text_poke {
	void *addr;
	uint8_t bytes[8];
	uint8_t len;
};

/*
 * Flags of patch_text_batch(): PATCH_ALLOW_NOPATCH lets the static keys
 * rewrite their sites in no-patch text: every site is one aligned 4-byte
 * store, and during the write every hart but the writer waits in the
 * patcher's own loop, which holds no site.
 */
#define PATCH_ALLOW_NOPATCH 0x1
int patch_text_batch(const struct text_poke *pokes, int n, unsigned int flags);

/* Whether [addr, addr+len) overlaps no-patch text. */
bool text_is_nopatch(const void *addr, size_t len);
/* Whether [addr, addr+len) lies in kernel text. */
bool text_contains(const void *addr, size_t len);

/* The length of the instruction whose first halfword is @insn16: 2 or 4
 * (0 for the longer encodings, which rv64imac has none of). */
static inline int riscv_insn_len(uint16_t insn16)
{
	if ((insn16 & 3) != 3)
		return 2;
	if ((insn16 & 0x1c) != 0x1c)
		return 4;
	return 0;
}

#define RISCV_INSN_NOP	   0x00000013U /* addi x0, x0, 0 */
#define RISCV_INSN_EBREAK  0x00100073U
#define RISCV_INSN_CEBREAK 0x9002U
/* jal x0, off: off even, within +-1 MiB. */
uint32_t riscv_insn_jal(long off);

#endif
