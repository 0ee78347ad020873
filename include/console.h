/*
 * console.h - where printk's bytes go.
 *
 * Until the device tree names the UART, output goes through SBI's legacy
 * putchar; afterwards straight to the ns16550a. console_lock serialises
 * whole lines from every hart (lock order: console_lock is a leaf, taken
 * with interrupts off; nothing is acquired while holding it).
 */
#ifndef HARTSTOP_CONSOLE_H
#define HARTSTOP_CONSOLE_H

#include <stddef.h>
#include <stdint.h>
#include "kernel.h"

void uart_init(uintptr_t base);
void uart_enable_rx_irq(void);
void console_input_init(void);		   /* boot hart, after the scheduler */
int console_read_line(char *buf, int len); /* may sleep; the line without its end */
void uart_putc(char c);
int uart_getc(void); /* -1 when no byte is waiting */
bool uart_present(void);

void console_write(const char *s, size_t n); /* caller holds console_lock */

/* Raw formatted output under the console lock: no prefix (KTAP lines). */
__printf(1, 2) void console_printf(const char *fmt, ...);

/*
 * A test may watch everything printk emits: the hook runs under the
 * console lock, with interrupts off, once per line (without prefix).
 */
typedef void (*printk_hook_t)(const char *msg, size_t len, void *arg);
void printk_set_hook(printk_hook_t fn, void *arg);

/* Panic path: take the console whatever state its lock is in. */
void console_force_unlock(void);

#endif
