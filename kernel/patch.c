/*
 * patch.c - rewrite kernel text while every hart runs (see patch.h).
 *
 * patch_text() is Linux's arch/riscv patch_text() in shape: one
 * stop_machine() on every online hart, fn on all of them (active mask =
 * every online hart). The first hart to arrive in the fn is the writer:
 * it waits until every other hart has arrived (so that all of them sit in
 * their wait, patch_wait_done(), which is no-patch text, rather than
 * anywhere in patchable code), writes every poke through a writable
 * alias of the target page(s), then releases the others; every hart
 * executes fence.i before it leaves the fn. Interrupts are off everywhere meanwhile (the
 * rendezvous' DISABLE_IRQ), so no hart can run an interrupt handler out
 * of half-written text either.
 *
 * Everything a hart executes between the first write and its own fence.i
 * is no-patch: this file's functions are __nopatch, and so are the alias
 * helpers in kernel/vm.c; the copy loop below is our own (picolibc's
 * memcpy is patchable text).
 */
#include "cpu_wait.h"
#include "cpumask.h"
#include "ipi.h"
#include "ipi_hw.h"
#include "kernel.h"
#include "mm.h"
#include "mutex.h"
#include "patch.h"
#include "preempt.h"
#include "riscv.h"
#include "sbi.h"
#include "smp.h"
#include "smp_call.h"
#include "spinlock.h"
#include "stop_machine.h"

static DEFINE_MUTEX(text_mutex);

/* A 4-byte nop nothing calls, 4-aligned in patchable text: what the
 * shell's `patch` and the bench rewrite (with a nop) to time patching. */
__asm__(".pushsection .text.patch_timing, \"ax\"\n"
	"	.balign 4\n"
	"	.globl patch_timing_site\n"
	"patch_timing_site:\n"
	"	.option push\n"
	"	.option norvc\n"
	"	nop\n"
	"	ret\n"
	"	.option pop\n"
	"	.popsection\n");
static DEFINE_SPINLOCK(patch_lock);

/*
 * fence.i: make this hart's instruction fetches see every store to
 * memory that is visible to it (its own, and other harts' that it has
 * observed, e.g. through an acquire). Without it a hart may go on
 * executing instructions it fetched, or cached, before the write.
 */
static inline void local_fence_i(void)
{
	__asm__ volatile("fence.i" ::: "memory");
}

/**
 * text_contains() - whether [@addr, @addr + @len) lies wholly in kernel text.
 * @addr: the first byte.
 * @len: the length.
 *
 * Context: any.
 * Return: true if it does.
 */
bool text_contains(const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;
	return a >= (uintptr_t)__text_start && a < (uintptr_t)__text_end &&
	       len <= (uintptr_t)__text_end - a;
}

/**
 * text_is_nopatch() - whether [@addr, @addr + @len) overlaps no-patch text.
 * @addr: the first byte.
 * @len: the length.
 *
 * Context: any.
 * Return: true if any byte lies between __nopatch_start and __nopatch_end.
 */
bool text_is_nopatch(const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;
	return a < (uintptr_t)__nopatch_end && a + len > (uintptr_t)__nopatch_start;
}

/* The encoding of `jal x0, off` (J-type: imm[20|10:1|11|19:12]). */
uint32_t riscv_insn_jal(long off)
{
	uint32_t imm = (uint32_t)off;
	return ((imm >> 20) & 1) << 31 | ((imm >> 1) & 0x3ff) << 21 | ((imm >> 11) & 1) << 20 |
	       ((imm >> 12) & 0xff) << 12 | 0x6f; /* rd = x0 */
}

/*
 * Copy len bytes (even, 2-aligned) to text at dst through the alias
 * slots: one per page touched, so a site straddling a page boundary
 * writes its first half through slot 0 and the rest through slot 1. A
 * naturally aligned word is stored whole (patch_text_nosync() and the
 * static keys rely on a 4-byte site changing with one store).
 */
