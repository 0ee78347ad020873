/*
 * uart.c - the ns16550a UART of QEMU virt, polled for output.
 *
 * Output polls LSR.THRE (QEMU's UART drains instantly, a real one does
 * not). Input is read by uart_getc(); the interrupt-driven receive path
 * is switched by uart_set_rx_irq().
 */
#include "console.h"
#include "riscv.h"
#include "uart.h"

#define UART_RBR 0 /* receive buffer (read) */
#define UART_THR 0 /* transmit holding (write) */
#define UART_IER 1 /* interrupt enable */
#define UART_FCR 2 /* FIFO control (write) */
#define UART_LCR 3 /* line control */
#define UART_LSR 5 /* line status */
#define LSR_DR	 0x01
#define LSR_THRE 0x20
#define IER_RDI	 0x01

static uintptr_t uart_base;

void uart_init(uintptr_t base)
{
	writeb(0x00, base + UART_IER); /* no interrupts until asked */
	writeb(0x03, base + UART_LCR); /* 8N1; QEMU ignores the divisor */
	writeb(0x07, base + UART_FCR); /* enable and clear the FIFOs */
	uart_base = base;
}

bool uart_present(void)
{
	return uart_base != 0;
}

void uart_putc(char c)
{
	while (!(readb(uart_base + UART_LSR) & LSR_THRE))
		cpu_relax();
	writeb((uint8_t)c, uart_base + UART_THR);
}

int uart_getc(void)
{
	if (!uart_base || !(readb(uart_base + UART_LSR) & LSR_DR))
		return -1;
	return readb(uart_base + UART_RBR);
}

/* The receive interrupt on or off (console input's flow control). */
void uart_set_rx_irq(bool on)
{
	writeb(on ? IER_RDI : 0, uart_base + UART_IER);
}
