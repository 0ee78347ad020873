/*
 * ktime.h - the clock: the `time` CSR, which counts at the DT's
 * timebase-frequency on every hart, and conversions from its ticks.
 * The periodic tick is tick.h.
 */
#ifndef HARTSTOP_KTIME_H
#define HARTSTOP_KTIME_H

#include <stdbool.h>
#include <stdint.h>

extern uint32_t timebase_hz;	       /* set once from the DT */
extern volatile unsigned long jiffies; /* HZ ticks of the time CSR since boot */

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

#endif
