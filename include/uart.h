/*
 * uart.h - the ns16550a UART of QEMU virt (platform/virt/uart.c).
 *
 * Polled output; input through its receive interrupt, which the console
 * (console.h) masks while its ring is full (flow control).
 */
#ifndef HARTSTOP_UART_H
#define HARTSTOP_UART_H

#include <stdbool.h>
#include <stdint.h>

void uart_init(uintptr_t base);
void uart_set_rx_irq(bool on);
void uart_putc(char c);
int uart_getc(void); /* -1 when no byte is waiting */
bool uart_present(void);

#endif
