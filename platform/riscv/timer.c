/*
 * timer.c - the clock and the per-hart periodic tick.
 *
 * The `time` CSR runs at timebase_hz on every hart. The tick re-arms
 * itself HZ times a second: through Sstc's stimecmp when every hart has
 * it (the write goes straight to the hart, no trap into M-mode),
 * otherwise through SBI TIME. stimecmp reads 0 at entry, so it is
 * programmed before sie.STIE is set.
 *
 * Tickless idle (Linux's NO_HZ_IDLE; nohz=off turns it off): the first
 * tick that finds a hart idle programs its timer for its first pending
 * timer, or not at all, instead of the next tick. A hart that leaves
 * idle keeps the tick off while it runs one task alone; the scheduler
 * restarts it, on the old grid, when it is needed (tick_nohz_restart():
 * a second runnable task, a single stop work, a cpu_wait halt). jiffies
 * never depends on one hart ticking: it is computed from the time CSR by
 * whoever updates it (every tick, and every interrupt taken while the
 * tick is off).
 */
#include <string.h>
#include "cmdline.h"
#include "kernel.h"
#include "ktime.h"
#include "percpu.h"
#include "riscv.h"
#include "sbi.h"
#include "sched.h"
#include "timer.h"
#include "tick.h"

uint32_t timebase_hz = 10000000; /* QEMU virt's, until the DT says otherwise */
volatile unsigned long jiffies;
static bool use_sstc;
static uint64_t tick_period;
static uint64_t jiffies_epoch; /* time CSR value that jiffies 0 stands for */
DEFINE_PER_CPU(unsigned long, tick_count);
DEFINE_PER_CPU(uint64_t, next_tick); /* when this hart's timer is programmed for */
static bool nohz_enabled = true;
/* Harts idle with their tick stopped: the busy ones kick one of them to
 * balance (kernel/sched/fair.c), as no tick will. */
cpumask_t nohz_idle_mask;
DEFINE_PER_CPU(bool, tick_stopped);
/* In the idle loop with nothing to run (cleared when the hart leaves idle). */
static DEFINE_PER_CPU(bool, nohz_idle);
DEFINE_PER_CPU(unsigned long, tick_stops); /* idle periods spent with the tick off */

uint64_t ticks_to_ns(uint64_t t)
{
	return t / timebase_hz * 1000000000ULL + t % timebase_hz * 1000000000ULL / timebase_hz;
}

uint64_t ns_to_ticks(uint64_t ns)
{
	return ns / 1000000000ULL * timebase_hz + ns % 1000000000ULL * timebase_hz / 1000000000ULL;
}

uint64_t ktime_get_ns(void)
{
	return ticks_to_ns(get_cycles());
}

void udelay(unsigned long us)
{
	uint64_t end = get_cycles() + ns_to_ticks(us * 1000ULL);
	while (get_cycles() < end)
		cpu_relax();
}

const char *timer_path(void)
{
	return use_sstc ? "sstc" : "sbi";
}

void time_init(uint32_t timebase, bool sstc)
{
	if (timebase)
		timebase_hz = timebase;
	use_sstc = sstc;
	tick_period = timebase_hz / HZ;
	jiffies_epoch = get_cycles();
	char v[8] = "";
	nohz_enabled = !(cmdline_get("nohz", v, sizeof(v)) && strcmp(v, "off") == 0);
}

bool tick_nohz_enabled(void)
{
	return nohz_enabled;
}

/*
 * jiffies follows the time CSR, brought up to date by whichever hart's
 * tick comes first: timers keep expiring while hart 0 is held up (a long
 * interrupts-off section, or a vCPU the host has not run for a while),
 * and ticks lost to a late interrupt are not lost to jiffies.
 */
/* The jiffy the time CSR value t falls in, and the time CSR value at which
 * jiffies reaches j: the one grid every hart's tick and timers follow. */
static unsigned long cycles_to_jiffies(uint64_t t)
{
	return (unsigned long)((t - jiffies_epoch) / tick_period);
}

static uint64_t jiffies_to_cycles(unsigned long j)
{
	return jiffies_epoch + (uint64_t)j * tick_period;
}

