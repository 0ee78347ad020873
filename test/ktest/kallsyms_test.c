/*
 * kallsyms_test.c - the kernel's symbol table agrees with the linker: a
 * function's name gives its address (what the compiler took for &fn),
 * an address inside it gives the name back with the right offset and
 * size, addresses outside text give nothing, "SYMBOL+OFF" parses with
 * exact error codes, and every entry of the table round-trips.
 */
#include <stdio.h>
#include <string.h>
#include "kallsyms.h"
#include "ktest.h"
#include "mm.h"
#include "sched.h"
#include "stop_machine.h"

/* A function of this file with a name GCC keeps (no clone suffix): it is
 * called through a volatile pointer, so it is neither inlined nor
 * specialised. */
static __attribute__((noinline)) int kallsyms_test_target(int x)
{
	return x * 3 + 1;
}
static int (*volatile target_ptr)(int) = kallsyms_test_target;

static const unsigned long not_text = 42; /* in .rodata */

/* Is @name exactly @want? Logs both when not. */
static bool same_name(struct ktest *t, const char *name, const char *want)
{
	if (name && strcmp(name, want) == 0)
		return true;
	ktest_log(t, "got %s, want %s", name ? name : "(null)", want);
	return false;
}

static void kallsyms_table_is_sorted_and_in_text(struct ktest *t)
{
	unsigned int n = kallsyms_count();
	/* The empty table of the first link pass would give 0. */
	ASSERT_GT(t, n, 100);
	unsigned long prev = 0;
	for (unsigned int i = 0; i < n; i++) {
		unsigned long addr, size;
		const char *name = kallsyms_symbol(i, &addr, &size);
		ASSERT_TRUE(t, name && *name);
		EXPECT_GE(t, addr, prev);
		EXPECT_GE(t, addr, (unsigned long)__text_start);
		EXPECT_GT(t, size, 0);
		EXPECT_LE(t, addr + size, (unsigned long)__text_end);
		prev = addr;
	}
	EXPECT_TRUE(t, kallsyms_symbol(n, NULL, NULL) == NULL);
}

static void kallsyms_lookup_name_gives_function_addresses(struct ktest *t)
{
	EXPECT_EQ(t, kallsyms_lookup_name("schedule"), (unsigned long)schedule);
	EXPECT_EQ(t, kallsyms_lookup_name("panic"), (unsigned long)panic);
	EXPECT_EQ(t, kallsyms_lookup_name("stop_machine"), (unsigned long)stop_machine);
	EXPECT_EQ(t, kallsyms_lookup_name("kallsyms_lookup"), (unsigned long)kallsyms_lookup);
	EXPECT_EQ(t, kallsyms_lookup_name("memcpy"), (unsigned long)memcpy); /* picolibc */
	EXPECT_EQ(t, kallsyms_lookup_name("kallsyms_test_target"),
		  (unsigned long)target_ptr); /* a local (static) symbol */
	EXPECT_EQ(t, target_ptr(2), 7);
	EXPECT_EQ(t, kallsyms_lookup_name("no_such_function_anywhere"), 0);
	EXPECT_EQ(t, kallsyms_lookup_name(""), 0);
	EXPECT_EQ(t, kallsyms_lookup_name("sched"), 0);	    /* a prefix is not a name */
	EXPECT_EQ(t, kallsyms_lookup_name("schedulex"), 0); /* nor a longer one */
	EXPECT_EQ(t, kallsyms_lookup_name("not_text"), 0);  /* data is not in the table */
}

