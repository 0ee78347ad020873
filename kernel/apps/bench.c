/*
 * bench.c - measure the stop machinery against its physical floor, print
 * a table and machine-readable lines. The bench image runs it at boot
 * (image_bench.c); the shell's `bench` command runs it on demand.
 *
 *   BENCH name=NAME harts=N median_ns=.. p90_ns=.. p99_ns=.. max_ns=.. n=..
 *
 * Every figure is a distribution over bench_iters=N samples (default
 * 1000) after a warm-up; times come from the `time` CSR, which every hart
 * shares. Throughput rows (stop_nowait_tput*) carry works per second in
 * the median column instead of nanoseconds, and say so with unit=ops_per_s.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "console.h"
#include "cpu_wait.h"
#include "ipi.h"
#include "kernel.h"
#include "kthread.h"
#include "ktime.h"
#include "mm.h"
#include "preempt.h"
#include "riscv.h"
#include "sched.h"
#include "smp.h"
#include "stop_machine.h"
#include "stop_trace.h"
#include "timer.h"
#include "wait.h"
#include "cmdline.h"
#include "ipi_hw.h"
#include "spinlock.h"
#include "jump_label.h"
#include "patch.h"

static int iters;
static bool wanted_in(const char *arg, const char *name);
static uint64_t *samples;

static int bench_errors;

/*
 * A measured call that failed has measured something else (a sample
 * from a stale timestamp, a rendezvous that never happened): count it,
 * say so as a warning, and let the caller drop the whole row. BENCH_END
 * carries the count, which the host checks.
 */
static bool failed(const char *name, long rc)
{
	if (!rc)
		return false;
	bench_errors++;
	pr_warn("WARNING: bench: %s: the measured call returned %ld; row dropped", name, rc);
	return true;
}

/* The median, p90, p99 and max of v[0..n) (sorted in place). */
static void quantiles(uint64_t *v, int n, unsigned long q[4])
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_u64);
	q[0] = v[n / 2], q[1] = v[n * 90 / 100], q[2] = v[n * 99 / 100], q[3] = v[n - 1];
}

/* One table row and one BENCH line. ticks: the same quantiles in ticks of
 * the time CSR, or NULL (throughput rows: unit says what the values are). */
static void report_values(const char *name, int harts, uint64_t *v, int n, const char *unit,
			  const unsigned long *ticks)
{
	unsigned long q[4];
	if (n <= 0) {
		pr_warn("bench: %s: no samples", name);
		return;
	}
	quantiles(v, n, q);
	console_printf("  %-28s %5d %10lu %10lu %10lu %10lu %6d %8lu\n", name, harts, q[0], q[1],
		       q[2], q[3], n, ticks ? ticks[0] : 0UL);
	char extra[96] = "";
	if (ticks)
		snprintf(extra, sizeof(extra),
			 " median_ticks=%lu p90_ticks=%lu p99_ticks=%lu max_ticks=%lu", ticks[0],
			 ticks[1], ticks[2], ticks[3]);
	else if (unit)
		snprintf(extra, sizeof(extra), " unit=%s", unit);
	console_printf("BENCH name=%s harts=%d median_ns=%lu p90_ns=%lu p99_ns=%lu max_ns=%lu "
		       "n=%d%s\n",
		       name, harts, q[0], q[1], q[2], q[3], n, extra);
}

/* Samples are in ticks of the time CSR: report them in both units. */
static void report(const char *name, int harts, int n)
{
	unsigned long ticks[4] = {0};
	if (n > 0)
		quantiles(samples, n, ticks);
	for (int i = 0; i < n; i++)
		samples[i] = ticks_to_ns(samples[i]);
	report_values(name, harts, samples, n, NULL, ticks);
}

static int two_harts(int *a, int *b)
{
	*a = cpumask_first(cpu_online_mask);
	*b = cpumask_next(*a, cpu_online_mask);
	return *b < NR_CPUS;
}

/* ---- the floor: raw IPI round trip, handler to handler ---- */

static volatile int pong_cpu = -1;
static volatile int pong_seen;
static cpumask_t bcast_mask; /* broadcast floor: who acks */
static volatile int bcast_on;
static int bcast_acks;

