/*
 * stop_trace.h - a per-hart event trace of the stop machinery: what a
 * picture of one rendezvous is drawn from (`make trace`).
 *
 * Off by default; off, each trace point is a nop (a static key). On
 * (stop_trace_start()), every hart appends (time, event, argument) to
 * its own ring, which only it writes; stop_trace_dump() prints the rings
 * as STOPTRACE lines that test/trace.py turns into Chrome trace-event
 * JSON (Perfetto UI opens it) and a PNG timeline.
 */
#ifndef HARTSTOP_STOP_TRACE_H
#define HARTSTOP_STOP_TRACE_H

#include <stdbool.h>
#include "jump_label.h"

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

/* On only while a trace is wanted: its sites (static_branch_unlikely(),
 * jump_label.h) are a nop in the code otherwise, no load, no branch. */
DECLARE_STATIC_KEY_FALSE(stop_trace_key);
void __stop_trace(enum stop_trace_event ev, int arg);

/* Record an event on this hart. Context: any. */
static inline void stop_trace(enum stop_trace_event ev, int arg)
{
	if (static_branch_unlikely(&stop_trace_key))
		__stop_trace(ev, arg);
}

/*
 * stop_trace_start(): empty rings of `per_cpu` events each (allocated on
 * first use), the key on (one stop_machine() the first time, not
 * recorded), then record. stop_trace_stop(): stop recording, the key
 * stays on (so that the next start costs no patching); stop_trace_off():
 * the key off again. stop_trace_dump(): print what was recorded since
 * the start. Return of start: 0, -ENOMEM, or the key's error. Context:
 * process context (start and off may sleep), not concurrently with each
 * other (the bench and the shell call them).
 */
int stop_trace_start(int per_cpu);
void stop_trace_stop(void);
void stop_trace_off(void);
void stop_trace_dump(const char *label);

#endif