static void kallsyms_lookup_inside_a_function(struct ktest *t)
{
	unsigned long fn = (unsigned long)schedule, size = 0, off = 99;
	const char *name = kallsyms_lookup(fn, &size, &off);
	EXPECT_TRUE(t, same_name(t, name, "schedule"));
	EXPECT_EQ(t, off, 0);
	ASSERT_GT(t, size, 8);

	name = kallsyms_lookup(fn + 6, &size, &off);
	EXPECT_TRUE(t, same_name(t, name, "schedule"));
	EXPECT_EQ(t, off, 6);
	unsigned long last = size - 1;
	name = kallsyms_lookup(fn + last, NULL, &off);
	EXPECT_TRUE(t, same_name(t, name, "schedule"));
	EXPECT_EQ(t, off, last);
	/* One past the end is no longer schedule (the next symbol, or none). */
	name = kallsyms_lookup(fn + size, NULL, NULL);
	EXPECT_TRUE(t, !name || strcmp(name, "schedule") != 0);
	/* Both out-pointers may be NULL. */
	EXPECT_TRUE(t, same_name(t, kallsyms_lookup(fn + 2, NULL, NULL), "schedule"));

	/* The table's size is the ELF's: the next function starts at or after it. */
	unsigned long next_size, next_off;
	const char *next = kallsyms_lookup(fn - 1, &next_size, &next_off);
	if (next)
		EXPECT_EQ(t, next_off,
			  next_size - 1); /* schedule's neighbour ends where it starts */
}

static void kallsyms_lookup_outside_text_is_null(struct ktest *t)
{
	unsigned long size = 123, off = 456;
	int on_stack = 0;
	EXPECT_TRUE(t, kallsyms_lookup(0, &size, &off) == NULL);
	EXPECT_TRUE(t, kallsyms_lookup((unsigned long)__text_start - 1, &size, &off) == NULL);
	EXPECT_TRUE(t, kallsyms_lookup((unsigned long)__text_end, &size, &off) == NULL);
	EXPECT_TRUE(t, kallsyms_lookup((unsigned long)&not_text, &size, &off) == NULL);
	EXPECT_TRUE(t, kallsyms_lookup((unsigned long)&on_stack, &size, &off) == NULL);
	EXPECT_TRUE(t, kallsyms_lookup(~0UL, &size, &off) == NULL);
	/* Left alone when there is no symbol. */
	EXPECT_EQ(t, size, 123);
	EXPECT_EQ(t, off, 456);
}

static void kallsyms_sprint_formats(struct ktest *t)
{
	char buf[96], want[96];
	unsigned long size;
	ASSERT_TRUE(t, kallsyms_lookup((unsigned long)schedule, &size, NULL) != NULL);
	int n = kallsyms_sprint(buf, sizeof(buf), (unsigned long)schedule + 0x10);
	snprintf(want, sizeof(want), "schedule+0x10/0x%lx", size);
	EXPECT_TRUE(t, same_name(t, buf, want));
	EXPECT_EQ(t, n, (long)strlen(want));

	n = kallsyms_sprint(buf, sizeof(buf), 0x1234);
	EXPECT_TRUE(t, same_name(t, buf, "0x1234"));
	EXPECT_EQ(t, n, 6);

	/* Truncated, still terminated; the return says what it needed. */
	n = kallsyms_sprint(buf, 5, (unsigned long)schedule);
	EXPECT_TRUE(t, same_name(t, buf, "sche"));
	EXPECT_GT(t, n, 4);
}

