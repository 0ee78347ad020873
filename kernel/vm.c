/*
 * vm.c - the kernel's Sv39 page table.
 *
 * RAM is mapped 1:1 with 4 KiB pages so that any page can be unmapped
 * on its own (stack guards): kernel text read+execute, rodata read-only,
 * everything else read+write and never executable. Devices the DT names
 * are mapped read+write, with 2 MiB pages where they are large enough.
 * One table serves every hart; changes to it are followed by a TLB
 * shootdown on every hart (SBI RFENCE) once secondaries run.
 *
 * pt_lock (leaf, interrupts off) serialises edits of the table.
 */
#include <string.h>
#include "kernel.h"
#include "mm.h"
#include "riscv.h"
#include "sbi.h"
#include "smp.h"
#include "preempt.h"
#include "smp_call.h"
#include "spinlock.h"
#include "entry.h"
#include "patch.h"

#define PTE_V	      (1UL << 0)
#define PTE_R	      (1UL << 1)
#define PTE_W	      (1UL << 2)
#define PTE_X	      (1UL << 3)
#define PTE_G	      (1UL << 5)
#define PTE_A	      (1UL << 6)
#define PTE_D	      (1UL << 7)
#define PTE_PPN_SHIFT 10
#define SATP_SV39     (8UL << 60)
#define LEVELS	      3

typedef uint64_t pte_t;
static pte_t *kernel_pgd;
static unsigned long kernel_satp;
static DEFINE_SPINLOCK_CLASS(pt_lock, LOCK_CLASS_PT);
/* The leaf PTEs of the text alias slots, found once at boot so that the
 * patcher never walks (walk() is patchable text; the alias code is not). */
static pte_t *alias_pte[TEXT_ALIAS_SLOTS];

static inline unsigned vpn(uintptr_t va, int level)
{
	return (va >> (PAGE_SHIFT + 9 * level)) & 0x1ff;
}

static inline pte_t *pte_table(pte_t pte)
{
	return (pte_t *)((pte >> PTE_PPN_SHIFT) << PAGE_SHIFT);
}

/* Walk to the PTE of va at level `leaf` (0 = 4 KiB, 1 = 2 MiB), creating
 * intermediate tables when `create`. Caller holds pt_lock or runs alone. */
static pte_t *walk(uintptr_t va, int leaf, bool create)
{
	pte_t *table = kernel_pgd;
	for (int level = LEVELS - 1; level > leaf; level--) {
		pte_t *pte = &table[vpn(va, level)];
		if (!(*pte & PTE_V)) {
			if (!create)
				return NULL;
			pte_t *next = alloc_page();
			if (!next)
				panic("vm: out of memory for page tables");
			memset(next, 0, PAGE_SIZE);
			*pte = (((uintptr_t)next >> PAGE_SHIFT) << PTE_PPN_SHIFT) | PTE_V;
		} else if (*pte & (PTE_R | PTE_W | PTE_X)) {
			panic("vm: 0x%lx is inside a huge mapping", (unsigned long)va);
		}
		table = pte_table(*pte);
	}
	return &table[vpn(va, leaf)];
}

static void map_range(uintptr_t start, uintptr_t end, unsigned long perm, bool allow_huge)
{
	const uintptr_t huge = PAGE_SIZE << 9;
	start = ALIGN_DOWN(start, PAGE_SIZE);
	end = ALIGN_UP(end, PAGE_SIZE);
	for (uintptr_t a = start; a < end;) {
		int leaf = allow_huge && IS_ALIGNED(a, huge) && end - a >= huge ? 1 : 0;
		pte_t *pte = walk(a, leaf, true);
		*pte = ((a >> PAGE_SHIFT) << PTE_PPN_SHIFT) | perm | PTE_V | PTE_A | PTE_D | PTE_G;
		a += leaf ? huge : PAGE_SIZE;
	}
}

static void map_device(bool present, uint64_t base, uint64_t size)
{
	if (present && size)
		map_range(base, base + size, PTE_R | PTE_W, true);
}

void paging_init(const struct dt_info *dt)
{
	kernel_pgd = alloc_page();
	if (!kernel_pgd)
		panic("vm: no page for the root table");
	memset(kernel_pgd, 0, PAGE_SIZE);

	for (int i = 0; i < dt->nmem; i++)
		map_range(dt->mem[i].base, dt->mem[i].base + dt->mem[i].size, PTE_R | PTE_W, false);
	/* Re-map the kernel image with its own permissions. */
	map_range((uintptr_t)__text_start, (uintptr_t)__text_end, PTE_R | PTE_X, false);
	map_range((uintptr_t)__rodata_start, (uintptr_t)__rodata_end, PTE_R, false);

	map_device(dt->uart.present, ALIGN_DOWN(dt->uart.base, PAGE_SIZE), PAGE_SIZE);
	map_device(dt->poweroff.kind != DT_POWEROFF_NONE, ALIGN_DOWN(dt->poweroff.base, PAGE_SIZE),
		   PAGE_SIZE);
	map_device(dt->plic.present, dt->plic.base, dt->plic.size);
	map_device(dt->aclint_sswi.present, dt->aclint_sswi.base, dt->aclint_sswi.size);
	map_device(dt->imsic_s.present, dt->imsic_s.base, dt->imsic_s.size);
	map_device(dt->aplic_s.present, dt->aplic_s.base, dt->aplic_s.size);

	kernel_satp = SATP_SV39 | ((uintptr_t)kernel_pgd >> PAGE_SHIFT);

	/* The boot stack's lowest page is its guard (config.h). */
	*walk((uintptr_t)boot_stack, 0, false) = 0;

	/* The text-patching alias slots: their tables exist from now on, so
	 * that text_alias_map() only writes a leaf PTE (it runs inside
	 * stop_machine, where nothing may allocate or take pt_lock). */
	for (int i = 0; i < TEXT_ALIAS_SLOTS; i++) {
		alias_pte[i] = walk(TEXT_ALIAS_BASE + (uintptr_t)i * PAGE_SIZE, 0, true);
		*alias_pte[i] = 0;
	}
}