static void bench_ipi(void)
{
	int cpu = smp_processor_id();
	if (bcast_on) { /* the broadcast floor: ack in memory */
		if (cpumask_test_cpu(cpu, &bcast_mask))
			__atomic_fetch_add(&bcast_acks, 1, __ATOMIC_RELEASE);
		return;
	}
	if (cpu == pong_cpu) /* the pong side answers */
		send_ipi(cpumask_first(cpu_online_mask), IPI_TEST);
	else
		pong_seen = 1;
}

struct rtt_arg {
	int b;
	bool idle; /* let both harts sit idle for a millisecond before each ping */
};

static int ipi_rtt_fn(void *arg)
{
	struct rtt_arg *ra = arg;
	int b = ra->b, n = 0;
	for (int i = -20; i < iters; i++) {
		if (ra->idle)
			msleep(1);
		pong_seen = 0;
		uint64_t t0 = get_cycles();
		send_ipi(b, IPI_TEST);
		while (!pong_seen)
			cpu_relax();
		if (i >= 0)
			samples[n++] = get_cycles() - t0;
	}
	return n;
}

/* Run fn(arg) in a FIFO-50 thread bound to cpu (interrupts on there, so
 * the IPIs it waits for arrive as interrupts); fn's result, or 0. */
static int run_bound(int (*fn)(void *), void *arg, int cpu, const char *name)
{
	struct task_struct *p = kthread_start_on_cpu(fn, arg, cpu, name);
	if (!p)
		return 0;
	sched_setscheduler(p, SCHED_FIFO, 50); /* before its warm-up rounds end */
	int n = kthread_wait_exit(p);
	kthread_reap(p);
	return n;
}

/*
 * idle: the floor under wakeup_remote. The pong hart has sat halted in
 * wfi for over a millisecond (tickless, so nothing woke it meanwhile)
 * when the ping lands, as a wakee's hart has; on QEMU, waking a vCPU
 * thread that has slept that long costs far more than one woken a few
 * microseconds after it halted.
 */
static void bench_ipi_rtt(const char *name, enum ipi_path path, bool idle)
{
	int a, b;
	if (!two_harts(&a, &b) || ipi_hw_set_path(path))
		return;
	struct rtt_arg ra = {.b = b, .idle = idle};
	pong_cpu = b;
	ipi_test_hook = bench_ipi;
	int n = run_bound(ipi_rtt_fn, &ra, a, "ipi/%u"); /* the pong is an interrupt on a */
	ipi_test_hook = NULL;
	pong_cpu = -1;
	report(name, 2, n);
}

/*
 * The floor under a rendezvous of N harts: one IPI to each of the other
 * N-1 and an ack from each handler in shared memory, the way the stopper
 * threads ack each state of multi_cpu_stop(). Handlers only, no threads.
 */
static int bcast_fn(void *arg)
{
	int others = *(int *)arg, n = 0;
	for (int i = -20; i < iters; i++) {
		__atomic_store_n(&bcast_acks, 0, __ATOMIC_RELAXED);
		uint64_t t0 = get_cycles();
		send_ipi_mask(&bcast_mask, IPI_TEST);
		while (smp_load_acquire(&bcast_acks) < others)
			cpu_relax();
		if (i >= 0)
			samples[n++] = get_cycles() - t0;
	}
	return n;
}

static void bench_ipi_bcast(const cpumask_t *harts_mask, int harts)
{
	int from = cpumask_first(harts_mask);
	if (harts < 2)
		return;
	cpumask_copy(&bcast_mask, harts_mask);
	cpumask_clear_cpu(from, &bcast_mask);
	int others = harts - 1;
	ipi_test_hook = bench_ipi;
	bcast_on = 1;
	int n = run_bound(bcast_fn, &others, from, "bcast/%u");
	bcast_on = 0;
	ipi_test_hook = NULL;
	report("ipi_bcast_ack", harts, n);
}

struct ping {
	struct completion go, back;
	volatile uint64_t woke_at;
	int rounds;
};

static int wakee(void *arg)
{
	struct ping *pg = arg;
	for (int i = 0; i < pg->rounds; i++) {
		wait_for_completion(&pg->go);
		pg->woke_at = get_cycles();
		complete(&pg->back);
	}
	return 0;
}

