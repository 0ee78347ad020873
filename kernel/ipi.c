/*
 * ipi.c - IPI reasons: the pending bitmaps, sending and handling.
 *
 * OpenSBI 1.1 drops an IPI sent to a hart that is not STARTED yet, and
 * a direct doorbell rung before the target enabled SSIE may be lost too;
 * the reason bit survives in ipi_pending, and each hart calls
 * ipi_interrupt() once itself right after enabling its interrupts.
 */
#include <string.h>
#include "console.h"
#include "cpu_wait.h"
#include "ipi.h"
#include "kernel.h"
#include "ktime.h"
#include "percpu.h"
#include "preempt.h"
#include "riscv.h"
#include "sbi.h"
#include "sched.h"
#include "smp.h"
#include "trap.h"
#include "cmdline.h"
#include "ipi_hw.h"

DEFINE_PER_CPU(unsigned long, ipi_pending);
DEFINE_PER_CPU(unsigned long, ipi_received[NR_IPI]);
DEFINE_PER_CPU(unsigned long, ipi_sent);
DEFINE_PER_CPU(unsigned long, ipi_irqs);
static enum ipi_path path = IPI_PATH_SBI;
void (*ipi_test_hook)(void);

static const char *const path_names[] = {
	[IPI_PATH_SBI] = "SBI",
	[IPI_PATH_SSWI] = "ACLINT SSWI",
	[IPI_PATH_IMSIC] = "IMSIC",
};

const char *ipi_path_name(void)
{
	return path_names[path];
}

enum ipi_path ipi_path(void)
{
	return path;
}

void ipi_init(void)
{
	char want[8] = "";
	cmdline_get("ipi", want, sizeof(want));
	bool force_sbi = want[0] == 's';
	path = IPI_PATH_SBI;
	if (dt.imsic_s.present && dt.imsic_s.ipi_id)
		path = IPI_PATH_IMSIC;
	else if (dt.aclint_sswi.present)
		path = IPI_PATH_SSWI;
	/* A direct path must reach every possible hart, or none use it. */
	int cpu;
	for_each_possible_cpu(cpu) {
		const struct dt_cpu *c = cpu_dt(cpu);
		if ((path == IPI_PATH_IMSIC && c->imsic_s_index < 0) ||
		    (path == IPI_PATH_SSWI && c->sswi_index < 0)) {
			pr_warn("ipi: hart %lu has no %s entry; using SBI", c->hartid,
				path_names[path]);
			path = IPI_PATH_SBI;
			break;
		}
	}
	enum ipi_path direct = path;
	if (force_sbi)
		path = IPI_PATH_SBI;
	ipi_hw_init(direct, path);
	pr_info("ipi: delivery through %s%s", path_names[path], force_sbi ? " (forced)" : "");
}

void ipi_init_this_cpu(void)
{
	ipi_hw_init_this_cpu();
	csr_set(sie, SIE_SSIE);
}

void send_ipi_mask(const cpumask_t *mask, enum ipi_reason reason)
{
	int cpu;
	/* The reason is visible before the doorbell: the fence in the
	 * atomic (seq_cst) orders it before the MMIO or ecall below. */
	for_each_cpu(cpu, mask)
		__atomic_fetch_or(&per_cpu(ipi_pending, cpu), 1UL << reason, __ATOMIC_SEQ_CST);
	/* A statistic: counted on the sender's hart of a moment ago (raw). */
	__atomic_fetch_add(raw_cpu_ptr(&ipi_sent), (unsigned long)cpumask_weight(mask),
			   __ATOMIC_RELAXED);
	ipi_hw_send_mask(mask);
}

/*
 * RESCHEDULE IPIs asked for inside a critical section are rung when it
 * ends: a woken hart's first steps take the locks its waker holds (its
 * own rq->lock, the completion's wait lock), and on QEMU the doorbell
 * returns to the sender later than the IPI reaches the target, which then
 * spins on those locks for tens of microseconds (the wake-up latency this
 * was measured at: 60 of 100 us). Deferred only while the sender cannot
 * be preempted, and rung before it can be (resched_ipi_flush() runs
 * first wherever the preempt count drops to 0, at interrupt exit, in
 * __schedule() and before any halt): the stopper rule "remote stoppers
 * are woken before the local one can preempt the queuer" still holds.
 */
static DEFINE_PER_CPU(cpumask_t, resched_deferred_mask);
DEFINE_PER_CPU(int, resched_deferred);

/**
 * send_resched_ipi() - tell @cpu to reschedule, now or when we may be preempted.
 * @cpu: the target hart, not ours.
 *
 * Context: any. With the preempt count raised or interrupts off the IPI is
 * rung by this hart's next resched_ipi_flush(), which comes before this
 * hart can switch tasks or halt.
 * Return: Nothing.
 */