/*
 * The writable alias of a text page (kernel/patch.c): slot i of the
 * fixmap-style window at TEXT_ALIAS_BASE is mapped read+write to the
 * physical page of text_page. The kernel map keeps text RX throughout,
 * so W^X holds for every address the text runs from; the alias is an
 * address nothing executes from, alive only while the patcher writes.
 *
 * Context: the only user of the slots at a time, with interrupts off:
 * inside patch_text()'s stop fn (every other hart is parked in the
 * rendezvous) or under patch_text_nosync()'s lock. No pt_lock: nobody
 * edits these leaf PTEs but the holder of the slots, and the tables
 * above them were made at boot and are never freed.
 *
 * Only this hart's TLB is flushed, as Linux's fixmap does: no other hart
 * ever uses the alias addresses, and text_alias_unmap() flushes the
 * entry away on the hart that used it, so no hart keeps a stale
 * translation for the next mapping of the slot.
 */
__nopatch void *text_alias_map(int slot, const void *text_page)
{
	uintptr_t va = TEXT_ALIAS_BASE + (uintptr_t)slot * PAGE_SIZE;
	uintptr_t pa = ALIGN_DOWN((uintptr_t)text_page, PAGE_SIZE); /* VA == PA */
	pte_t *pte = alias_pte[slot];
	*pte = ((pa >> PAGE_SHIFT) << PTE_PPN_SHIFT) | PTE_R | PTE_W | PTE_V | PTE_A | PTE_D |
	       PTE_G;
	/* The PTE store before any access through va (and a stale invalid
	 * entry out of this hart's TLB). */
	local_flush_tlb_page(va);
	return (void *)va;
}

__nopatch void text_alias_unmap(int slot)
{
	uintptr_t va = TEXT_ALIAS_BASE + (uintptr_t)slot * PAGE_SIZE;
	*alias_pte[slot] = 0;
	/* Orders our alias stores before the PTE goes, and drops the
	 * translation, so no later access through va can reach the page. */
	local_flush_tlb_page(va);
}

void paging_enable_this_cpu(void)
{
	local_flush_tlb_all();
	csr_write(satp, kernel_satp);
	local_flush_tlb_all();
}

static void remote_sfence_window(unsigned long bits, unsigned long base, void *va)
{
	sbi_remote_sfence_vma(bits, base, (uintptr_t)va, PAGE_SIZE);
}

static void local_flush_one(void *va)
{
	local_flush_tlb_page((uintptr_t)va);
}

/*
 * Drop va from every online hart's TLB: the table is shared by all. Harts
 * not yet online flush their whole TLB when they turn paging on.
 *
 * With interrupts on, a cross-hart call does it (our own IPI, then each
 * hart flushes locally). OpenSBI's remote fence would do as well, but it
 * waits in M-mode for harts that may sit in wfi, which QEMU's
 * deterministic -icount mode never lets them leave. With interrupts off
 * (a waiting cross-hart call would deadlock) the SBI fence it is.
 */
static void flush_tlb_kernel_page(uintptr_t va)
{
	cpumask_t others;
	if (!irqs_disabled() && !in_irq()) {
		preempt_disable(); /* stay on this hart meanwhile */
		local_flush_tlb_page(va);
		smp_call_function_many(cpu_online_mask, local_flush_one, (void *)va, true);
		preempt_enable();
		return;
	}
	local_flush_tlb_page(va);
	cpumask_copy(&others, cpu_online_mask);
	cpumask_clear_cpu(smp_processor_id(), &others);
	if (!cpumask_empty(&others))
		sbi_for_each_hart_window(&others, remote_sfence_window, (void *)va);
}

void set_kernel_page_present(uintptr_t va, bool present)
{
	unsigned long flags = spin_lock_irqsave(&pt_lock);
	pte_t *pte = walk(va, 0, false);
	BUG_ON(!pte);
	if (present)
		*pte |= PTE_V;
	else
		*pte &= ~PTE_V;
	spin_unlock_irqrestore(&pt_lock, flags);
	flush_tlb_kernel_page(va);
}

bool kernel_page_present(uintptr_t va)
{
	pte_t *pte = walk(va, 0, false);
	return pte && (*pte & PTE_V);
}

void *alloc_kernel_stack(void)
{
	char *base = alloc_pages(THREAD_ORDER);
	if (base)
		set_kernel_page_present((uintptr_t)base, false);
	return base;
}

void free_kernel_stack(void *base)
{
	if (!base)
		return;
	set_kernel_page_present((uintptr_t)base, true);
	free_pages(base, THREAD_ORDER);
}
