/*
 * mm_test.c - the page allocator, kmalloc, and the kernel's page
 * permissions: text and rodata are read-only, data is not executable,
 * and running off a stack's end hits its guard page.
 */
#include <string.h>
#include "ktest.h"
#include "mm.h"
#include "riscv.h"
#include "trap.h"
#include "entry.h"

#define STORM_BLOCKS 256

static void mm_page_alloc_storm(struct ktest *t)
{
	static void *blocks[STORM_BLOCKS];
	static int orders[STORM_BLOCKS];
	unsigned long before = nr_free_pages();

	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < STORM_BLOCKS; i++) {
			orders[i] = (int)(ktest_rand(&t->rng) % 5);
			blocks[i] = alloc_pages(orders[i]);
			ASSERT_TRUE(t, blocks[i] != NULL);
			/* Naturally aligned, and really ours: write every page. */
			EXPECT_EQ(t, (uintptr_t)blocks[i] & ((PAGE_SIZE << orders[i]) - 1), 0);
			memset(blocks[i], i & 0xff, PAGE_SIZE << orders[i]);
		}
		for (int i = 0; i < STORM_BLOCKS; i++) { /* shuffle, then free */
			int j = (int)(ktest_rand(&t->rng) % STORM_BLOCKS);
			void *b = blocks[i];
			int o = orders[i];
			blocks[i] = blocks[j], orders[i] = orders[j];
			blocks[j] = b, orders[j] = o;
		}
		for (int i = 0; i < STORM_BLOCKS; i++) {
			const unsigned char *p = blocks[i];
			EXPECT_EQ(t, p[0], p[(PAGE_SIZE << orders[i]) - 1]);
			free_pages(blocks[i], orders[i]);
		}
	}
	EXPECT_EQ(t, nr_free_pages(), before);
	/* Everything merged back: a maximal block is still there. */
	void *big = alloc_pages(MAX_ORDER - 1);
	EXPECT_TRUE(t, big != NULL);
	if (big)
		free_pages(big, MAX_ORDER - 1);
}

static void mm_alloc_failure_is_clean(struct ktest *t)
{
	EXPECT_TRUE(t, alloc_pages(MAX_ORDER) == NULL);
	EXPECT_TRUE(t, alloc_pages(-1) == NULL);
	EXPECT_TRUE(t, kmalloc(0) == NULL);
}

static void mm_kmalloc_storm(struct ktest *t)
{
	static void *objs[512];
	static size_t sizes[512];
	unsigned long pages = nr_free_pages();
	size_t bytes = kmalloc_bytes_in_use();

	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < 512; i++) {
			uint64_t r = ktest_rand(&t->rng);
			sizes[i] = 1 + (r % 8 == 0 ? r % 9000 : r % 600);
			objs[i] = kmalloc(sizes[i]);
			ASSERT_TRUE(t, objs[i] != NULL);
			memset(objs[i], (int)(i & 0xff), sizes[i]);
		}
		for (int i = 0; i < 512; i += 2) /* free half, check the rest */
			kfree(objs[i]);
		for (int i = 1; i < 512; i += 2) {
			const unsigned char *p = objs[i];
			EXPECT_EQ(t, p[0], i & 0xff);
			EXPECT_EQ(t, p[sizes[i] - 1], i & 0xff);
			kfree(objs[i]);
		}
	}
	EXPECT_EQ(t, kmalloc_bytes_in_use(), bytes);
	EXPECT_EQ(t, nr_free_pages(), pages);
}

static void mm_kfree_misuse_warns(struct ktest *t)
{
	int on_stack;
	size_t bytes = kmalloc_bytes_in_use();
	ktest_expect_warn(t, "not from kmalloc", 1);
	ktest_expect_warn(t, "not an object start", 1);
	kfree(&on_stack); /* not from kmalloc: warns, changes nothing */
	char *p = kmalloc(64);
	ASSERT_TRUE(t, p != NULL);
	kfree(p + 8); /* not an object start: warns, changes nothing */
	kfree(p);
	EXPECT_EQ(t, kmalloc_bytes_in_use(), bytes);
}

static void write_text(void *arg)
{
	*(volatile uint32_t *)arg = 0;
}