void send_resched_ipi(int cpu)
{
	if (preempt_count() == 0 && !irqs_disabled()) {
		send_ipi(cpu, IPI_RESCHEDULE);
		return;
	}
	/* Not preemptible: this hart stays ours until the flush. */
	cpumask_set_cpu(cpu, this_cpu_ptr(&resched_deferred_mask));
	WRITE_ONCE(this_cpu(resched_deferred), 1);
}

/* resched_ipi_flush()'s slow path (ipi.h): something was deferred. */
void __resched_ipi_flush(void)
{
	unsigned long flags = local_irq_save();
	if (this_cpu(resched_deferred)) {
		cpumask_t m;
		cpumask_copy(&m, this_cpu_ptr(&resched_deferred_mask));
		cpumask_clear(this_cpu_ptr(&resched_deferred_mask));
		WRITE_ONCE(this_cpu(resched_deferred), 0);
		send_ipi_mask(&m, IPI_RESCHEDULE);
	}
	local_irq_restore(flags);
}

void send_ipi(int cpu, enum ipi_reason reason)
{
	cpumask_t m;
	cpumask_clear(&m);
	cpumask_set_cpu(cpu, &m);
	send_ipi_mask(&m, reason);
}

__noreturn static void ipi_stop(void)
{
	local_irq_disable();
	cpumask_clear_cpu_atomic(smp_processor_id(), cpu_online_mask);
	for (;;)
		wfi();
}

/*
 * All-harts backtraces. Each asked hart only takes a snapshot of itself in
 * its IPI handler (task, interrupted pc, return addresses) and the asking
 * hart prints them all: a handler that printed would have to queue for
 * the console with interrupts off, and 127 harts doing that on two host
 * cores took minutes.
 */
#define BT_DEPTH 16
struct cpu_backtrace {
	char comm[TASK_COMM_LEN];
	int pid, depth;
	unsigned long pc, ra[BT_DEPTH];
};
static DEFINE_PER_CPU(struct cpu_backtrace, cpu_backtrace);
static cpumask_t backtrace_wanted; /* asked, and not answered yet */

static void ipi_backtrace(void)
{
	int cpu = smp_processor_id();
	if (!cpumask_test_cpu(cpu, &backtrace_wanted))
		return;
	struct cpu_backtrace *bt = this_cpu_ptr(&cpu_backtrace);
	struct pt_regs *regs = get_irq_regs();
	struct task_struct *p = current;
	memcpy(bt->comm, p->comm, sizeof(bt->comm));
	bt->pid = p->pid;
	bt->pc = regs ? regs->epc : 0;
	bt->depth = regs ? save_backtrace(regs->s0, bt->ra, BT_DEPTH) : 0;
	cpumask_clear_cpu_atomic(cpu, &backtrace_wanted); /* release: the record is complete */
	smp_cond_wake(&backtrace_wanted);
}

int trigger_all_cpu_backtrace(unsigned int wait_ms, cpumask_t *silent)
{
	cpumask_t others;
	char mask[40];
	/* Stay on this hart while asking the others (as Linux does): the
	 * one left out must be the one that waits. */
	int me = get_cpu();
	cpumask_copy(&others, cpu_online_mask);
	cpumask_clear_cpu(me, &others);
	if (silent)
		cpumask_clear(silent);
	if (cpumask_empty(&others)) {
		put_cpu();
		return 0;
	}
	for (int cpu = 0; cpu < NR_CPUS; cpu++)
		if (cpumask_test_cpu(cpu, &others))
			cpumask_set_cpu_atomic(cpu, &backtrace_wanted);
	send_ipi_mask(&others, IPI_BACKTRACE);
	uint64_t end = get_cycles() + (uint64_t)timebase_hz * wait_ms / 1000;
	struct cpu_wait w = {0, 0};
	/* Each answer kicks us (ipi_backtrace()); a halt also ends at our
	 * next tick, which bounds the wait for those that never answer. */
	while (!cpumask_empty(&backtrace_wanted) && get_cycles() < end) {
		if (cpu_wait_should_halt(&w))
			cpu_wait_halt_unless(&w, &backtrace_wanted,
					     cpumask_empty(&backtrace_wanted));
		else
			cpu_relax();
	}
	smp_mb(); /* read the records after seeing their harts answer */
	int cpu;
	for_each_cpu(cpu, &others) {
		if (cpumask_test_cpu(cpu, &backtrace_wanted))
			continue;
		const struct cpu_backtrace *bt = per_cpu_ptr(&cpu_backtrace, cpu);
		console_printf("cpu%d (hart %lu): running %.*s/%d, interrupted at:\n", cpu,
			       cpu_to_hartid(cpu), TASK_COMM_LEN, bt->comm, bt->pid);
		print_backtrace(bt->pc, bt->ra, bt->depth);
	}
	int n = cpumask_weight(&backtrace_wanted);
	if (n)
		console_printf("harts that did not answer in %u ms (interrupts off?): cpus %s\n",
			       wait_ms, cpumask_format(&backtrace_wanted, mask, sizeof(mask)));
	if (silent)
		cpumask_copy(silent, &backtrace_wanted);
	cpumask_clear(&backtrace_wanted);
	put_cpu();
	return n;
}