static void bench_wakeup_remote(void)
{
	int a, b;
	if (!two_harts(&a, &b))
		return;
	struct ping pg = {.rounds = iters + 20};
	init_completion(&pg.go);
	init_completion(&pg.back);
	struct task_struct *p = kthread_create_on_cpu(wakee, &pg, b, "wakee/%u");
	get_task_struct(p);
	wake_up_process(p);
	int n = 0;
	for (int i = -20; i < iters; i++) {
		msleep(1); /* let it fall asleep on hart b */
		uint64_t t0 = get_cycles();
		complete(&pg.go);
		wait_for_completion(&pg.back);
		if (i >= 0)
			samples[n++] = pg.woke_at - t0;
	}
	kthread_reap(p);
	report("wakeup_remote", 2, n);
}

static int switcher(void *arg)
{
	struct ping *pg = arg;
	for (int i = 0; i < pg->rounds; i++) {
		wait_for_completion(&pg->go);
		complete(&pg->back);
	}
	return 0;
}

/*
 * wake_pingpong_rtt: threads bound to two harts hand a turn back and forth
 * through two completions; one sample is a round trip, two cross-hart
 * wake-ups of a sleeper whose hart went idle. Linux's futex_pingpong_rt
 * (../shared/peers/linux) has the same shape. 5 x bench_iters samples
 * (5000 by default, as the peer takes).
 */
struct pingpong {
	struct ping pg;
	int n;
	int div; /* 2: a sample is two switches, report one */
};

static int pingpong_driver(void *arg)
{
	struct pingpong *pp = arg;
	for (int i = -20; i < pp->pg.rounds - 20; i++) {
		uint64_t t0 = get_cycles();
		complete(&pp->pg.go); /* to the partner, and back */
		wait_for_completion(&pp->pg.back);
		if (i >= 0)
			samples[pp->n++] = (get_cycles() - t0) / (uint64_t)pp->div;
	}
	return 0;
}

/* The partner (switcher) on cpu_pong, the driver on cpu_ping; n samples. */
static int run_pingpong(struct pingpong *pp, int cpu_ping, int cpu_pong)
{
	init_completion(&pp->pg.go);
	init_completion(&pp->pg.back);
	struct task_struct *s = kthread_create_on_cpu(switcher, &pp->pg, cpu_pong, "pong/%u");
	struct task_struct *d = kthread_create_on_cpu(pingpong_driver, pp, cpu_ping, "ping/%u");
	get_task_struct(s);
	get_task_struct(d);
	wake_up_process(s);
	wake_up_process(d);
	kthread_reap(d);
	kthread_reap(s);
	return pp->n;
}

static void bench_wake_pingpong(void)
{
	int a, b;
	if (!two_harts(&a, &b))
		return;
	struct pingpong pp = {.pg.rounds = 5 * iters + 20, .div = 1};
	report("wake_pingpong_rtt", 2, run_pingpong(&pp, a, b));
}

/* Both threads on one hart: each round trip is two context switches. */
static void bench_ctxsw(void)
{
	int cpu = cpumask_first(cpu_online_mask);
	struct pingpong pp = {.pg.rounds = iters + 20, .div = 2};
	report("ctxsw", 1, run_pingpong(&pp, cpu, cpu));
}

/* ---- the stopper ---- */

static volatile uint64_t fn_started;

static int stamp_fn(void *arg)
{
	fn_started = get_cycles();
	return 0;
}

static int noop_fn(void *arg)
{
	return 0;
}

static void bench_stop_one_cpu(void)
{
	int a, b, n = 0;
	static uint64_t ret_samples[4096];
	if (!two_harts(&a, &b))
		b = a;
	cpumask_t here;
	cpumask_clear(&here);
	cpumask_set_cpu(a, &here);
	if (failed("stop_one_cpu (pinning the caller)", set_cpus_allowed_ptr(current, &here)))
		return; /* the caller stays on hart a */
	for (int i = -20; i < iters; i++) {
		uint64_t t0 = get_cycles();
		int rc = stop_one_cpu(b, stamp_fn, NULL);
		uint64_t t1 = get_cycles();
		if (failed("stop_one_cpu_remote", rc))
			goto out;
		if (i >= 0) {
			samples[n] = fn_started - t0;
			ret_samples[n % 4096] = t1 - t0;
			n++;
		}
	}
	if (b != a) {
		report("stop_one_cpu_remote", 2, n);
		int m = min(n, 4096);
		memcpy(samples, ret_samples, (size_t)m * sizeof(uint64_t));
		report("stop_one_cpu_remote_return", 2, m);
	}
	n = 0;
	for (int i = -20; i < iters; i++) {
		uint64_t t0 = get_cycles();
		int rc = stop_one_cpu(a, noop_fn, NULL);
		if (failed("stop_one_cpu_self", rc))
			goto out;
		if (i >= 0)
			samples[n++] = get_cycles() - t0;
	}
	report("stop_one_cpu_self", 1, n);
out:
	set_cpus_allowed_ptr(current, cpu_online_mask);
}

