/*
 * console.h - the console: where printk's bytes go, and where the
 * shell's come from.
 *
 * Until the device tree names the UART (uart.h), output goes through
 * SBI's legacy putchar; afterwards straight to the ns16550a. console_lock serialises
 * whole lines from every hart (lock order: console_lock is a leaf, taken
 * with interrupts off; nothing is acquired while holding it).
 */
#ifndef HARTSTOP_CONSOLE_H
#define HARTSTOP_CONSOLE_H

#include <stddef.h>
#include <stdint.h>
#include "kernel.h"

void console_input_init(void); /* boot hart, after the scheduler */
int console_getc(void);	       /* may sleep; a byte, or -ENODEV without input */

void console_write(const char *s, size_t n); /* caller holds console_lock */

/* Raw formatted output under the console lock: no prefix (KTAP lines). */
__printf(1, 2) void console_printf(const char *fmt, ...);

/*
 * Somebody who has a half-typed line on the console (the shell): printk
 * calls hide() before and show() after each line it writes, under the
 * console lock, so other harts' messages never garble what is typed.
 */
struct console_client {
	void (*hide)(void);
	void (*show)(void);
};
void console_set_client(const struct console_client *c);
/* The console lock itself, for a client that edits its line. */
unsigned long console_lock_irqsave(void);
void console_unlock_irqrestore(unsigned long flags);

/* Panic path: take the console whatever state its lock is in. */
void console_force_unlock(void);

#endif
