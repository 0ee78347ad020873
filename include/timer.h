/*
 * timer.h - kernel timers on the tick, and sleeping for a while.
 *
 * A timer's function runs in interrupt context on the hart that armed
 * it, at the first tick at or after `expires` (in jiffies).
 */
#ifndef HARTSTOP_TIMER_H
#define HARTSTOP_TIMER_H

#include "list.h"

struct timer_list {
	struct list_head entry;
	unsigned long expires;
	void (*function)(struct timer_list *t);
	int cpu; /* armed on, -1 if not pending */
};

void timer_setup(struct timer_list *t, void (*fn)(struct timer_list *));
int add_timer(struct timer_list *t);  /* on this hart; returns which */
bool del_timer(struct timer_list *t); /* true if it was pending */
bool del_timer_sync(struct timer_list *t, int armed_cpu);
void run_local_timers(void);			       /* tick, interrupt context */
bool get_next_timer_interrupt(unsigned long *expires); /* irqs off: this hart's first */

long schedule_timeout(long ticks); /* may sleep; set the task state first */
void msleep(unsigned int ms);	   /* may sleep */
unsigned long msecs_to_jiffies(unsigned int ms);

#endif
