/*
 * page_alloc.c - a buddy allocator over the RAM the device tree lists.
 *
 * Free blocks of 2^order pages are naturally aligned in physical
 * address, so a block's buddy is found by flipping one bit of its page
 * frame number. The struct page array (mem_map) covers every frame from
 * the lowest to the highest RAM address; frames that are not free RAM
 * (the kernel, the DTB, firmware regions, holes) stay PG_RESERVED and
 * are never merged with.
 *
 * zone_lock (leaf, interrupts off) protects the free lists and the
 * PG_BUDDY/order fields of free blocks.
 */
#include <string.h>
#include "kernel.h"
#include "mm.h"
#include "spinlock.h"

static struct list_head free_area[MAX_ORDER];
static unsigned long nr_free[MAX_ORDER];
static struct page *mem_map;
static unsigned long pfn_base, pfn_end;
static unsigned long managed_pages;
static DEFINE_SPINLOCK_CLASS(zone_lock, LOCK_CLASS_ZONE);

static inline unsigned long page_to_pfn(const struct page *p)
{
	return pfn_base + (unsigned long)(p - mem_map);
}

static inline void *pfn_to_virt(unsigned long pfn)
{
	return (void *)(pfn << PAGE_SHIFT);
}

struct page *virt_to_page(const void *addr)
{
	unsigned long pfn = (uintptr_t)addr >> PAGE_SHIFT;
	if (pfn < pfn_base || pfn >= pfn_end)
		return NULL;
	return &mem_map[pfn - pfn_base];
}

/* Caller holds zone_lock. */
static void add_free_block(unsigned long pfn, int order)
{
	struct page *p = &mem_map[pfn - pfn_base];
	p->flags = PG_BUDDY;
	p->order = (uint8_t)order;
	list_add(&p->lru, &free_area[order]);
	nr_free[order]++;
}

static void del_free_block(struct page *p, int order)
{
	list_del_init(&p->lru);
	p->flags = 0;
	nr_free[order]--;
}

/* Free 2^order pages at pfn, merging with free buddies. zone_lock held. */
static void __free_pages(unsigned long pfn, int order)
{
	while (order < MAX_ORDER - 1) {
		unsigned long buddy = pfn ^ (1UL << order);
		if (buddy < pfn_base || buddy + (1UL << order) > pfn_end)
			break;
		struct page *b = &mem_map[buddy - pfn_base];
		if (!(b->flags & PG_BUDDY) || b->order != order)
			break;
		del_free_block(b, order);
		pfn &= ~(1UL << order);
		order++;
	}
	add_free_block(pfn, order);
}

void *alloc_pages(int order)
{
	if (order < 0 || order >= MAX_ORDER)
		return NULL;
	unsigned long flags = spin_lock_irqsave(&zone_lock);
	int o = order;
	while (o < MAX_ORDER && list_empty(&free_area[o]))
		o++;
	if (o == MAX_ORDER) {
		spin_unlock_irqrestore(&zone_lock, flags);
		return NULL;
	}
	struct page *p = list_first_entry(&free_area[o], struct page, lru);
	del_free_block(p, o);
	unsigned long pfn = page_to_pfn(p);
	/* Split: hand the upper halves back until the block fits. */
	while (o > order) {
		o--;
		add_free_block(pfn + (1UL << o), o);
	}
	spin_unlock_irqrestore(&zone_lock, flags);
	return pfn_to_virt(pfn);
}

void free_pages(void *addr, int order)
{
	unsigned long pfn = (uintptr_t)addr >> PAGE_SHIFT;
	struct page *p = virt_to_page(addr);

	if (WARN(!p || ((uintptr_t)addr & ((PAGE_SIZE << order) - 1)) || order < 0 ||
			 order >= MAX_ORDER || (p->flags & (PG_RESERVED | PG_BUDDY)),
		 "free_pages(%p, %d): not an allocated block", addr, order))
		return;
	unsigned long flags = spin_lock_irqsave(&zone_lock);
	__free_pages(pfn, order);
	spin_unlock_irqrestore(&zone_lock, flags);
}

unsigned long nr_free_pages(void)
{
	unsigned long n = 0;
	unsigned long flags = spin_lock_irqsave(&zone_lock);
	for (int o = 0; o < MAX_ORDER; o++)
		n += nr_free[o] << o;
	spin_unlock_irqrestore(&zone_lock, flags);
	return n;
}

