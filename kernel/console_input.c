/*
 * console_input.c - bytes typed on the UART: an interrupt fills a ring,
 * readers sleep until a line is there.
 *
 * The UART's receive interrupt is routed through the PLIC (or the APLIC
 * to the IMSIC on AIA machines) to the boot hart at boot. rx_lock is a
 * leaf taken with interrupts off; readers sleep on rx_wait.
 */
#include "console.h"
#include "irqchip.h"
#include "kernel.h"
#include "preempt.h"
#include "smp.h"
#include "spinlock.h"
#include "wait.h"

#define RX_RING 512

static char ring[RX_RING];
static unsigned int head, tail; /* head: next write; tail: next read */
static unsigned long rx_bytes, rx_dropped;
static DEFINE_SPINLOCK_CLASS(rx_lock, LOCK_CLASS_RX);
static DECLARE_WAIT_QUEUE_HEAD(rx_wait);
static int rx_cpu = -1;

static void uart_rx_irq(unsigned int irq, void *arg)
{
	int c;
	bool any = false;
	spin_lock(&rx_lock);
	while ((c = uart_getc()) >= 0) {
		rx_bytes++;
		if (head - tail < RX_RING) {
			ring[head++ % RX_RING] = (char)c;
			any = true;
		} else {
			rx_dropped++; /* a reader that does not keep up loses input, not the kernel
				       */
		}
	}
	spin_unlock(&rx_lock);
	if (any)
		wake_up(&rx_wait);
}

void console_input_init(void)
{
	if (!dt.uart.present || !dt.uart.irq) {
		pr_info("console: no UART interrupt in the DT; no console input");
		return;
	}
	int cpu = smp_processor_id();
	int rc = request_irq(dt.uart.irq, cpu, uart_rx_irq, NULL);
	if (rc) {
		pr_warn("console: cannot route UART irq %u: %d; no console input", dt.uart.irq, rc);
		return;
	}
	rx_cpu = cpu;
	uart_enable_rx_irq();
	pr_info("console: UART receive interrupt %u (%s) taken by cpu%d", dt.uart.irq,
		irqchip_name(), cpu);
}

static bool have_byte(void)
{
	return READ_ONCE(head) != READ_ONCE(tail);
}

int console_getc(void)
{
	might_sleep();
	if (rx_cpu < 0)
		return -ENODEV;
	wait_event(rx_wait, have_byte());
	unsigned long flags = spin_lock_irqsave(&rx_lock);
	int c = (unsigned char)ring[tail++ % RX_RING];
	spin_unlock_irqrestore(&rx_lock, flags);
	return c;
}
