/*
 * mm.h - physical pages, kmalloc, kernel stacks and the kernel page table.
 *
 * Lock order: zone_lock and each kmalloc class lock are leaves taken with
 * interrupts off (kmalloc_class lock -> zone_lock is the only nesting).
 * The kernel maps RAM 1:1 (VA == PA), so a page's address is its
 * physical address.
 */
#ifndef HARTSTOP_MM_H
#define HARTSTOP_MM_H

#include <stddef.h>
#include <stdint.h>
#include "devicetree.h"
#include "list.h"

#define MAX_ORDER 11 /* blocks of 2^0 .. 2^10 pages (4 KiB .. 4 MiB) */

struct page {
	struct list_head lru; /* free list (buddy) or kmalloc partial list */
	void *freelist;	      /* kmalloc: first free object in this page */
	uint16_t flags;
	uint8_t order;	    /* buddy: order of the free block it heads */
	uint8_t slab_class; /* kmalloc: size class index */
	uint16_t inuse;	    /* kmalloc: objects handed out */
};
#define PG_BUDDY    0x1 /* heads a free block on a free list */
#define PG_RESERVED 0x2 /* not RAM we manage (kernel, DTB, firmware, holes) */
#define PG_SLAB	    0x4 /* a kmalloc slab page */
#define PG_LARGE    0x8 /* a kmalloc allocation of 2^order pages */

void page_alloc_init(const struct dt_info *dt, uintptr_t dtb, size_t dtb_size);
void *alloc_pages(int order); /* naturally aligned 2^order pages, or NULL */
void free_pages(void *addr, int order);
static inline void *alloc_page(void)
{
	return alloc_pages(0);
}
static inline void free_page(void *addr)
{
	free_pages(addr, 0);
}
unsigned long nr_free_pages(void);
unsigned long nr_managed_pages(void);
struct page *virt_to_page(const void *addr);

void kmalloc_init(void);
void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(const void *p);
size_t kmalloc_bytes_in_use(void);

/* Kernel stacks: THREAD_SIZE blocks with an unmapped guard page (config.h). */
void *alloc_kernel_stack(void); /* returns the block base; sp starts at base +
				   THREAD_SIZE - STACK_TOP_PAD */
void free_kernel_stack(void *base);

void paging_init(const struct dt_info *dt);
void paging_enable_this_cpu(void);
void set_kernel_page_present(uintptr_t va, bool present);
bool kernel_page_present(uintptr_t va);

/* Writable aliases of text pages for kernel/patch.c (kernel/vm.c): a
 * window of TEXT_ALIAS_SLOTS pages in the top GiB of Sv39, away from RAM
 * and devices. */
#define TEXT_ALIAS_BASE	 0xffffffffc0000000UL
#define TEXT_ALIAS_SLOTS 2 /* a site may straddle two pages */
void *text_alias_map(int slot, const void *text_page);
void text_alias_unmap(int slot);

extern char __kernel_start[], __kernel_end[], __text_start[], __text_end[];
extern char __rodata_start[], __rodata_end[], __data_start[], __bss_start[], __bss_end[];

#endif