static void jiffies_update(uint64_t now)
{
	unsigned long j = cycles_to_jiffies(now);
	unsigned long old = jiffies;
	while ((long)(j - old) > 0 &&
	       !__atomic_compare_exchange_n(&jiffies, &old, j, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
}

static void program_timer(uint64_t when)
{
	if (use_sstc)
		csr_write(CSR_STIMECMP, when);
	else
		sbi_set_timer(when);
}

void timer_init_this_cpu(void)
{
	this_cpu(next_tick) = get_cycles() + tick_period;
	program_timer(this_cpu(next_tick));
	csr_set(sie, SIE_STIE);
}

/*
 * Interrupts off, and the caller is about to halt (cpu_wait.c): if this
 * hart's tick has fallen due, move it one period on, which also clears
 * the pending timer interrupt. The tick is then late by up to a period,
 * never lost; a halt that lasts keeps waking once a period for it.
 */
void timer_defer_due_tick(void)
{
	if (!(csr_read(sip) & SIE_STIE))
		return;
	uint64_t next = get_cycles() + tick_period;
	this_cpu(next_tick) = next;
	program_timer(next);
}

/* nohz_idle_mask holds exactly the harts idle with their tick stopped. */
static DEFINE_PER_CPU(bool, in_idle_mask);

static void nohz_mask_update(void)
{
	bool want = this_cpu(nohz_idle) && this_cpu(tick_stopped);
	if (want == this_cpu(in_idle_mask))
		return;
	this_cpu(in_idle_mask) = want;
	if (want) {
		this_cpu(tick_stops)++; /* one more idle period without the tick */
		cpumask_set_cpu_atomic(smp_processor_id(), &nohz_idle_mask);
	} else {
		cpumask_clear_cpu_atomic(smp_processor_id(), &nohz_idle_mask);
	}
}

/*
 * Stop the tick: program the timer for this hart's first pending timer
 * (the tick would only run it then; no other hart adds to this hart's
 * list), or for never. Keeps ticking if the next tick comes first anyway.
 * Writes the timer only when the deadline changes: on QEMU each write
 * re-arms a host timer and wakes QEMU's main loop, which competes with
 * the vCPUs for the host's cores.
 */
static void tick_nohz_stop(uint64_t now, bool force)
{
	uint64_t when = UINT64_MAX;
	unsigned long expires;
	jiffies_update(now);
	if (get_next_timer_interrupt(&expires))
		when = (long)(expires - jiffies) <= 0 ? now : jiffies_to_cycles(expires);
	if (!this_cpu(tick_stopped)) {
		if (when <= this_cpu(next_tick))
			return; /* the tick is the next event anyway */
		this_cpu(tick_stopped) = true;
	}
	if (when != this_cpu(next_tick) || force) {
		this_cpu(next_tick) = when;
		program_timer(when);
	}
	nohz_mask_update();
}

/**
 * tick_nohz_idle_enter() - this hart is idle: let its tick stop.
 *
 * Lazily, as Linux stops it only for an idle period expected to last:
 * the tick stays programmed, and the first tick that finds the hart
 * still idle stops it (timer_interrupt()), so idle periods shorter than a
 * tick (a wake-up ping-pong) cost no timer write at all. Called again
 * after every interrupt that did not end the idle period: with the tick
 * already stopped, a timer added meanwhile moves the deadline.
 *
 * Context: the idle loop, interrupts off, nothing to run (need_resched
 * clear); the caller halts in wfi next.
 * Return: Nothing.
 */
void tick_nohz_idle_enter(void)
{
	if (!nohz_enabled)
		return;
	this_cpu(nohz_idle) = true;
	if (this_cpu(tick_stopped))
		tick_nohz_stop(get_cycles(), false);
}

/**
 * tick_nohz_idle_exit() - this hart leaves idle.
 *
 * The tick stays off if it was: one task alone needs no tick (Linux's
 * NO_HZ_FULL reasoning: no slice to end, nothing to balance onto us from
 * a tick), and restarting it here would put a timer write, expensive on
 * QEMU, on every wake-up's path. The scheduler restarts it as soon as it
 * is needed (tick_nohz_restart(): a second runnable task, a stopper).
 *
 * Context: interrupts off (__schedule(), switching away from the idle
 * task).
 * Return: Nothing.
 */
void tick_nohz_idle_exit(void)
{
	this_cpu(nohz_idle) = false;
	nohz_mask_update();
}

/**
 * tick_nohz_timer_added() - a timer was added on this hart.
 * @expires: its expiry, in jiffies.
 *
 * With the tick off, the hart's timer is programmed for its first timer
 * only: an earlier new one moves the deadline (a busy hart running one
 * task alone would otherwise never run it).
 *
 * Context: interrupts off, on the hart the timer was added to.
 * Return: Nothing.
 */
void tick_nohz_timer_added(unsigned long expires)
{
	if (!this_cpu(tick_stopped))
		return;
	uint64_t when = jiffies_to_cycles(expires);
	if (when < this_cpu(next_tick)) {
		this_cpu(next_tick) = when;
		program_timer(when);
	}
}

/**
 * tick_nohz_restart() - restart this hart's stopped tick.
 *
 * The next tick lands on the grid jiffies counts in, as if the tick had
 * never stopped.
 *
 * Context: interrupts off. No-op if the tick runs.
 * Return: Nothing.
 */
void tick_nohz_restart(void)
{
	if (!this_cpu(tick_stopped))
		return;
	uint64_t now = get_cycles();
	this_cpu(tick_stopped) = false;
	nohz_mask_update();
	jiffies_update(now);
	this_cpu(next_tick) = jiffies_to_cycles(cycles_to_jiffies(now) + 1);
	program_timer(this_cpu(next_tick));
}

/* Every interrupt, before its handler: with the tick off nobody else may
 * be bringing jiffies up to date (Linux's tick_irq_enter()). */
void tick_irq_enter(void)
{
	if (this_cpu(tick_stopped))
		jiffies_update(get_cycles());
}

void timer_interrupt(void)
{
	uint64_t now = get_cycles();
	if (!this_cpu(tick_stopped)) {
		uint64_t next = this_cpu(next_tick) + tick_period;
		/* Late (oversubscribed host): skip missed ticks rather than storm. */
		if (next <= now)
			next = now + tick_period;
		this_cpu(next_tick) = next;
		program_timer(next);
	}
	this_cpu(tick_count)++;
	jiffies_update(now);
	run_local_timers();
	scheduler_tick();
	/* Stopped: this was a timer's expiry; program the next one. Idle
	 * since before this tick with nothing to run: stop the tick. */
	if (this_cpu(tick_stopped) || (this_cpu(nohz_idle) && !READ_ONCE(current->need_resched)))
		tick_nohz_stop(get_cycles(), this_cpu(tick_stopped)); /* it fired: rewrite */
}