unsigned long nr_managed_pages(void)
{
	return managed_pages;
}

/* ---- boot-time setup ---- */

struct range {
	uint64_t start, end; /* [start, end), page aligned */
};

static int nr_holes;
static struct range holes[DT_MAX_RESV + 4];

static void add_hole(uint64_t base, uint64_t size)
{
	if (nr_holes < (int)ARRAY_SIZE(holes) && size)
		holes[nr_holes++] = (struct range){ALIGN_DOWN(base, PAGE_SIZE),
						   ALIGN_UP(base + size, PAGE_SIZE)};
}

static bool in_hole(uint64_t addr)
{
	for (int i = 0; i < nr_holes; i++)
		if (addr >= holes[i].start && addr < holes[i].end)
			return true;
	return false;
}

/* Hand a run of free frames to the buddy lists in maximal aligned blocks. */
static void free_range(unsigned long pfn, unsigned long end)
{
	while (pfn < end) {
		int order = MAX_ORDER - 1;
		while (order > 0 && ((pfn & ((1UL << order) - 1)) || pfn + (1UL << order) > end))
			order--;
		__free_pages(pfn, order);
		managed_pages += 1UL << order;
		pfn += 1UL << order;
	}
}

void page_alloc_init(const struct dt_info *dt, uintptr_t dtb, size_t dtb_size)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (int o = 0; o < MAX_ORDER; o++)
		INIT_LIST_HEAD(&free_area[o]);
	for (int i = 0; i < dt->nmem; i++) {
		lo = min(lo, ALIGN_UP(dt->mem[i].base, PAGE_SIZE));
		hi = max(hi, ALIGN_DOWN(dt->mem[i].base + dt->mem[i].size, PAGE_SIZE));
	}
	if (lo >= hi)
		panic("mm: the device tree lists no usable memory");
	pfn_base = lo >> PAGE_SHIFT;
	pfn_end = hi >> PAGE_SHIFT;

	add_hole((uintptr_t)__kernel_start, (uintptr_t)__kernel_end - (uintptr_t)__kernel_start);
	add_hole(dtb, dtb_size);
	for (int i = 0; i < dt->nresv; i++)
		add_hole(dt->resv[i].base, dt->resv[i].size);

	/* mem_map goes in the first free run above the kernel that fits it. */
	size_t map_bytes = ALIGN_UP((pfn_end - pfn_base) * sizeof(struct page), PAGE_SIZE);
	uint64_t at = ALIGN_UP((uintptr_t)__kernel_end, PAGE_SIZE);
	for (;;) {
		bool clear = at + map_bytes <= hi;
		for (uint64_t a = at; clear && a < at + map_bytes; a += PAGE_SIZE)
			if (in_hole(a)) {
				clear = false;
				at = a + PAGE_SIZE;
			}
		if (clear)
			break;
		if (at + map_bytes > hi)
			panic("mm: no room for mem_map (%zu bytes)", map_bytes);
	}
	mem_map = (struct page *)at;
	memset(mem_map, 0, map_bytes);
	add_hole(at, map_bytes);

	for (unsigned long pfn = pfn_base; pfn < pfn_end; pfn++) {
		mem_map[pfn - pfn_base].flags = PG_RESERVED;
		INIT_LIST_HEAD(&mem_map[pfn - pfn_base].lru);
	}
	for (int i = 0; i < dt->nmem; i++) {
		uint64_t s = ALIGN_UP(dt->mem[i].base, PAGE_SIZE);
		uint64_t e = ALIGN_DOWN(dt->mem[i].base + dt->mem[i].size, PAGE_SIZE);
		unsigned long run = 0;
		for (uint64_t a = s; a <= e; a += PAGE_SIZE) {
			bool usable = a < e && !in_hole(a);
			if (usable) {
				mem_map[(a >> PAGE_SHIFT) - pfn_base].flags = 0;
				if (!run)
					run = a >> PAGE_SHIFT;
			} else if (run) {
				free_range(run, a >> PAGE_SHIFT);
				run = 0;
			}
		}
	}
	pr_info("mm: %lu KiB managed in %lu pages, mem_map %zu KiB at 0x%lx",
		managed_pages * (PAGE_SIZE / 1024), managed_pages, map_bytes / 1024,
		(unsigned long)at);
}