static int nowait_done;

static int count_done(void *arg)
{
	__atomic_fetch_add(&nowait_done, 1, __ATOMIC_RELEASE);
	smp_cond_wake(&nowait_done); /* the queueing thread waits for the batch */
	return 0;
}

/* Queue works[0..batch) with stop_one_cpu_nowait(): all on `target`, or
 * round robin over the online harts from the first when spread. Returns
 * how many were queued (fewer only if a stopper refused one). */
static int queue_nowait_batch(struct cpu_stop_work *works, int batch, bool spread, int target)
{
	int cpu = cpumask_first(cpu_online_mask);
	for (int i = 0; i < batch; i++) {
		if (!stop_one_cpu_nowait(spread ? cpu : target, count_done, NULL, &works[i]))
			return i;
		if (spread && (cpu = cpumask_next(cpu, cpu_online_mask)) >= NR_CPUS)
			cpu = cpumask_first(cpu_online_mask);
	}
	return batch;
}

/* Works per second: queue `batch` works (to one hart, or round robin over
 * all), wait until they ran; one sample per batch. */
static void bench_nowait_tput(const char *name, bool spread)
{
	const int batch = 64;
	struct cpu_stop_work *works = kzalloc(sizeof(*works) * batch);
	/* At least `iters` works in all (16 batches at the default 1000),
	 * after two batches of warm-up. */
	int rounds = max(16, (iters + batch - 1) / batch), target = cpumask_last_online(), n = 0;
	if (!works)
		return;
	for (int r = -2; r < rounds; r++) {
		nowait_done = 0;
		uint64_t t0 = get_cycles();
		int queued = queue_nowait_batch(works, batch, spread, target);
		smp_cond_load_acquire(&nowait_done, VAL >= queued); /* the queued ones */
		if (failed(name, queued != batch)) {
			kfree(works);
			return;
		}
		uint64_t ns = ticks_to_ns(get_cycles() - t0);
		if (r >= 0)
			samples[n++] = ns ? (uint64_t)batch * 1000000000ULL / ns : 0;
	}
	kfree(works);
	report_values(name, spread ? num_online_cpus() : 1, samples, n, "ops_per_s", NULL);
}

static void bench_stop_two_cpus(void)
{
	int a, b, n = 0;
	if (!two_harts(&a, &b))
		return;
	for (int i = -20; i < iters; i++) {
		uint64_t t0 = get_cycles();
		if (failed("stop_two_cpus", stop_two_cpus(a, b, noop_fn, NULL)))
			return;
		if (i >= 0)
			samples[n++] = get_cycles() - t0;
	}
	report("stop_two_cpus", 2, n);
}

/* The per-N rows' hart counts: doubling from the first, then every
 * online hart once; past that, online + 1 (the loop's end). */
static int next_hart_count(int harts, int online)
{
	if (harts >= online)
		return online + 1;
	return harts * 2 > online ? online : harts * 2;
}

/* The first `harts` online harts. */
static void first_harts(cpumask_t *mask, int harts)
{
	int cpu, k = 0;
	cpumask_clear(mask);
	for_each_online_cpu(cpu)
		if (k++ < harts)
			cpumask_set_cpu(cpu, mask);
}

/* A rendezvous row ends after `iters` samples or this many seconds of
 * them (at least 5 samples): spinning at 64-128 harts takes seconds per
 * rendezvous. The row's n= says how many it got. */
#define STOP_ROW_SECONDS 4

/* stop_machine over `mask` (all online: stop_machine() itself) waiting
 * as `mode` with ack fan-in `fanin`: one row, and one BENCH_STATES line
 * (time per state, averaged over harts and calls). */
