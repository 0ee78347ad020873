/*
 * stop_trace.c - the stop machinery's event rings (stop_trace.h).
 *
 * One ring per hart, written only by that hart with its interrupts off
 * (an event may be recorded from an interrupt handler that queues a
 * work), so a slot needs no lock. The rings are read by
 * stop_trace_dump() after stop_trace_stop(): the reader waits for no
 * writer, so an event recorded while the dump runs may or may not show.
 */
#include <stdio.h>
#include <string.h>
#include "console.h"
#include "kernel.h"
#include "ktime.h"
#include "mm.h"
#include "riscv.h"
#include "smp.h"
#include "stop_trace.h"

struct stop_trace_rec {
	uint64_t ts; /* get_cycles() */
	uint16_t ev;
	int16_t arg;
};

struct stop_trace_ring {
	unsigned long n; /* events recorded; the ring keeps the last `size` */
	int size;
	struct stop_trace_rec rec[];
};

DEFINE_STATIC_KEY_FALSE(stop_trace_key);
static int recording; /* between stop_trace_start() and _stop() */
static struct stop_trace_ring *rings[NR_CPUS];

static const char *const ev_names[STOP_EV_NR] = {
	[STOP_EV_QUEUE] = "queue",     [STOP_EV_WORK] = "work", [STOP_EV_WORK_END] = "work_end",
	[STOP_EV_STATE] = "state",     [STOP_EV_ACK] = "ack",	[STOP_EV_WFI] = "wfi",
	[STOP_EV_WFI_END] = "wfi_end", [STOP_EV_FN] = "fn",	[STOP_EV_FN_END] = "fn_end",
};

void __stop_trace(enum stop_trace_event ev, int arg)
{
	if (!__atomic_load_n(&recording, __ATOMIC_ACQUIRE))
		return;
	unsigned long flags = local_irq_save();
	struct stop_trace_ring *r = rings[raw_smp_processor_id()];
	if (r) {
		struct stop_trace_rec *rec = &r->rec[r->n++ % (unsigned long)r->size];
		rec->ts = get_cycles();
		rec->ev = (uint16_t)ev;
		rec->arg = (int16_t)arg;
	}
	local_irq_restore(flags);
}

int stop_trace_start(int per_cpu)
{
	int cpu;
	stop_trace_stop();
	for_each_online_cpu(cpu) {
		if (rings[cpu] && rings[cpu]->size != per_cpu) {
			kfree(rings[cpu]);
			rings[cpu] = NULL;
		}
		if (!rings[cpu]) {
			rings[cpu] = kzalloc(sizeof(struct stop_trace_ring) +
					     (size_t)per_cpu * sizeof(struct stop_trace_rec));
			if (!rings[cpu])
				return -ENOMEM;
			rings[cpu]->size = per_cpu;
		}
		rings[cpu]->n = 0;
	}
	/* Turning the key on is itself a stop_machine(): not recorded. */
	int rc = static_branch_enable(&stop_trace_key);
	if (rc)
		return rc;
	/* The rings are ready before any hart can see recording on. */
	smp_store_release(&recording, 1);
	return 0;
}

void stop_trace_stop(void)
{
	WRITE_ONCE(recording, 0);
	smp_mb();
}

void stop_trace_off(void)
{
	stop_trace_stop();
	static_branch_disable(&stop_trace_key);
}

/*
 * STOPTRACE label=L cpu=C ts=T ev=NAME arg=A, one line per event, oldest
 * first per hart; T in time CSR ticks (STOPTRACE_TIMEBASE gives the
 * rate). Context: process context, after stop_trace_stop().
 */
void stop_trace_dump(const char *label)
{
	int cpu;
	console_printf("STOPTRACE_TIMEBASE label=%s hz=%u\n", label, timebase_hz);
	for_each_online_cpu(cpu) {
		struct stop_trace_ring *r = rings[cpu];
		if (!r)
			continue;
		unsigned long first =
			r->n > (unsigned long)r->size ? r->n - (unsigned long)r->size : 0;
		for (unsigned long i = first; i < r->n; i++) {
			const struct stop_trace_rec *rec = &r->rec[i % (unsigned long)r->size];
			console_printf("STOPTRACE label=%s cpu=%d ts=%lu ev=%s arg=%d\n", label,
				       cpu, (unsigned long)rec->ts, ev_names[rec->ev], rec->arg);
		}
	}
	console_printf("STOPTRACE_END label=%s\n", label);
}
