/*
 * tick.h - the per-hart periodic tick (platform/riscv/timer.c).
 *
 * HZ times a second on every hart, programmed through Sstc's stimecmp
 * when the DT lists "sstc" for every hart, otherwise through SBI TIME.
 * Each tick advances jiffies, runs the hart's timers and calls
 * scheduler_tick().
 */
#ifndef HARTSTOP_TICK_H
#define HARTSTOP_TICK_H

#include <stdbool.h>
#include <stdint.h>
#include "percpu.h"

DECLARE_PER_CPU(unsigned long, tick_count);

void time_init(uint32_t timebase, bool use_sstc); /* boot hart, once */
void timer_init_this_cpu(void);			  /* every hart, irqs off */
void timer_interrupt(void);
void timer_defer_due_tick(void); /* irqs off: push a due tick a period on */
const char *timer_path(void);

#endif