static void bench_stop_machine_row(const cpumask_t *mask, int harts, enum stop_wait mode, int fanin,
				   const char *name)
{
	static struct stop_stats before[NR_CPUS];
	struct stop_stats after;
	int cpu, n = 0, calls = 0, online = num_online_cpus();
	enum stop_wait old_mode = (enum stop_wait)stop_wait_set(mode);
	int old_fanin = stop_fanin_set(fanin);
	for_each_cpu(cpu, mask)
		stop_get_stats(cpu, &before[cpu]);
	uint64_t end = 0;
	for (int i = -5; i < iters; i++) {
		uint64_t t0 = get_cycles();
		if (i == 0)
			end = t0 + (uint64_t)STOP_ROW_SECONDS * timebase_hz;
		int rc = harts == online ? stop_machine(noop_fn, NULL, NULL)
					 : stop_cpus_rendezvous(mask, noop_fn, NULL);
		calls++;
		if (failed(name, rc))
			goto out;
		if (i >= 0)
			samples[n++] = get_cycles() - t0;
		if (n >= 5 && get_cycles() > end)
			break;
	}
	report(name, harts, n);
	uint64_t per_state[MULTI_STOP_NR] = {0}, halts = 0;
	for_each_cpu(cpu, mask) {
		stop_get_stats(cpu, &after);
		for (int s = MULTI_STOP_PREPARE; s < MULTI_STOP_NR; s++)
			per_state[s] += after.state_ticks[s] - before[cpu].state_ticks[s];
		halts += after.rendezvous_halts - before[cpu].rendezvous_halts;
	}
	uint64_t div = (uint64_t)harts * (uint64_t)calls;
	console_printf("BENCH_STATES name=%s harts=%d prepare_ns=%lu disable_irq_ns=%lu run_ns=%lu "
		       "exit_ns=%lu halts_per_hart=%lu.%02lu\n",
		       name, harts, (unsigned long)ticks_to_ns(per_state[MULTI_STOP_PREPARE] / div),
		       (unsigned long)ticks_to_ns(per_state[MULTI_STOP_DISABLE_IRQ] / div),
		       (unsigned long)ticks_to_ns(per_state[MULTI_STOP_RUN] / div),
		       (unsigned long)ticks_to_ns(per_state[MULTI_STOP_EXIT] / div),
		       (unsigned long)(halts / div), (unsigned long)(halts * 100 / div % 100));
out:
	stop_wait_set(old_mode);
	stop_fanin_set(old_fanin);
}

/*
 * stop_machine per hart count, next to its floor: each waiting rule
 * (stop_machine_spin, _wfi, _adaptive, all with the boot's fan-in) and
 * adaptive with the combining tree (stop_machine_tree, fan-in
 * bench_fanin=, default 8), in the same boot so that the ratios compare
 * like with like.
 */
static void bench_stop_machine(void)
{
	int online = num_online_cpus(), fanin = stop_fanin_get();
	int tree = (int)cmdline_get_ulong("bench_fanin", 8);
	char name[40];
	for (int harts = 1; harts <= online; harts = next_hart_count(harts, online)) {
		cpumask_t mask;
		first_harts(&mask, harts);
		bench_ipi_bcast(&mask, harts); /* its floor, first */
		for (int m = 0; m < STOP_WAIT_NR; m++) {
			if (!wanted_in("bench_stop_waits", stop_wait_names[m]))
				continue;
			snprintf(name, sizeof(name), "stop_machine_%s", stop_wait_names[m]);
			bench_stop_machine_row(&mask, harts, (enum stop_wait)m, fanin, name);
		}
		if (harts > 2 && tree != fanin)
			bench_stop_machine_row(&mask, harts, STOP_WAIT_ADAPTIVE, tree,
					       "stop_machine_tree");
	}
}

/* ---- migrating a running thread ---- */

static volatile int mig_target = -1;
static volatile uint64_t mig_seen_at;
static volatile int mig_stop;

static int mig_spinner(void *arg)
{
	while (!mig_stop) {
		/* Polls where it runs, moving meanwhile: raw is the point. */
		if (raw_smp_processor_id() == mig_target && !mig_seen_at)
			mig_seen_at = get_cycles();
		cpu_relax();
	}
	return 0;
}