static __nopatch void write_through_alias(uintptr_t dst, const uint8_t *src, size_t len)
{
	int slot = 0;
	while (len) {
		uintptr_t page = ALIGN_DOWN(dst, PAGE_SIZE);
		size_t chunk = min(len, page + PAGE_SIZE - dst);
		uint8_t *alias = (uint8_t *)text_alias_map(slot, (const void *)page) + (dst - page);
		for (size_t i = 0; i < chunk;) {
			if (IS_ALIGNED(dst + i, 4) && chunk - i >= 4) {
				uint32_t w = (uint32_t)src[i] | (uint32_t)src[i + 1] << 8 |
					     (uint32_t)src[i + 2] << 16 |
					     (uint32_t)src[i + 3] << 24;
				WRITE_ONCE(*(uint32_t *)(alias + i), w);
				i += 4;
			} else {
				uint16_t h = (uint16_t)(src[i] | src[i + 1] << 8);
				WRITE_ONCE(*(uint16_t *)(alias + i), h);
				i += 2;
			}
		}
		text_alias_unmap(slot);
		slot = (slot + 1) % TEXT_ALIAS_SLOTS;
		dst += chunk;
		src += chunk;
		len -= chunk;
	}
}

struct patch_run {
	const struct text_poke *pokes;
	int n;
	int harts;	   /* how many harts run the fn */
	int arrived;	   /* harts in the fn so far; the first one writes */
	int done;	   /* the writer has written everything */
	cpumask_t halted;  /* waiters halted in wfi until the writer kicks */
	int writer;	   /* the writer's cpu, valid once writer_halted is */
	int writer_halted; /* the writer halted waiting for the last arrival */
};

/* One halt of this hart with the timer masked (see patch_wait_done()). */
static inline void patch_halt(void)
{
	unsigned long stie = csr_read_clear(sie, SIE_STIE) & SIE_STIE;
	wfi();
	csr_set(sie, stie);
}

/*
 * The writer's wait for every other hart to enter the fn: spin, then
 * halt, as the waiters do (a spinning hart live-locks QEMU's -icount
 * round robin: the harts it waits for never get their turn). The last
 * hart to arrive rings our doorbell if we registered as halted, with
 * ipi_hw_ring_nopatch(): once it has arrived we may start writing, so it
 * must not run patchable text after its increment. Registration is the
 * store-buffering pattern again: we set writer_halted, fence, look at
 * arrived; it increments arrived, fences, looks at writer_halted.
 * The spin is five cpu-wait budgets (100 us by default): the others come
 * out of the rendezvous' own halt to get here, which often takes longer
 * than one budget, and halting early costs every patch a doorbell round
 * trip (SMP 2: 62 us per patch_text() against 45 us). Still bounded, so
 * -icount does not live-lock.
 */
static __nopatch void patch_wait_arrivals(struct patch_run *run)
{
	uint64_t start = get_cycles();
	run->writer = raw_smp_processor_id();
	while (__atomic_load_n(&run->arrived, __ATOMIC_ACQUIRE) < run->harts) {
		if (get_cycles() - start < 5 * cpu_wait_spin_ticks) {
			cpu_relax();
			continue;
		}
		__atomic_store_n(&run->writer_halted, 1, __ATOMIC_RELEASE);
		smp_mb();
		if (__atomic_load_n(&run->arrived, __ATOMIC_ACQUIRE) < run->harts)
			patch_halt();
		__atomic_store_n(&run->writer_halted, 0, __ATOMIC_RELAXED);
	}
}

/*
 * A waiter's wait for run->done, in no-patch text: spin for the cpu_wait
 * budget, then halt. Not cpu_wait.h's halting wait: that one calls
 * patchable helpers (resched_ipi_flush(), the tick's), which could be
 * the very text being written. Here, with interrupts off, the waiter
 * registers in run->halted, fences, looks at done once more and runs
 * `wfi` with the timer masked in sie, so that only the writer's kick
 * (an IPI: SSIP, or an IMSIC message on SEIP; both stay enabled) or a
 * device ends the halt, not a due tick that would stay pending and turn
 * every later wfi into a spin. The writer sets done, fences, then kicks
 * whoever registered: either it sees our bit, or we see done (the
 * store-buffering pattern with a full fence on both sides). The kick
 * stays pending and is taken as an ordinary IPI_KICK once the
 * rendezvous turns interrupts back on. Without the halt, 127 spinning
 * harts on a 2-core host starve the writer and the late arrivals.
 */
static __nopatch void patch_wait_done(struct patch_run *run, int cpu)
{
	uint64_t start = get_cycles();
	while (!__atomic_load_n(&run->done, __ATOMIC_ACQUIRE)) {
		if (get_cycles() - start < cpu_wait_spin_ticks) {
			cpu_relax();
			continue;
		}
		cpumask_set_cpu_atomic(cpu, &run->halted);
		smp_mb();
		if (!__atomic_load_n(&run->done, __ATOMIC_ACQUIRE))
			patch_halt();
		cpumask_clear_cpu_atomic(cpu, &run->halted);
	}
}

