/*
 * probe.c - counting probes (see probe.h).
 *
 * The table is written under probe_mutex and read by the breakpoint
 * handler without a lock: a probe's fields are filled in before the
 * stop_machine() that plants its ebreak, and cleared after the one that
 * removes it, and a stop_machine() is a full barrier on every hart.
 *
 * Slots: MAX_PROBES 8-byte pieces of text (.text.probe_slots, mapped
 * RX like all text and written through patch_text_batch()'s alias).
 * Slot i holds probe i's original instruction (a 2-byte one padded with
 * c.nop) at +0 and an ebreak at +4. Unused slots are all ebreak: a
 * stray jump there traps and is not ours, so it panics loudly.
 */
#include <string.h>
#include "jump_label.h"
#include "kernel.h"
#include "mutex.h"
#include "patch.h"
#include "preempt.h"
#include "probe.h"
#include "riscv.h"
#include "smp.h"

#define SLOT_SIZE 8

__asm__(".pushsection .text.probe_slots, \"ax\"\n"
	"	.balign 8\n"
	"	.globl probe_slots\n"
	"probe_slots:\n"
	"	.fill 16 * 8 / 4, 4, 0x00100073\n" /* MAX_PROBES slots of ebreaks */
	"	.globl probe_slots_end\n"
	"probe_slots_end:\n"
	"	.popsection\n");
extern char probe_slots[], probe_slots_end[];
_Static_assert(MAX_PROBES *SLOT_SIZE == 16 * 8, "the .fill above");

struct probe {
	unsigned long addr; /* 0: unused */
	int len;	    /* of the instruction at addr: 2 or 4 */
	uint8_t orig[4];
	unsigned long hits[NR_CPUS]; /* each hart adds to its own */
};

static struct probe probes[MAX_PROBES];
static DEFINE_MUTEX(probe_mutex);

/* Per hart: the probe whose slot it is executing (index + 1, 0: none),
 * and the SPIE the first trap found. Only that hart touches its entry,
 * with interrupts off. */
static struct {
	int active;
	unsigned long spie;
} probe_hart[NR_CPUS];

static uintptr_t slot_of(int i)
{
	return (uintptr_t)probe_slots + (uintptr_t)i * SLOT_SIZE;
}

/**
 * probe_handle_breakpoint() - the breakpoint trap's check for a probe.
 * @regs: the trap frame; epc is the ebreak's address.
 *
 * An ebreak at a probe's address counts a hit for this hart and resumes in the probe's slot
 * with the interrupted context's interrupts off (SPIE cleared, its old value kept per hart);
 * the ebreak that ends the slot restores SPIE and resumes after the probed instruction.
 *
 * Context: the trap path (platform/riscv/trap.c), interrupts off; no-patch text.
 * Return: true if the breakpoint was a probe's (@regs updated), false otherwise.
 */
__nopatch bool probe_handle_breakpoint(struct pt_regs *regs)
{
	unsigned long pc = regs->epc;
	int cpu = raw_smp_processor_id(); /* interrupts are off: we stay */
	if (pc >= (uintptr_t)probe_slots && pc < (uintptr_t)probe_slots_end) {
		/* The ebreak ending a slot: back to the probed code. */
		int i = (int)((pc - (uintptr_t)probe_slots) / SLOT_SIZE);
		if (pc != slot_of(i) + 4 || probe_hart[cpu].active != i + 1)
			return false;
		probe_hart[cpu].active = 0;
		regs->status |= probe_hart[cpu].spie;
		regs->epc = probes[i].addr + (unsigned long)probes[i].len;
		return true;
	}
	for (int i = 0; i < MAX_PROBES; i++) {
		if (READ_ONCE(probes[i].addr) != pc)
			continue;
		__atomic_fetch_add(&probes[i].hits[cpu], 1, __ATOMIC_RELAXED);
		/* Interrupts off until the slot's ebreak: a hart in a slot
		 * cannot be preempted, so once a stop_machine() has run on
		 * every hart no task is inside the slot (probe_del()). */
		probe_hart[cpu].active = i + 1;
		probe_hart[cpu].spie = regs->status & SSTATUS_SPIE;
		regs->status &= ~SSTATUS_SPIE;
		regs->epc = slot_of(i);
		return true;
	}
	return false;
}

