/*
 * ipi_hw.h - ringing another hart's doorbell (platform/virt/ipi_hw.c).
 *
 * The hardware half of ipi.h: SBI IPI, ACLINT SSWI or the IMSIC. The
 * reason travels in ipi.c's pending word; this only raises and clears
 * the interrupt.
 */
#ifndef HARTSTOP_IPI_HW_H
#define HARTSTOP_IPI_HW_H

#include <stdbool.h>
#include "cpumask.h"
#include "ipi.h"

void ipi_hw_init(enum ipi_path direct, enum ipi_path path); /* boot hart */
void ipi_hw_init_this_cpu(void);
void ipi_hw_send_mask(const cpumask_t *mask); /* raise the doorbell of each cpu */
/* One doorbell, no reason, no-patch text (kernel/patch.c's writer). */
void ipi_hw_ring_nopatch(int cpu);
int ipi_hw_set_path(enum ipi_path path); /* SBI or the direct path; bench */
enum ipi_path ipi_hw_direct_path(void);
void ipi_hw_clear(void);
/* Interrupts off: was this hart's doorbell rung? Clears it if so. */
bool ipi_hw_take(void);
void ipi_hw_raise_self(void); /* ring this hart's own doorbell again */
/* AIA: enable interrupt identity id in this hart's IMSIC file. */
void imsic_enable_id(unsigned int id);

#endif
