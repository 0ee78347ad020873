/*
 * tick.h - the per-hart periodic tick (platform/riscv/timer.c).
 *
 * HZ times a second on every hart, programmed through Sstc's stimecmp
 * when the DT lists "sstc" for every hart, otherwise through SBI TIME.
 * Each tick advances jiffies, runs the hart's timers and calls
 * scheduler_tick(). An idle hart stops its tick (tickless idle) until its
 * next timer, and keeps it off after idle while it runs one task alone;
 * nohz=off keeps every hart ticking.
 */
#ifndef HARTSTOP_TICK_H
#define HARTSTOP_TICK_H

#include <stdbool.h>
#include <stdint.h>
#include "cpumask.h"
#include "percpu.h"

DECLARE_PER_CPU(unsigned long, tick_count);
DECLARE_PER_CPU(bool, tick_stopped);
DECLARE_PER_CPU(unsigned long, tick_stops);
extern cpumask_t nohz_idle_mask; /* idle harts whose tick is stopped */

void time_init(uint32_t timebase, bool use_sstc); /* boot hart, once */
void timer_init_this_cpu(void);			  /* every hart, irqs off */
void timer_interrupt(void);
void timer_defer_due_tick(void); /* irqs off: push a due tick a period on */
const char *timer_path(void);
bool tick_nohz_enabled(void);
void tick_nohz_idle_enter(void);		   /* idle loop, irqs off, before wfi */
void tick_nohz_idle_exit(void);			   /* leaving idle, irqs off */
void tick_nohz_restart(void);			   /* irqs off: the tick is needed again */
void tick_nohz_timer_added(unsigned long expires); /* add_timer(), irqs off */
void tick_irq_enter(void);			   /* every interrupt, before its handler */

#endif