/* Whether the instruction may run out of line in a slot (see probe.h). */
static bool insn_relocatable(uint32_t insn, int len)
{
	if (len == 2) {
		uint16_t c = (uint16_t)insn;
		unsigned int op = c & 3, f3 = c >> 13;
		if (c == 0)
			return false; /* illegal */
		if (op == 1 && (f3 == 5 || f3 == 6 || f3 == 7))
			return false; /* c.j, c.beqz, c.bnez */
		if (op == 2 && f3 == 4 && ((c >> 2) & 0x1f) == 0)
			return false; /* c.jr, c.jalr, c.ebreak */
		return true;
	}
	switch (insn & 0x7f) {
	case 0x17: /* auipc */
	case 0x6f: /* jal */
	case 0x67: /* jalr */
	case 0x63: /* branches */
	case 0x73: /* SYSTEM */
		return false;
	default:
		return true;
	}
}

static bool is_jump_label_site(unsigned long addr, int len)
{
	for (size_t i = 0; i < jump_table_entries(); i++) {
		const struct jump_entry *e = &__jump_table_start[i];
		if (e->code < addr + (unsigned long)len && e->code + 4 > addr)
			return true;
	}
	return false;
}

static struct probe *find_probe(unsigned long addr)
{
	for (int i = 0; i < MAX_PROBES; i++)
		if (probes[i].addr == addr)
			return &probes[i];
	return NULL;
}

/* The instruction at addr and its length, if a probe may take it. */
static int read_insn(unsigned long addr, uint32_t *insnp, int *lenp)
{
	uint16_t lo = *(const uint16_t *)addr;
	int len = riscv_insn_len(lo);
	if (len == 0 || !text_contains((void *)addr, (size_t)len)) {
		pr_warn("probe_add: 0x%lx: unknown instruction length", addr);
		return -EINVAL;
	}
	if (text_is_nopatch((void *)addr, (size_t)len)) {
		pr_warn("probe_add: 0x%lx is no-patch text (trap path, rendezvous or patcher)",
			addr);
		return -EPERM;
	}
	uint32_t insn = lo;
	if (len == 4)
		insn |= (uint32_t) * (const uint16_t *)(addr + 2) << 16;
	if (!insn_relocatable(insn, len)) {
		pr_warn("probe_add: 0x%lx: cannot run 0x%x out of line (pc-relative or a jump)",
			addr, insn);
		return -EINVAL;
	}
	if (is_jump_label_site(addr, len)) {
		pr_warn("probe_add: 0x%lx is a static key's site", addr);
		return -EINVAL;
	}
	*insnp = insn;
	*lenp = len;
	return 0;
}

/**
 * probe_add() - count every execution of the instruction at @addr.
 * @addr: a 2-byte aligned instruction in kernel text, outside no-patch text.
 *
 * Context: process context, may sleep (probe_mutex, stop_machine()).
 * Return: 0; -EINVAL (with a warning) if @addr is 0, odd, not kernel text, a probe slot, a
 * static key's site or an instruction that cannot run out of line (probe.h); -EPERM (with a
 * warning) for no-patch text; -EEXIST (with a warning) if @addr already has a probe; -ENOSPC
 * (with a warning) if all MAX_PROBES are in use; or patch_text_batch()'s error.
 */