static __nopatch int patch_text_stop_fn(void *arg)
{
	struct patch_run *run = arg;
	int before = __atomic_fetch_add(&run->arrived, 1, __ATOMIC_ACQ_REL);
	if (before == 0) {
		/* Wait for the others to reach their wait: until then a
		 * hart may still be in the rendezvous' wait (which calls
		 * patchable helpers) and could fetch half-written text. */
		patch_wait_arrivals(run);
		for (int i = 0; i < run->n; i++)
			write_through_alias((uintptr_t)run->pokes[i].addr, run->pokes[i].bytes,
					    run->pokes[i].len);
		/* Release: the text stores are visible to any hart that
		 * acquires done before it runs its fence.i below. */
		__atomic_store_n(&run->done, 1, __ATOMIC_RELEASE);
		/* Our own fetches first: from here on we may run patched
		 * text (send_ipi_mask() below may be some of it). */
		local_fence_i();
		/* The waiter's half is in patch_wait_done(): done is
		 * stored, then this fence, then we read who halted. */
		smp_mb();
		if (!cpumask_empty(&run->halted))
			send_ipi_mask(&run->halted, IPI_KICK);
		return 0;
	}
	if (before == run->harts - 1) {
		/* The last to arrive: wake the writer if it halted. */
		smp_mb();
		if (__atomic_load_n(&run->writer_halted, __ATOMIC_ACQUIRE))
			ipi_hw_ring_nopatch(run->writer);
	}
	patch_wait_done(run, raw_smp_processor_id());
	/* Every waiter: instructions it may have fetched (or cached) from
	 * the old text must not run after we return. The acquire of done
	 * made the writer's stores visible to this hart, and fence.i makes
	 * its fetches see them. This is the fence the whole patch is for:
	 * RISC-V has no coherence between stores and instruction fetch
	 * without it (QEMU happens to keep them coherent, so leaving it out
	 * would not show in the tests). */
	local_fence_i();
	return 0;
}

/* The checks every entry point makes; 0, or the errno after a warning. */
static int check_site(const char *api, const void *addr, const void *insns, size_t len,
		      unsigned int flags)
{
	if (!addr || !insns || !len || (len & 1) || !IS_ALIGNED((uintptr_t)addr, 2) ||
	    len > PAGE_SIZE) {
		pr_warn("%s: bad site %p len %zu", api, addr, len);
		return -EINVAL;
	}
	if (!text_contains(addr, len)) {
		pr_warn("%s: %p+%zu is not kernel text", api, addr, len);
		return -EINVAL;
	}
	if (!(flags & PATCH_ALLOW_NOPATCH) && text_is_nopatch(addr, len)) {
		pr_warn("%s: %p+%zu is no-patch text (trap path, rendezvous or patcher)", api, addr,
			len);
		return -EPERM;
	}
	return 0;
}

/**
 * patch_text_batch() - write several runs of instructions in one stop_machine().
 * @pokes: the writes; each at most 8 bytes, 2-aligned, in kernel text.
 * @n: how many (at least 1).
 * @flags: PATCH_ALLOW_NOPATCH to allow sites in no-patch text (static keys only).
 *
 * All writes happen while every online hart waits inside the same stop fn; every hart executes
 * fence.i before it leaves, so when this returns every hart runs the new text.
 *
 * Context: process context, may sleep (text_mutex, stop_machine()).
 * Return: 0; -EINVAL for a bad poke or @n < 1 (with a warning); -EPERM for a poke in no-patch
 * text without PATCH_ALLOW_NOPATCH (with a warning); stop_machine()'s error otherwise.
 */
int patch_text_batch(const struct text_poke *pokes, int n, unsigned int flags)
{
	might_sleep();
	if (!pokes || n < 1) {
		pr_warn("patch_text_batch: no pokes");
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		int rc = check_site("patch_text", pokes[i].addr, pokes[i].bytes, pokes[i].len,
				    flags);
		if (rc)
			return rc;
		if (pokes[i].len > sizeof(pokes[i].bytes)) {
			pr_warn("patch_text_batch: poke of %u bytes", pokes[i].len);
			return -EINVAL;
		}
	}
	mutex_lock(&text_mutex);
	/* Before the stoppers exist stop_machine() runs fn once, here. */
	struct patch_run run = {
		.pokes = pokes,
		.n = n,
		.harts = cpu_stopper_task(raw_smp_processor_id()) ? num_online_cpus() : 1};
	int rc = stop_machine(patch_text_stop_fn, &run, cpu_online_mask);
	mutex_unlock(&text_mutex);
	return rc;
}

