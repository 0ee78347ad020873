/*
 * printk.h - kernel messages: levels as Linux numbers them, printk() and
 * the pr_*() shorthands, and a hook that sees every message (tests).
 *
 * Lines are written whole under the console lock (console.h), prefixed
 * with the time, the cpu and hart and the level. Levels 0-4 are warnings
 * that the test runner holds against the case that printed them.
 */
#ifndef HARTSTOP_PRINTK_H
#define HARTSTOP_PRINTK_H

#include <stdarg.h>
#include <stddef.h>

/* printk levels, as Linux numbers them. */
#define LOGLEVEL_EMERG	 0
#define LOGLEVEL_ERR	 3
#define LOGLEVEL_WARNING 4
#define LOGLEVEL_NOTICE	 5
#define LOGLEVEL_INFO	 6
#define LOGLEVEL_DEBUG	 7

__attribute__((format(printf, 2, 3))) int printk(int level, const char *fmt, ...);
int vprintk(int level, const char *fmt, va_list ap);
#define pr_emerg(...)  printk(LOGLEVEL_EMERG, __VA_ARGS__)
#define pr_err(...)    printk(LOGLEVEL_ERR, __VA_ARGS__)
#define pr_warn(...)   printk(LOGLEVEL_WARNING, __VA_ARGS__)
#define pr_notice(...) printk(LOGLEVEL_NOTICE, __VA_ARGS__)
#define pr_info(...)   printk(LOGLEVEL_INFO, __VA_ARGS__)
#define pr_debug(...)  printk(LOGLEVEL_DEBUG, __VA_ARGS__)

/*
 * A test may watch everything printk emits: the hook runs under the
 * console lock, with interrupts off, once per line. msg is the message
 * alone (no prefix, no newline), NUL-terminated, len bytes long.
 */
typedef void (*printk_hook_t)(const char *msg, size_t len, void *arg);
void printk_set_hook(printk_hook_t fn, void *arg);

#endif