static void bench_migrate_running(void)
{
	int a, b, n = 0;
	if (!two_harts(&a, &b))
		return;
	int c = cpumask_last_online();
	if (c == b)
		c = a; /* two harts: bounce between them */
	mig_stop = 0;
	mig_target = -1;
	struct task_struct *p = kthread_create(mig_spinner, NULL, "migrant");
	kthread_bind(p, b);
	p->kthread->bound_cpu = -1;
	get_task_struct(p);
	wake_up_process(p);
	int where = b, other = c;
	for (int i = -5; i < iters; i++) {
		while (!READ_ONCE(p->on_cpu))
			cpu_relax();
		cpumask_t to;
		cpumask_clear(&to);
		cpumask_set_cpu(other, &to);
		mig_seen_at = 0;
		mig_target = other;
		uint64_t t0 = get_cycles();
		if (failed("migrate_running", set_cpus_allowed_ptr(p, &to))) {
			n = 0;
			break;
		}
		/* The spinner may have stamped a moment before t0 (it read the
		 * old target just before we reset the stamp): wait for a fresh one. */
		while (READ_ONCE(mig_seen_at) < t0) {
			if (mig_seen_at)
				mig_seen_at = 0;
			cpu_relax();
		}
		if (i >= 0)
			samples[n++] = mig_seen_at - t0;
		int t = where;
		where = other;
		other = t;
	}
	mig_stop = 1;
	kthread_reap(p);
	if (n)
		report("migrate_running", 3, n);
}

/* ---- a spinlock handed from hart to hart ---- */

/*
 * N harts take one spinlock in a loop, each straight back after its
 * unlock, with a short critical section: the lock is handed from hart to
 * hart as fast as the lock kind allows. Two rows per N, named after the
 * kind this boot runs (spinlock=queued|ticket):
 *   lock_handoff_KIND  time from one hart's unlock to the next hart's
 *                      acquisition (the same hart again is not a sample),
 *                      bench_iters of them drawn uniformly from the whole
 *                      run (reservoir sampling: the first ones alone
 *                      would show only the start, before waiters halt)
 *   lock_tput_KIND     acquisitions per second, one sample per fiftieth of
 *                      the run
 * The run lasts 100 ms, plus 4 ms per hart (a host with fewer cores than
 * harts runs each vCPU for milliseconds at a time).
 */
#define LOCK_WINDOWS 50

static DEFINE_SPINLOCK(contended_lock);
static struct {
	int harts, arrived;
	uint64_t start, end;
	/* Under contended_lock: */
	uint64_t released_at;
	unsigned int rng;   /* rand_r() state */
	unsigned long seen; /* hand-offs so far */
	int last, n;
	unsigned long per_window[LOCK_WINDOWS];
} lk;

static void lock_contender(void *unused)
{
	int me = smp_processor_id(); /* bound to this hart (run_on_cpus) */
	/* Everyone starts together: the last to arrive sets the clock. */
	if (__atomic_add_fetch(&lk.arrived, 1, __ATOMIC_SEQ_CST) == lk.harts) {
		uint64_t now = get_cycles(),
			 len = timebase_hz / 10 + (uint64_t)lk.harts * (timebase_hz / 250);
		lk.start = now;
		lk.end = now + len;
		smp_store_release(&lk.arrived, lk.harts + 1);
		smp_cond_wake(&lk.arrived);
	} else {
		smp_cond_load_acquire(&lk.arrived, VAL == lk.harts + 1);
	}
	for (;;) {
		spin_lock(&contended_lock);
		uint64_t now = get_cycles();
		if (now >= lk.end) {
			spin_unlock(&contended_lock);
			break;
		}
		if (lk.last >= 0 && lk.last != me) {
			/* Algorithm R: each hand-off kept with probability n/seen. */
			unsigned long j = lk.seen++;
			if (lk.n < iters)
				samples[lk.n++] = now - lk.released_at;
			else if ((j = (unsigned long)rand_r(&lk.rng) % (j + 1)) <
				 (unsigned long)iters)
				samples[j] = now - lk.released_at;
		}
		lk.per_window[(now - lk.start) * LOCK_WINDOWS / (lk.end - lk.start)]++;
		for (int i = 0; i < 8; i++) /* the critical section */
			cpu_relax();
		lk.last = me;
		lk.released_at = get_cycles();
		spin_unlock(&contended_lock);
	}
}

static void bench_lock(void)
{
	const char *kind = spinlock_ticket ? "ticket" : "queued";
	char name[32];
	int online = num_online_cpus();
	for (int harts = 2; harts <= online; harts = next_hart_count(harts, online)) {
		cpumask_t mask;
		first_harts(&mask, harts);
		memset(&lk, 0, sizeof(lk));
		lk.harts = harts;
		lk.last = -1;
		lk.rng = 1;
		if (failed("lock", run_on_cpus(&mask, lock_contender, NULL)))
			return;
		snprintf(name, sizeof(name), "lock_handoff_%s", kind);
		report(name, harts, lk.n);
		uint64_t window_ns = ticks_to_ns((lk.end - lk.start) / LOCK_WINDOWS);
		for (int w = 0; w < LOCK_WINDOWS; w++)
			samples[w] = window_ns ? lk.per_window[w] * 1000000000ULL / window_ns : 0;
		snprintf(name, sizeof(name), "lock_tput_%s", kind);
		report_values(name, harts, samples, LOCK_WINDOWS, "ops_per_s", NULL);
	}
}