/**
 * patch_text() - replace instructions in kernel text, with every hart stopped.
 * @addr: the first byte to replace; 2-aligned, in kernel text, outside no-patch text.
 * @insns: the new bytes.
 * @len: how many (even, at most a page); the range may straddle two pages.
 *
 * Runs one stop_machine() on every online hart: one writes @insns through a temporary writable
 * alias of the page(s) (text stays read+execute in the kernel map), the others wait, and all
 * execute fence.i before leaving, so when this returns every hart runs the new text.
 *
 * Context: process context, may sleep (text_mutex, stop_machine()). Lock order: text_mutex ->
 * stop_cpus_mutex.
 * Return: 0; -EINVAL (with a warning) if @addr or @insns is NULL, @len is 0, odd or over a
 * page, @addr is odd or the range is not all kernel text; -EPERM (with a warning) if the range
 * overlaps no-patch text; -EDEADLK (stop_machine()'s warning) from atomic context.
 */
int patch_text(void *addr, const void *insns, size_t len)
{
	might_sleep();
	int rc = check_site("patch_text", addr, insns, len, 0);
	if (rc)
		return rc;
	/* Split into pokes of 8 bytes (at most PAGE_SIZE / 8 of them). */
	int n = (int)((len + 7) / 8);
	struct text_poke *pokes = kmalloc(sizeof(*pokes) * (size_t)n);
	if (!pokes)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		size_t off = (size_t)i * 8, chunk = min(len - off, (size_t)8);
		pokes[i].addr = (uint8_t *)addr + off;
		pokes[i].len = (uint8_t)chunk;
		for (size_t j = 0; j < chunk; j++)
			pokes[i].bytes[j] = ((const uint8_t *)insns)[off + j];
	}
	rc = patch_text_batch(pokes, n, 0);
	kfree(pokes);
	return rc;
}

static void fence_i_ipi(void *unused)
{
	local_fence_i();
}

static void remote_fence_i_window(unsigned long bits, unsigned long base, void *unused)
{
	sbi_remote_fence_i(bits, base);
}

/**
 * patch_text_nosync() - replace one instruction with a single store, without stopping anyone.
 * @addr: the instruction: 2-aligned for a 2-byte one, 4-aligned for a 4-byte one; in kernel
 *	text, outside no-patch text.
 * @insns: the new instruction.
 * @len: 2 or 4.
 *
 * An aligned 2- or 4-byte store is single-copy atomic, so another hart executing @addr
 * meanwhile runs the old or the new instruction, never a mix. Only safe where both are fine to
 * run (a nop against a jump). Then every hart executes fence.i: this one locally, the others by
 * a cross-hart call (interrupts on) or an SBI remote fence.i (interrupts off).
 *
 * Context: any; does not sleep. patch_lock (a leaf, interrupts off)
 * serialises the alias slots with other callers; patch_text() cannot run meanwhile (this hart
 * cannot enter its stopper with interrupts off).
 * Return: 0; -EINVAL (with a warning) for a bad or misaligned site, a @len other than 2 or 4 or
 * a range outside kernel text; -EPERM (with a warning) for no-patch text.
 */
int patch_text_nosync(void *addr, const void *insns, size_t len)
{
	int rc = check_site("patch_text_nosync", addr, insns, len, 0);
	if (rc)
		return rc;
	if ((len != 2 && len != 4) || !IS_ALIGNED((uintptr_t)addr, len)) {
		pr_warn("patch_text_nosync: %p+%zu is not one aligned instruction", addr, len);
		return -EINVAL;
	}
	unsigned long flags = spin_lock_irqsave(&patch_lock);
	write_through_alias((uintptr_t)addr, insns, len);
	/* Our own fetches see the store from here on. */
	local_fence_i();
	spin_unlock_irqrestore(&patch_lock, flags);
	/* The others': until each runs fence.i it may run the old
	 * instruction (which is allowed here); after, the new one. */
	if (!irqs_disabled() && !in_irq()) {
		preempt_disable(); /* the call skips the hart it runs on: stay */
		smp_call_function_many(cpu_online_mask, fence_i_ipi, NULL, true);
		preempt_enable();
	} else {
		cpumask_t others;
		cpumask_copy(&others, cpu_online_mask);
		cpumask_clear_cpu(raw_smp_processor_id(), &others);
		if (!cpumask_empty(&others))
			sbi_for_each_hart_window(&others, remote_fence_i_window, NULL);
	}
	return 0;
}