static void mm_text_is_read_only(struct ktest *t)
{
	struct fault_record rec;
	void *target = __text_start + 64;
	uint32_t before = *(volatile uint32_t *)target;
	ASSERT_TRUE(t, call_catching_fault(write_text, target, &rec));
	EXPECT_EQ(t, rec.cause, EXC_STORE_PAGE_FAULT);
	EXPECT_EQ(t, rec.tval, (uintptr_t)target);
	EXPECT_EQ(t, *(volatile uint32_t *)target, before);
}

static const uint32_t some_rodata[4] = {1, 2, 3, 4};

static void mm_rodata_is_read_only(struct ktest *t)
{
	struct fault_record rec;
	ASSERT_TRUE(t, call_catching_fault(write_text, (void *)&some_rodata[2], &rec));
	EXPECT_EQ(t, rec.cause, EXC_STORE_PAGE_FAULT);
	EXPECT_EQ(t, some_rodata[2], 3);
}

static uint32_t data_insn[4] __aligned(16);

static void jump_to(void *arg)
{
	((void (*)(void))arg)();
}

static void mm_data_is_not_executable(struct ktest *t)
{
	struct fault_record rec;
	data_insn[0] = 0x00008067; /* ret: would return at once if executable */
	ASSERT_TRUE(t, call_catching_fault(jump_to, data_insn, &rec));
	EXPECT_EQ(t, rec.cause, EXC_INST_PAGE_FAULT);
	EXPECT_EQ(t, rec.epc, (uintptr_t)data_insn);
}

static void read_addr(void *arg)
{
	(void)*(volatile unsigned long *)arg;
}

static void mm_unmapped_read_faults(struct ktest *t)
{
	struct fault_record rec;
	ASSERT_TRUE(t, call_catching_fault(read_addr, (void *)0x1000, &rec));
	EXPECT_EQ(t, rec.cause, EXC_LOAD_PAGE_FAULT);
	EXPECT_EQ(t, rec.tval, 0x1000);
}

/* Each frame holds a live array, and the call goes through a volatile
 * pointer, so the compiler can neither fold nor flag the recursion. */
static unsigned long recurse(unsigned long depth);
static unsigned long (*volatile recurse_ptr)(unsigned long) = recurse;

static unsigned long recurse(unsigned long depth)
{
	volatile char frame[256];
	frame[0] = (char)depth;
	frame[255] = (char)depth;
	return recurse_ptr(depth + 1) + frame[0] + frame[255];
}

static void overflow_stack(void *arg)
{
	*(volatile unsigned long *)arg = recurse(0);
}

static void run_on_fresh_stack(void *arg)
{
	void **stack = arg;
	call_on_stack(overflow_stack, stack[1], (uintptr_t)stack[0] + THREAD_SIZE - STACK_TOP_PAD);
}

static void mm_stack_guard_catches_overflow(struct ktest *t)
{
	unsigned long sink;
	unsigned long pages = nr_free_pages();
	void *stack = alloc_kernel_stack();
	ASSERT_TRUE(t, stack != NULL);
	EXPECT_FALSE(t, kernel_page_present((uintptr_t)stack));
	EXPECT_TRUE(t, kernel_page_present((uintptr_t)stack + PAGE_SIZE));

	struct fault_record rec;
	void *args[2] = {stack, &sink};
	EXPECT_TRUE(t, call_catching_fault(run_on_fresh_stack, args, &rec));
	EXPECT_TRUE(t, rec.overflow);
	free_kernel_stack(stack);
	EXPECT_EQ(t, nr_free_pages(), pages);
}

KTEST_SUITE(mm, KTEST_CASE(mm_page_alloc_storm), KTEST_CASE(mm_alloc_failure_is_clean),
	    KTEST_CASE(mm_kmalloc_storm), KTEST_CASE(mm_kfree_misuse_warns),
	    KTEST_CASE(mm_text_is_read_only), KTEST_CASE(mm_rodata_is_read_only),
	    KTEST_CASE(mm_data_is_not_executable), KTEST_CASE(mm_unmapped_read_faults),
	    KTEST_CASE(mm_stack_guard_catches_overflow));