/* ---- a picture of one rendezvous (make trace) ---- */

/*
 * One stop_machine() on every online hart, traced (stop_trace.h), for
 * each waiting rule: a typical one, that is one whose time is within a
 * fifth of the median of 21 untraced calls (or the 40th try: the rings
 * hold one call, so an earlier near miss cannot be dumped later). Then one batch of
 * stop_one_cpu_nowait() works spread over the harts, the stop_nowait_tput_spread row's unit of
 * work. Printed as STOPTRACE lines (test/trace.py draws them).
 */
static void bench_trace(void)
{
	const enum stop_wait modes[] = {STOP_WAIT_SPIN, STOP_WAIT_ADAPTIVE, STOP_WAIT_WFI};
	enum stop_wait old = stop_wait_get();
	char label[32];
	for (unsigned m = 0; m < ARRAY_SIZE(modes); m++) {
		if (!wanted_in("bench_stop_waits", stop_wait_names[modes[m]]))
			continue;
		stop_wait_set(modes[m]);
		for (int i = 0; i < 21; i++) {
			uint64_t t0 = get_cycles();
			if (failed("trace", stop_machine(noop_fn, NULL, NULL)))
				goto out;
			samples[i] = get_cycles() - t0;
		}
		qsort(samples, 21, sizeof(samples[0]), cmp_u64);
		uint64_t median = samples[10];
		snprintf(label, sizeof(label), "stop_machine_%s", stop_wait_names[modes[m]]);
		for (int tries = 0; tries < 40; tries++) {
			if (failed("trace", stop_trace_start(256)))
				goto out;
			uint64_t t0 = get_cycles();
			int rc = stop_machine(noop_fn, NULL, NULL);
			uint64_t t = get_cycles() - t0;
			stop_trace_stop();
			if (failed("trace", rc))
				goto out;
			uint64_t off = t > median ? t - median : median - t;
			if (off * 5 <= median || tries == 39) {
				console_printf(
					"STOPTRACE_CALL label=%s harts=%d ns=%lu median_ns=%lu\n",
					label, num_online_cpus(), (unsigned long)ticks_to_ns(t),
					(unsigned long)ticks_to_ns(median));
				stop_trace_dump(label);
				break;
			}
		}
	}
	/* One batch of nowait works round robin over the harts. */
	if (wanted_in("bench_trace_nowait", "yes")) {
		const int batch = 64;
		struct cpu_stop_work *works = kzalloc(sizeof(*works) * batch);
		if (!works || failed("trace", stop_trace_start(256))) {
			kfree(works);
			goto out;
		}
		nowait_done = 0;
		uint64_t t0 = get_cycles();
		int queued = queue_nowait_batch(works, batch, true, 0);
		smp_cond_load_acquire(&nowait_done, VAL >= queued);
		uint64_t t = get_cycles() - t0;
		stop_trace_stop();
		console_printf("STOPTRACE_CALL label=nowait_spread harts=%d ns=%lu works=%d\n",
			       num_online_cpus(), (unsigned long)ticks_to_ns(t), queued);
		stop_trace_dump("nowait_spread");
		kfree(works);
	}
out:
	stop_trace_off();
	stop_wait_set(old);
}

/* Does the boot argument `arg` (GLOB[,GLOB]; absent: everything) match
 * name? */
static bool wanted_in(const char *arg, const char *name)
{
	char globs[96];
	if (!cmdline_get(arg, globs, sizeof(globs)) || !globs[0])
		return true;
	for (char *g = globs, *end; g; g = end ? end + 1 : NULL) {
		end = strchr(g, ',');
		if (end)
			*end = '\0';
		if (fnmatch(g, name, 0) == 0)
			return true;
	}
	return false;
}

/* bench_only=GLOB[,GLOB]: run only the groups whose name matches (all by
 * default), to look at one figure closely. */
static bool wanted(const char *group)
{
	return wanted_in("bench_only", group);
}

