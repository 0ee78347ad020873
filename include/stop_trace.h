/*
 * stop_trace.h - a per-hart event trace of the stop machinery: what a
 * picture of one rendezvous is drawn from (`make trace`).
 *
 * Off by default; off, each trace point costs one load and one branch.
 * On (stop_trace_start()), every hart appends (time, event, argument) to
 * its own ring, which only it writes; stop_trace_dump() prints the rings
 * as STOPTRACE lines that test/trace.py turns into Chrome trace-event
 * JSON (Perfetto UI opens it) and a PNG timeline.
 */
#ifndef HARTSTOP_STOP_TRACE_H
#define HARTSTOP_STOP_TRACE_H

#include <stdbool.h>

enum stop_trace_event {
	STOP_EV_QUEUE,	  /* a work queued; arg: the target hart */
	STOP_EV_WORK,	  /* the stopper starts a work (it was woken for it) */
	STOP_EV_WORK_END, /* ... and finished it */
	STOP_EV_STATE,	  /* a participant entered a state; arg: the state */
	STOP_EV_ACK,	  /* ... and acked it */
	STOP_EV_WFI,	  /* halted in wfi waiting for the next state */
	STOP_EV_WFI_END,  /* ... and woke */
	STOP_EV_FN,	  /* the rendezvous' fn starts on this hart */
	STOP_EV_FN_END,	  /* ... and returns */
	STOP_EV_NR
};

extern int stop_trace_on;
void __stop_trace(enum stop_trace_event ev, int arg);

/* Record an event on this hart. Context: any. */
static inline void stop_trace(enum stop_trace_event ev, int arg)
{
	if (__builtin_expect(__atomic_load_n(&stop_trace_on, __ATOMIC_RELAXED), 0))
		__stop_trace(ev, arg);
}

/*
 * Start recording with empty rings (allocated on first use, `per_cpu`
 * events each); stop; print what was recorded since the start. Return of
 * start: 0 or -ENOMEM. Context: process context, not concurrently with
 * each other (the bench and the shell call them).
 */
int stop_trace_start(int per_cpu);
void stop_trace_stop(void);
void stop_trace_dump(const char *label);

#endif