static void kallsyms_parse_exact_codes(struct ktest *t)
{
	unsigned long fn = (unsigned long)schedule, addr, size;
	ASSERT_TRUE(t, kallsyms_lookup(fn, &size, NULL) != NULL);
	char spec[64];

	addr = 0;
	EXPECT_EQ(t, kallsyms_parse("schedule", &addr), 0);
	EXPECT_EQ(t, addr, fn);
	addr = 0;
	EXPECT_EQ(t, kallsyms_parse("schedule+0x10", &addr), 0);
	EXPECT_EQ(t, addr, fn + 0x10);
	addr = 0;
	EXPECT_EQ(t, kallsyms_parse("schedule+16", &addr), 0);
	EXPECT_EQ(t, addr, fn + 16);
	addr = 0;
	EXPECT_EQ(t, kallsyms_parse("schedule+010", &addr), 0); /* decimal, not octal */
	EXPECT_EQ(t, addr, fn + 10);
	addr = 0;
	EXPECT_EQ(t, kallsyms_parse("schedule+0X1a", &addr), 0);
	EXPECT_EQ(t, addr, fn + 0x1a);
	addr = 0;
	EXPECT_EQ(t, kallsyms_parse("kallsyms_test_target+2", &addr), 0);
	EXPECT_EQ(t, addr, (unsigned long)target_ptr + 2);

	/* The last byte is in the symbol; its size is the next symbol's. */
	snprintf(spec, sizeof(spec), "schedule+0x%lx", size - 1);
	EXPECT_EQ(t, kallsyms_parse(spec, &addr), 0);
	EXPECT_EQ(t, addr, fn + size - 1);
	addr = 7;
	snprintf(spec, sizeof(spec), "schedule+0x%lx", size);
	EXPECT_EQ(t, kallsyms_parse(spec, &addr), -EINVAL);
	snprintf(spec, sizeof(spec), "schedule+%lu", size + 1000);
	EXPECT_EQ(t, kallsyms_parse(spec, &addr), -EINVAL);
	EXPECT_EQ(t, kallsyms_parse("schedule+99999999999999999999999", &addr), -EINVAL);

	/* Bad syntax. */
	static const char *const bad[] = {
		"",
		"+4",
		"schedule+",
		"schedule+0x",
		"schedule+0xg",
		"schedule+-1",
		"schedule+ 1",
		"schedule+4x",
		"schedule-4",
		"sched ule",
		" schedule",
		"schedule ",
		"schedule+1+2",
		"schedule+0x10/0x20",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		int rc = kallsyms_parse(bad[i], &addr);
		if (rc != -EINVAL)
			ktest_log(t, "\"%s\": %d", bad[i], rc);
		EXPECT_EQ(t, rc, -EINVAL);
	}
	EXPECT_EQ(t, kallsyms_parse(NULL, &addr), -EINVAL);

	/* Unknown names. */
	EXPECT_EQ(t, kallsyms_parse("no_such_function_anywhere", &addr), -ENOENT);
	EXPECT_EQ(t, kallsyms_parse("no_such_function_anywhere+4", &addr), -ENOENT);
	EXPECT_EQ(t, kallsyms_parse("not_text", &addr), -ENOENT);
	EXPECT_EQ(t, addr, 7); /* untouched by every error */
}

/*
 * Every entry: its address resolves to a symbol starting there (itself
 * or a better alias at the same address), and its name resolves to an
 * address that carries that name (two statics may share a name, and
 * lookup_name picks one of them).
 */
static void kallsyms_every_symbol_round_trips(struct ktest *t)
{
	unsigned int n = kallsyms_count(), bad = 0;
	for (unsigned int i = 0; i < n; i++) {
		unsigned long addr, size, off = 1, got_size;
		const char *name = kallsyms_symbol(i, &addr, &size);
		const char *back = kallsyms_lookup(addr, &got_size, &off);
		bool ok = back && off == 0;
		if (ok && strcmp(back, name) == 0)
			ok = got_size == size;
		unsigned long by_name = kallsyms_lookup_name(name);
		bool named = false;
		for (unsigned int j = 0; ok && !named && j < n; j++) {
			unsigned long a;
			const char *s = kallsyms_symbol(j, &a, NULL);
			named = a == by_name && strcmp(s, name) == 0;
		}
		if (!ok || !named) {
			if (bad++ < 5)
				ktest_log(t,
					  "%s at 0x%lx: lookup gives %s+0x%lx, lookup_name 0x%lx",
					  name, addr, back ? back : "(null)", off, by_name);
		}
	}
	EXPECT_EQ(t, bad, 0);
}

KTEST_SUITE(kallsyms, KTEST_CASE(kallsyms_table_is_sorted_and_in_text),
	    KTEST_CASE(kallsyms_lookup_name_gives_function_addresses),
	    KTEST_CASE(kallsyms_lookup_inside_a_function),
	    KTEST_CASE(kallsyms_lookup_outside_text_is_null), KTEST_CASE(kallsyms_sprint_formats),
	    KTEST_CASE(kallsyms_parse_exact_codes), KTEST_CASE(kallsyms_every_symbol_round_trips));