/* ---- text patching (kernel/patch.c, jump_label.c) ---- */

DEFINE_STATIC_KEY_FALSE(bench_key);

/* The key's one site, called once so that it is not dead code. */
static __attribute__((noinline)) int bench_key_site(void)
{
	return static_branch_unlikely(&bench_key) ? 1 : 0;
}

/*
 * patch_text: one 4-byte site (a nop over a nop nobody runs) through
 * stop_machine() on every online hart, the figure Linux's kprobe arming
 * (kprobe_arm_stop_machine, ../shared/peers/linux) is compared with.
 * static_key_flip: static_branch_enable()/disable() alternately of a key
 * with one site. One row each per boot: patching always stops every
 * online hart, so harts is the boot's SMP. At most 300 samples each.
 */
static void bench_patch(void)
{
	const uint32_t nop = RISCV_INSN_NOP;
	int online = num_online_cpus(), it = min(iters, 300), n = 0;
	for (int i = -5; i < it; i++) {
		uint64_t t0 = get_cycles();
		int rc = patch_text(patch_timing_site, &nop, 4);
		if (failed("patch_text", rc))
			return;
		if (i >= 0)
			samples[n++] = get_cycles() - t0;
	}
	report("patch_text", online, n);
	n = 0;
	for (int i = -4; i < it; i++) {
		uint64_t t0 = get_cycles();
		int rc = i & 1 ? static_branch_disable(&bench_key)
			       : static_branch_enable(&bench_key);
		if (failed("static_key_flip", rc))
			return;
		if (i >= 0)
			samples[n++] = get_cycles() - t0;
	}
	/* Off again, and its one site agrees. */
	int rc = static_branch_disable(&bench_key);
	if (failed("static_key_flip", rc ? rc : bench_key_site()))
		return;
	report("static_key_flip", online, n);
}

/* Thread context, may sleep; every online hart takes part. */
void bench_run(int n)
{
	iters = max(10, min(n, 100000));
	samples = kzalloc(sizeof(uint64_t) * (size_t)(5 * iters + 64)); /* wake_pingpong_rtt's */
	if (!samples)
		panic("bench: no memory for %d samples", iters);
	set_cpus_allowed_ptr(current, cpu_online_mask);
	bench_errors = 0;
	console_printf("BENCH_START harts=%d iters=%d ipi=%s timebase_hz=%u\n", num_online_cpus(),
		       iters, ipi_path_name(), timebase_hz);
	console_printf("  %-28s %5s %10s %10s %10s %10s %6s %8s\n", "name", "harts", "median_ns",
		       "p90_ns", "p99_ns", "max_ns", "n", "med_tick");
	enum ipi_path direct = ipi_hw_direct_path();
	enum ipi_path boot_path = ipi_path();
	if (wanted("ipi_rtt")) {
		bench_ipi_rtt("ipi_rtt_sbi", IPI_PATH_SBI, false);
		if (direct != IPI_PATH_SBI)
			bench_ipi_rtt("ipi_rtt_direct", direct, false);
		bench_ipi_rtt("ipi_rtt", boot_path, false); /* the path this boot uses */
		bench_ipi_rtt("ipi_rtt_idle", boot_path, true);
		ipi_hw_set_path(boot_path);
	}
	if (wanted("wakeup_remote"))
		bench_wakeup_remote();
	if (wanted("wake_pingpong_rtt"))
		bench_wake_pingpong();
	if (wanted("ctxsw"))
		bench_ctxsw();
	if (wanted("stop_one_cpu"))
		bench_stop_one_cpu();
	if (wanted("stop_nowait_tput")) {
		bench_nowait_tput("stop_nowait_tput", false);
		bench_nowait_tput("stop_nowait_tput_spread", true);
	}
	if (wanted("stop_two_cpus"))
		bench_stop_two_cpus();
	if (wanted("stop_machine"))
		bench_stop_machine();
	if (wanted("migrate_running"))
		bench_migrate_running();
	if (wanted("lock"))
		bench_lock();
	char only[8];
	/* Only when asked for by name: it prints hundreds of lines. */
	if (cmdline_get("bench_only", only, sizeof(only)) && wanted("trace"))
		bench_trace();
	if (wanted("patch"))
		bench_patch();
	console_printf("BENCH_END errors=%d\n", bench_errors);
	kfree(samples);
	samples = NULL;
}
