/*
 * console_input.c - bytes typed on the UART: an interrupt fills a ring,
 * readers sleep until a line is there.
 *
 * The UART's receive interrupt is routed through the PLIC (or the APLIC
 * to the IMSIC on AIA machines) to the boot hart at boot. rx_lock is a
 * leaf taken with interrupts off; readers sleep on rx_wait.
 *
 * Flow control: when the ring is full the interrupt handler stops
 * draining the UART and masks its receive interrupt, so the bytes stay in
 * the UART's FIFO and, behind it, in QEMU's character backend and the
 * host's pty or pipe (their writer blocks): nothing is lost however fast
 * a paste arrives. The reader unmasks the interrupt once it has made
 * room, and the UART raises it again for what it holds.
 */
#include "console.h"
#include "irqchip.h"
#include "kernel.h"
#include "preempt.h"
#include "smp.h"
#include "spinlock.h"
#include "wait.h"
#include "uart.h"

#define RX_RING 512

static char ring[RX_RING];
static unsigned int head, tail; /* head: next write; tail: next read */
static unsigned long rx_bytes, rx_throttles;
static bool rx_throttled; /* the receive interrupt is masked: the ring was full */
static DEFINE_SPINLOCK_CLASS(rx_lock, LOCK_CLASS_RX);
static DECLARE_WAIT_QUEUE_HEAD(rx_wait);
static int rx_cpu = -1;

static void uart_rx_irq(unsigned int irq, void *arg)
{
	int c;
	bool any = false;
	spin_lock(&rx_lock);
	while (head - tail < RX_RING && (c = uart_getc()) >= 0) {
		rx_bytes++;
		ring[head++ % RX_RING] = (char)c;
		any = true;
	}
	if (head - tail == RX_RING && !rx_throttled) {
		/* Full: leave the rest in the UART until the reader catches up. */
		uart_set_rx_irq(false);
		rx_throttled = true;
		rx_throttles++;
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
	uart_set_rx_irq(true);
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
	if (rx_throttled && head - tail <= RX_RING / 2) {
		/* Room for half a ring: let the UART interrupt us again. */
		rx_throttled = false;
		uart_set_rx_irq(true);
	}
	spin_unlock_irqrestore(&rx_lock, flags);
	return c;
}