int probe_add(unsigned long addr)
{
	might_sleep();
	if (!addr || (addr & 1) || !text_contains((void *)addr, 2) ||
	    (addr >= (uintptr_t)probe_slots && addr < (uintptr_t)probe_slots_end)) {
		pr_warn("probe_add: 0x%lx is not an instruction of kernel text", addr);
		return -EINVAL;
	}
	mutex_lock(&probe_mutex);
	int rc = 0, i, len = 0;
	uint32_t insn = 0;
	struct probe *p = NULL;
	/* Under the mutex: the instruction we read is not one of ours. */
	if (find_probe(addr)) {
		pr_warn("probe_add: 0x%lx already has a probe", addr);
		rc = -EEXIST;
		goto out;
	}
	rc = read_insn(addr, &insn, &len);
	if (rc)
		goto out;
	for (i = 0; i < MAX_PROBES && !p; i++)
		if (!probes[i].addr)
			p = &probes[i];
	if (!p) {
		pr_warn("probe_add: all %d probes in use", MAX_PROBES);
		rc = -ENOSPC;
		goto out;
	}
	i = (int)(p - probes);
	p->len = len;
	memcpy(p->orig, &insn, 4);
	memset(p->hits, 0, sizeof(p->hits));
	WRITE_ONCE(p->addr, addr);

	/* The slot first (orig, c.nop padding, ebreak), then the ebreak at
	 * addr: in one batch, so no hart sees one without the other. */
	struct text_poke pokes[2];
	uint32_t tail = RISCV_INSN_EBREAK;
	memset(&pokes, 0, sizeof(pokes));
	pokes[0].addr = (void *)slot_of(i);
	pokes[0].len = 8;
	memcpy(pokes[0].bytes, &insn, 4);
	if (len == 2) {
		pokes[0].bytes[2] = 0x01; /* c.nop */
		pokes[0].bytes[3] = 0x00;
	}
	memcpy(pokes[0].bytes + 4, &tail, 4);
	pokes[1].addr = (void *)addr;
	pokes[1].len = (uint8_t)len;
	if (len == 2) {
		uint16_t ce = RISCV_INSN_CEBREAK;
		memcpy(pokes[1].bytes, &ce, 2);
	} else {
		memcpy(pokes[1].bytes, &tail, 4);
	}
	rc = patch_text_batch(pokes, 2, 0);
	if (rc)
		WRITE_ONCE(p->addr, 0);
out:
	mutex_unlock(&probe_mutex);
	return rc;
}

/**
 * probe_del() - remove the probe at @addr, restoring the original instruction.
 * @addr: where probe_add() put it.
 *
 * The original bytes go back through patch_text_batch(). The slot is free for reuse once that
 * returns: a hart is in a slot only between the two breakpoint traps, with interrupts off, so
 * it cannot be running its stopper meanwhile; the stop_machine() therefore began after every
 * hart had left any slot, and once it has run the ebreak at @addr is gone on every hart
 * (fence.i), so none enters this slot again.
 *
 * Context: process context, may sleep.
 * Return: 0; -ENOENT (with a warning) if @addr has no probe; or patch_text_batch()'s error
 * (the probe then stays).
 */
int probe_del(unsigned long addr)
{
	might_sleep();
	mutex_lock(&probe_mutex);
	struct probe *p = addr ? find_probe(addr) : NULL;
	int rc;
	if (!p) {
		pr_warn("probe_del: no probe at 0x%lx", addr);
		rc = -ENOENT;
		goto out;
	}
	struct text_poke poke;
	memset(&poke, 0, sizeof(poke));
	poke.addr = (void *)addr;
	poke.len = (uint8_t)p->len;
	memcpy(poke.bytes, p->orig, 4);
	rc = patch_text_batch(&poke, 1, 0);
	if (!rc)
		WRITE_ONCE(p->addr, 0);
out:
	mutex_unlock(&probe_mutex);
	return rc;
}

/**
 * probe_hits() - how often @cpu has hit the probe at @addr.
 * @addr: the probe's address.
 * @cpu: the hart.
 *
 * Context: any (a relaxed read of a counter only @cpu's breakpoint trap writes).
 * Return: the count, 0 if @addr has no probe or @cpu is out of range.
 */
unsigned long probe_hits(unsigned long addr, int cpu)
{
	if (cpu < 0 || cpu >= NR_CPUS || !addr)
		return 0;
	for (int i = 0; i < MAX_PROBES; i++)
		if (READ_ONCE(probes[i].addr) == addr)
			return __atomic_load_n(&probes[i].hits[cpu], __ATOMIC_RELAXED);
	return 0;
}

/**
 * probe_addr() - the address of probe number @i, to walk the table (the shell's `probe list`).
 * @i: 0 .. MAX_PROBES - 1.
 *
 * Context: any; the answer may be stale as soon as it is read (probe_mutex is not taken).
 * Return: the address, 0 for an unused entry or an @i out of range.
 */
unsigned long probe_addr(int i)
{
	return i >= 0 && i < MAX_PROBES ? READ_ONCE(probes[i].addr) : 0;
}
