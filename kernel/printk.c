/*
 * printk.c - leveled, timestamped kernel messages from any context.
 *
 * A message is formatted on the caller's stack first, then written under
 * console_lock with interrupts off, so lines from different harts never
 * interleave. In a panic the panicking hart may take the console from a
 * holder that will never release it (console_force_unlock).
 */
#include <stdio.h>
#include <string.h>
#include "console.h"
#include "percpu.h"
#include "sbi.h"
#include "smp.h"
#include "spinlock.h"
#include "ktime.h"
#include "uart.h"

/* A leaf, taken with interrupts off: nothing is locked under it. */
static DEFINE_SPINLOCK_CLASS(console_lock, LOCK_CLASS_CONSOLE);
#define CONSOLE_NESTED (1UL << 63) /* flag beside the saved SIE bit */
static printk_hook_t printk_hook;
static void *printk_hook_arg;
int console_loglevel = LOGLEVEL_DEBUG;

void console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (uart_present()) {
			if (s[i] == '\n')
				uart_putc('\r');
			uart_putc(s[i]);
		} else {
			sbi_console_putchar(s[i]);
		}
	}
}

void printk_set_hook(printk_hook_t fn, void *arg)
{
	unsigned long flags = spin_lock_irqsave(&console_lock);
	printk_hook = fn;
	printk_hook_arg = arg;
	spin_unlock_irqrestore(&console_lock, flags);
}

void console_force_unlock(void)
{
	spin_lock_init_class(&console_lock, LOCK_CLASS_CONSOLE, 0);
}

/* The interactive shell's line, redrawn around printk output (shell.c). */
static const struct console_client *client;

void console_set_client(const struct console_client *c)
{
	unsigned long flags = console_lock_irqsave();
	client = c;
	console_unlock_irqrestore(flags);
}

unsigned long console_lock_irqsave(void)
{
	unsigned long flags = local_irq_save();
	/* A hart that re-enters printk from a trap while it already holds
	 * the lock (a fault inside the console path) must not self-deadlock:
	 * its line goes out unlocked. */
	if (spin_held_by_me(&console_lock))
		return flags | CONSOLE_NESTED;
	spin_lock(&console_lock);
	return flags;
}

void console_unlock_irqrestore(unsigned long flags)
{
	if (!(flags & CONSOLE_NESTED))
		spin_unlock(&console_lock);
	local_irq_restore(flags & ~CONSOLE_NESTED);
}

int vprintk(int level, const char *fmt, va_list ap)
{
	char buf[320];
	uint64_t ns = ktime_get_ns();
	/* The hart in the prefix is where the message was made; a caller
	 * that may migrate gets the hart it was on a moment ago (raw). */
	int cpu = raw_smp_processor_id();
	int pre =
		snprintf(buf, sizeof(buf), "[%5lu.%06lu] cpu%d/h%lu <%d> ",
			 (unsigned long)(ns / 1000000000u),
			 (unsigned long)(ns % 1000000000u / 1000u), cpu, cpu_to_hartid(cpu), level);
	int len = vsnprintf(buf + pre, sizeof(buf) - (size_t)pre - 1, fmt, ap);
	size_t total = (size_t)pre + min((size_t)len, sizeof(buf) - (size_t)pre - 2);

	while (total > (size_t)pre && buf[total - 1] == '\n')
		total--;
	buf[total++] = '\n';
	buf[total] = '\0'; /* total <= sizeof(buf) - 1: the hook gets a C string */

	unsigned long flags = console_lock_irqsave();
	if (printk_hook) { /* the message alone: no prefix, no newline */
		buf[total - 1] = '\0';
		printk_hook(buf + pre, total - (size_t)pre - 1, printk_hook_arg);
		buf[total - 1] = '\n';
	}
	if (level <= console_loglevel) {
		if (client)
			client->hide(); /* a half-typed line must not be garbled */
		console_write(buf, total);
		if (client)
			client->show();
	}
	console_unlock_irqrestore(flags);
	return (int)total;
}

int printk(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintk(level, fmt, ap);
	va_end(ap);
	return n;
}

void console_printf(const char *fmt, ...)
{
	char buf[320];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Cut short: keep the line's end, or the next line joins it. */
	size_t flen = strlen(fmt);
	if (len >= (int)sizeof(buf) && flen && fmt[flen - 1] == '\n')
		buf[sizeof(buf) - 2] = '\n';
	unsigned long flags = console_lock_irqsave();
	console_write(buf, min((size_t)len, sizeof(buf) - 1));
	console_unlock_irqrestore(flags);
}
