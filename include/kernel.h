/*
 * kernel.h - the small vocabulary every file uses: containers, checks,
 * READ_ONCE/WRITE_ONCE, panic() and WARN(); printk (printk.h) comes with it.
 */
#ifndef HARTSTOP_KERNEL_H
#define HARTSTOP_KERNEL_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "printk.h"

#define ARRAY_SIZE(a)			(sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define likely(x)			__builtin_expect(!!(x), 1)
#define unlikely(x)			__builtin_expect(!!(x), 0)
#define ALIGN_UP(x, a)			(((x) + (a)-1) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a)		((x) & ~((__typeof__(x))(a)-1))
#define IS_ALIGNED(x, a)		(((x) & ((__typeof__(x))(a)-1)) == 0)
#define min(a, b)			((a) < (b) ? (a) : (b))
#define max(a, b)			((a) > (b) ? (a) : (b))
#define clamp_val(v, lo, hi)		min(max((v), (lo)), (hi))
#define __noreturn			__attribute__((noreturn))
#define __printf(a, b)			__attribute__((format(printf, a, b)))
#ifndef __aligned /* picolibc's sys/cdefs.h may have it already */
#define __aligned(x) __attribute__((aligned(x)))
#endif
#define _RET_IP_	 ((unsigned long)__builtin_return_address(0))

#define READ_ONCE(x)	 (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* qsort() comparator for an array of uint64_t (medians of timings). */
static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

__noreturn __printf(1, 2) void panic(const char *fmt, ...);
extern volatile int panic_cpu; /* the hart panicking, -1 while none is */
void dump_stack(void);	       /* backtrace of the caller */
/* Called by panic() after the backtrace (at most 4: sched_show, ...). */
void panic_register_notifier(void (*fn)(void));
void __warn(const char *file, int line, unsigned long caller, const char *fmt, ...);

/*
 * hang_panic=S (seconds; 0, the default, is off): a wait that must end
 * and has not after S seconds panics instead of hanging on: a stuck
 * stop_machine state, a spinlock lockup, a test case that runs on. It
 * turns a deadlock into a quick failure with a message and a backtrace
 * (the mutation runs use it). hang_panic_ticks is S in time CSR ticks.
 */
extern uint64_t hang_panic_ticks;
void hang_panic_init(void); /* boot hart, once the timebase is known */

#define BUG() panic("BUG at %s:%d", __FILE__, __LINE__)
#define BUG_ON(cond)                                                                               \
	do {                                                                                       \
		if (unlikely(cond))                                                                \
			panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond);                      \
	} while (0)

/* WARN_ON(cond): print a warning with file:line and the caller, return cond. */
#define WARN_ON(cond)                                                                              \
	({                                                                                         \
		bool __c = !!(cond);                                                               \
		if (unlikely(__c))                                                                 \
			__warn(__FILE__, __LINE__, _RET_IP_, "%s", #cond);                         \
		__c;                                                                               \
	})
#define WARN(cond, ...)                                                                            \
	({                                                                                         \
		bool __c = !!(cond);                                                               \
		if (unlikely(__c))                                                                 \
			__warn(__FILE__, __LINE__, _RET_IP_, __VA_ARGS__);                         \
		__c;                                                                               \
	})
#define WARN_ON_ONCE(cond)                                                                         \
	({                                                                                         \
		static bool __once;                                                                \
		bool __c = !!(cond);                                                               \
		if (unlikely(__c) && !__once) {                                                    \
			__once = true;                                                             \
			__warn(__FILE__, __LINE__, _RET_IP_, "%s", #cond);                         \
		}                                                                                  \
		__c;                                                                               \
	})

#define WARN_ONCE(cond, ...)                                                                       \
	({                                                                                         \
		static bool __once;                                                                \
		bool __c = !!(cond);                                                               \
		if (unlikely(__c) && !__once) {                                                    \
			__once = true;                                                             \
			__warn(__FILE__, __LINE__, _RET_IP_, __VA_ARGS__);                         \
		}                                                                                  \
		__c;                                                                               \
	})

#endif
