/*
 * kmalloc.c - small objects carved out of pages, by power-of-two class.
 *
 * Each class (16 .. 2048 bytes) keeps a list of slab pages that still
 * have free objects; a page's free objects are chained through their
 * first word. A page whose objects are all free goes back to the buddy
 * allocator at once, so nr_free_pages() returns to its starting value
 * when everything is freed (the tests rely on it). Larger requests take
 * whole pages (PG_LARGE, order kept in struct page).
 *
 * Lock order: a class lock, then zone_lock (inside alloc/free_pages).
 */
#include <string.h>
#include "kernel.h"
#include "mm.h"
#include "spinlock.h"

#define KMALLOC_MIN_SHIFT 4
#define KMALLOC_MAX_SHIFT 11
#define NR_CLASSES	  (KMALLOC_MAX_SHIFT - KMALLOC_MIN_SHIFT + 1)

struct kmalloc_class {
	spinlock_t lock;
	struct list_head partial; /* slab pages with at least one free object */
	size_t size;
};

static struct kmalloc_class classes[NR_CLASSES];
static size_t bytes_in_use; /* updated atomically */

static struct kmalloc_class *class_of(size_t size, int *idx)
{
	for (int i = 0; i < NR_CLASSES; i++) {
		size_t csize = 1UL << (KMALLOC_MIN_SHIFT + i);
		if (size <= csize) {
			*idx = i;
			return &classes[i];
		}
	}
	return NULL;
}

/* Boot hart, before anything allocates. */
void kmalloc_init(void)
{
	for (int i = 0; i < NR_CLASSES; i++) {
		spin_lock_init_class(&classes[i].lock, LOCK_CLASS_KMALLOC, 0);
		INIT_LIST_HEAD(&classes[i].partial);
		classes[i].size = 1UL << (KMALLOC_MIN_SHIFT + i);
	}
}

/* A fresh slab page with every object on its freelist. Class lock held. */
static struct page *new_slab(struct kmalloc_class *c, int idx)
{
	char *mem = alloc_page();
	if (!mem)
		return NULL;
	struct page *pg = virt_to_page(mem);
	size_t n = PAGE_SIZE / c->size;
	for (size_t i = 0; i < n; i++)
		*(void **)(mem + i * c->size) = i + 1 < n ? mem + (i + 1) * c->size : NULL;
	pg->freelist = mem;
	pg->flags = PG_SLAB;
	pg->slab_class = (uint8_t)idx;
	pg->inuse = 0;
	list_add(&pg->lru, &c->partial);
	return pg;
}

void *kmalloc(size_t size)
{
	int idx;
	if (size == 0)
		return NULL;
	struct kmalloc_class *c = class_of(size, &idx);
	if (!c) {
		int order = 0;
		while ((PAGE_SIZE << order) < size)
			order++;
		void *p = alloc_pages(order);
		if (p) {
			struct page *pg = virt_to_page(p);
			pg->flags = PG_LARGE;
			pg->order = (uint8_t)order;
			__atomic_fetch_add(&bytes_in_use, PAGE_SIZE << order, __ATOMIC_RELAXED);
		}
		return p;
	}

	unsigned long flags = spin_lock_irqsave(&c->lock);
	struct page *pg = list_empty(&c->partial) ? new_slab(c, idx)
						  : list_first_entry(&c->partial, struct page, lru);
	void *obj = NULL;
	if (pg) {
		obj = pg->freelist;
		pg->freelist = *(void **)obj;
		pg->inuse++;
		if (!pg->freelist)
			list_del_init(&pg->lru); /* full: off the partial list */
	}
	spin_unlock_irqrestore(&c->lock, flags);
	if (obj)
		__atomic_fetch_add(&bytes_in_use, c->size, __ATOMIC_RELAXED);
	return obj;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);
	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(const void *ptr)
{
	if (!ptr)
		return;
	struct page *pg = virt_to_page(ptr);
	if (WARN(!pg || !(pg->flags & (PG_SLAB | PG_LARGE)), "kfree(%p): not from kmalloc", ptr))
		return;
	if (pg->flags & PG_LARGE) {
		int order = pg->order;
		__atomic_fetch_sub(&bytes_in_use, PAGE_SIZE << order, __ATOMIC_RELAXED);
		pg->flags = 0;
		free_pages((void *)ptr, order);
		return;
	}

	struct kmalloc_class *c = &classes[pg->slab_class];
	if (WARN(((uintptr_t)ptr & (c->size - 1)) != 0, "kfree(%p): not an object start", ptr))
		return;
	unsigned long flags = spin_lock_irqsave(&c->lock);
	bool was_full = pg->freelist == NULL;
	*(void **)ptr = pg->freelist;
	pg->freelist = (void *)ptr;
	pg->inuse--;
	bool empty = pg->inuse == 0;
	if (empty) {
		if (!was_full)
			list_del_init(&pg->lru);
		pg->flags = 0;
		pg->freelist = NULL;
	} else if (was_full) {
		list_add(&pg->lru, &c->partial);
	}
	spin_unlock_irqrestore(&c->lock, flags);
	__atomic_fetch_sub(&bytes_in_use, c->size, __ATOMIC_RELAXED);
	if (empty)
		free_page((void *)ALIGN_DOWN((uintptr_t)ptr, PAGE_SIZE));
}

size_t kmalloc_bytes_in_use(void)
{
	return __atomic_load_n(&bytes_in_use, __ATOMIC_RELAXED);
}