/*
 * The doorbell is cleared (sip.SSIP here; the IMSIC identity was claimed
 * by irqchip_handle()) before the pending word is taken, and the fence
 * keeps that order: if the swap below were performed before the clear,
 * a sender could set its reason bit after our swap and ring between the
 * swap and the clear, and the clear would erase its doorbell: the reason
 * would sit in the word until some unrelated IPI arrived. With the clear
 * first, such a reason either is in our swap or rings a fresh doorbell.
 * (The sender's side of the pairing: its AMO on the word is ordered
 * before its doorbell, see send_ipi_mask().)
 */
void ipi_interrupt(void)
{
	ipi_hw_clear();
	__asm__ volatile("fence iorw, iorw" ::: "memory");
	this_cpu(ipi_irqs)++;
	unsigned long pending =
		__atomic_exchange_n(this_cpu_ptr(&ipi_pending), 0, __ATOMIC_ACQUIRE);
	for (int r = 0; r < NR_IPI; r++) {
		if (!(pending & (1UL << r)))
			continue;
		this_cpu(ipi_received[r])++;
		switch (r) {
		case IPI_RESCHEDULE:
			/* need_resched is set already: the way out of this
			 * interrupt (or the idle loop it woke) reschedules. */
			break;
		case IPI_CALL_FUNCTION:
			generic_smp_call_function_interrupt();
			break;
		case IPI_TEST:
			if (ipi_test_hook)
				ipi_test_hook();
			break;
		case IPI_BACKTRACE:
			ipi_backtrace();
			break;
		case IPI_STOP:
			ipi_stop();
		case IPI_KICK: /* it woke the hart from a cpu wait: all it had to do */
		default:
			break;
		}
	}
	if (pending & (1UL << IPI_KICK))
		sched_tick_check(); /* maybe a second task arrived (activate_task()) */
}

/*
 * A hart woke from a cpu wait's wfi with interrupts off (cpu_wait.c). If
 * its doorbell rang, take the kick in place; any other reason that came
 * with it stays in the word and the doorbell is rung again for it, so the
 * interrupt still comes once interrupts are back on. A reason whose bit
 * is set after the fetch below rings its own doorbell after that (the
 * same order as in ipi_interrupt()).
 */
void ipi_absorb_kick(void)
{
	if (!ipi_hw_take())
		return;
	__asm__ volatile("fence iorw, iorw" ::: "memory");
	unsigned long old = __atomic_fetch_and(this_cpu_ptr(&ipi_pending), ~(1UL << IPI_KICK),
					       __ATOMIC_ACQ_REL);
	if (old & (1UL << IPI_KICK))
		this_cpu(ipi_received[IPI_KICK])++;
	if (old & ~(1UL << IPI_KICK))
		ipi_hw_raise_self();
}

void smp_send_stop(void)
{
	cpumask_t others;
	cpumask_copy(&others, cpu_online_mask);
	cpumask_clear_cpu(smp_processor_id(), &others);
	if (cpumask_empty(&others))
		return;
	send_ipi_mask(&others, IPI_STOP);
	/* Give them a moment; a hart spinning with interrupts off never
	 * answers, and the panic must go on regardless. The one wait for
	 * another hart that spins rather than halts (cpu_wait.h): in a
	 * panic the tick may be what broke, and nobody would kick us. */
	uint64_t end = get_cycles() + timebase_hz / 10;
	while (num_online_cpus() > 1 && get_cycles() < end)
		cpu_relax();
}

unsigned long ipi_count_received(int cpu, enum ipi_reason reason)
{
	return READ_ONCE(per_cpu(ipi_received[reason], cpu));
}

unsigned long ipi_count_sent(int cpu)
{
	return READ_ONCE(per_cpu(ipi_sent, cpu));
}

unsigned long ipi_count_irqs(int cpu)
{
	return READ_ONCE(per_cpu(ipi_irqs, cpu));
}
