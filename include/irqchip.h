/*
 * irqchip.h - external interrupts: the PLIC, or the APLIC + IMSIC (AIA).
 *
 * irqchip_handle() runs in trap context for scause 9 (S external) and
 * dispatches each claimed source to the handler registered for it. On
 * AIA machines the IMSIC also carries direct IPIs, which it hands to
 * ipi_interrupt().
 */
#ifndef HARTSTOP_IRQCHIP_H
#define HARTSTOP_IRQCHIP_H

typedef void (*irq_handler_t)(unsigned int irq, void *arg);

void irqchip_init(void);	  /* boot hart */
void irqchip_init_this_cpu(void); /* every hart, before interrupts go on */
void irqchip_handle(void);
/* Route device interrupt @irq to logical cpu @cpu and call @fn for it. */
int request_irq(unsigned int irq, int cpu, irq_handler_t fn, void *arg);
const char *irqchip_name(void);

#endif
