/*
 * ktest.h - in-kernel tests in the shape of Linux KUnit, printing KTAP.
 *
 * A suite is a named, NULL-terminated array of cases, registered in the
 * .ktest_suites linker section by KTEST_SUITE(). The test image runs
 * them all at boot (or those matching test=GLOB). A case receives its
 * struct ktest; EXPECT_* record a failure with file:line and both values
 * and go on, ASSERT_* also end the case at once.
 *
 * Randomised cases draw from ktest_rand(&t->rng): each case's stream is
 * derived from the boot's seed (seed=N, printed at the start), so a
 * failing run replays with the same seed.
 */
#ifndef HARTSTOP_KTEST_H
#define HARTSTOP_KTEST_H

#include <setjmp.h>
#include <stdint.h>
#include "kernel.h"

struct ktest {
	const char *name;
	int failures;
	bool skipped;
	char skip_reason[96];
	uint64_t rng; /* this case's random stream */
	jmp_buf abort;
};

struct ktest_case {
	const char *name;
	void (*run)(struct ktest *t);
};

struct ktest_suite {
	const char *name;
	const struct ktest_case *cases;
};

#define KTEST_CASE(fn)                                                                             \
	{                                                                                          \
#fn, fn                                                                            \
	}
#define KTEST_SUITE(sname, ...)                                                                    \
	static const struct ktest_case sname##_cases[] = {__VA_ARGS__, {NULL, NULL}};              \
	static const struct ktest_suite sname##_suite = {#sname, sname##_cases};                   \
	static const struct ktest_suite *const sname##_suite_ptr                                   \
		__attribute__((section(".ktest_suites"), used)) = &sname##_suite

/* The .ktest_suites section's bounds (kernel.ld). */
extern const struct ktest_suite *const __ktest_suites_start[], *const __ktest_suites_end[];
int ktest_run_all(void); /* returns the number of failed cases */
/* The suites whose name matches glob (the shell's selftest); failures. */
int ktest_run_glob(const char *glob);
uint64_t ktest_rand(uint64_t *state);
uint64_t ktest_boot_seed(void);
__printf(2, 3) void ktest_log(struct ktest *t, const char *fmt, ...);
__noreturn void ktest_skip(struct ktest *t, const char *reason);
/*
 * Declare that this case makes the kernel warn: `count` warnings (printk
 * level 0..4: WARN(), "BUG: ...", stall reports, pr_warn()) containing
 * `substring` (ktest_expect_warn_at_least(): `count` or more). Every other
 * warning printed while the case runs fails it, and so does a declaration
 * that does not come true: the host runner judges both (test/verdict.py).
 * Declare before the code that warns.
 */
void ktest_expect_warn(struct ktest *t, const char *substring, int count);
void ktest_expect_warn_at_least(struct ktest *t, const char *substring, int count);
void ktest_fail(struct ktest *t, const char *file, int line, bool fatal, const char *fmt, ...)
	__printf(5, 6);

/* sa, sb: the operands as written (stringified by the EXPECT_* and
 * ASSERT_* macros themselves, so that macros inside them stay unexpanded). */
#define __KTEST_CMP(t, fatal, kind, a, op, b, sa, sb)                                              \
	do {                                                                                       \
		long long __a = (long long)(a), __b = (long long)(b);                              \
		if (!(__a op __b))                                                                 \
			ktest_fail(t, __FILE__, __LINE__, fatal,                                   \
				   kind                                                            \
				   "(%s, %s) failed: %s == %lld (0x%llx), %s == %lld (0x%llx)",    \
				   sa, sb, sa, __a, (unsigned long long)__a, sb, __b,              \
				   (unsigned long long)__b);                                       \
	} while (0)

#define EXPECT_EQ(t, a, b) __KTEST_CMP(t, false, "EXPECT_EQ", a, ==, b, #a, #b)
#define EXPECT_NE(t, a, b) __KTEST_CMP(t, false, "EXPECT_NE", a, !=, b, #a, #b)
#define EXPECT_LT(t, a, b) __KTEST_CMP(t, false, "EXPECT_LT", a, <, b, #a, #b)
#define EXPECT_LE(t, a, b) __KTEST_CMP(t, false, "EXPECT_LE", a, <=, b, #a, #b)
#define EXPECT_GT(t, a, b) __KTEST_CMP(t, false, "EXPECT_GT", a, >, b, #a, #b)
#define EXPECT_GE(t, a, b) __KTEST_CMP(t, false, "EXPECT_GE", a, >=, b, #a, #b)
#define ASSERT_EQ(t, a, b) __KTEST_CMP(t, true, "ASSERT_EQ", a, ==, b, #a, #b)
#define ASSERT_NE(t, a, b) __KTEST_CMP(t, true, "ASSERT_NE", a, !=, b, #a, #b)
#define ASSERT_LT(t, a, b) __KTEST_CMP(t, true, "ASSERT_LT", a, <, b, #a, #b)
#define ASSERT_LE(t, a, b) __KTEST_CMP(t, true, "ASSERT_LE", a, <=, b, #a, #b)
#define ASSERT_GT(t, a, b) __KTEST_CMP(t, true, "ASSERT_GT", a, >, b, #a, #b)
#define ASSERT_GE(t, a, b) __KTEST_CMP(t, true, "ASSERT_GE", a, >=, b, #a, #b)

#define __KTEST_BOOL(t, fatal, kind, cond, want, scond)                                            \
	do {                                                                                       \
		if ((bool)(cond) != (want))                                                        \
			ktest_fail(t, __FILE__, __LINE__, fatal, kind "(%s) failed", scond);       \
	} while (0)
#define EXPECT_TRUE(t, c)  __KTEST_BOOL(t, false, "EXPECT_TRUE", c, true, #c)
#define EXPECT_FALSE(t, c) __KTEST_BOOL(t, false, "EXPECT_FALSE", c, false, #c)
#define ASSERT_TRUE(t, c)  __KTEST_BOOL(t, true, "ASSERT_TRUE", c, true, #c)
#define ASSERT_FALSE(t, c) __KTEST_BOOL(t, true, "ASSERT_FALSE", c, false, #c)

#endif
