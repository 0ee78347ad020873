/*
 * ktime.h - clocks and the per-hart tick.
 *
 * The `time` CSR counts at the DT's timebase-frequency on every hart;
 * ktime_get_ns() converts it. The tick is programmed through Sstc's
 * stimecmp when the DT lists "sstc" for the hart, otherwise SBI TIME.
 */
#ifndef HARTSTOP_KTIME_H
#define HARTSTOP_KTIME_H

#include <stdbool.h>
#include <stdint.h>
#include "percpu.h"

extern uint32_t timebase_hz;	       /* set once from the DT */
extern volatile unsigned long jiffies; /* HZ ticks of the time CSR since boot */
DECLARE_PER_CPU(unsigned long, tick_count);

uint64_t ktime_get_ns(void);
uint64_t ticks_to_ns(uint64_t ticks);
/* For printing: microseconds and milliseconds, as unsigned long. */
static inline unsigned long ticks_to_us(uint64_t ticks)
{
	return (unsigned long)(ticks_to_ns(ticks) / 1000);
}
static inline unsigned long ticks_to_ms(uint64_t ticks)
{
	return (unsigned long)(ticks_to_ns(ticks) / 1000000);
}
uint64_t ns_to_ticks(uint64_t ns);
void udelay(unsigned long us); /* busy wait; any context */

void time_init(uint32_t timebase, bool use_sstc); /* boot hart, once */
void timer_init_this_cpu(void);			  /* every hart, irqs off */
void timer_interrupt(void);
void timer_defer_due_tick(void); /* irqs off: push a due tick a period on */
const char *timer_path(void);

#endif
