/*
 * qspinlock.c - the queued spinlock's slow path: an MCS queue of per-cpu
 * nodes (Linux's qspinlock), and waiting that halts in `wfi` until
 * kicked by an IPI (the idea of Linux's paravirt pv_wait()/pv_kick(), on
 * RISC-V hardware rather than a hypervisor).
 *
 * Why: when harts outnumber the host's cores (QEMU here, an overcommitted
 * hypervisor elsewhere), a waiter that spins takes a core from the hart
 * it waits for. Under the ticket lock every waiter watches one word, and
 * a hand-off waits until the single hart whose ticket is served happens
 * to be scheduled. Here the waiters form a queue. Only its head watches
 * the lock word; each other waiter watches its own node, on its own cache
 * line. Past a short spin budget (cpu_wait.h) each of them halts. It is
 * kicked by exactly one hart: the head by the unlock, a queued waiter by
 * the head ahead of it when that one takes the lock. So an unlock wakes
 * at most one hart, and the next head is woken while the lock is still
 * held, to be running when it is released.
 *
 * The queue. A waiter takes its hart's next free node (a task and the
 * interrupt handler that interrupts its wait each need one: MAX_NODES
 * per hart), swaps the node into the lock word's tail and links it
 * behind the old tail, then waits until its node's `locked` is set: it
 * is the head. The head waits until the locked byte is 0, then sets it
 * (alone in the queue: clears the tail at the same time), passes
 * headship to the next node, and is done with its node.
 *
 * Ordering (RVWMO), each pair named where it is used:
 * - Lock and unlock: the unlock's release store of the locked byte is
 *   read by the head's acquire load (or the fast path's acquire CAS), so
 *   a critical section sees everything the previous one wrote.
 * - A node is initialised before the release CAS that publishes it as
 *   the tail. The successor that reads that tail writes node->next
 *   through an address computed from it (an address dependency), so its
 *   link lands after our initialisation, never under it.
 * - Headship: release store of next->locked, acquire load by its owner.
 *
 * How a kick is never lost. Every halt here is a cpu_wait halt
 * (cpu_wait.h): the waiter, interrupts masked, stores which word it
 * waits on (per-cpu wait_on), executes a full fence (the amoadd.aqrl of
 * cpu_wait_halt_begin()), reads its condition once more, and only then
 * executes `wfi`. A kicker stores the condition, executes a full fence,
 * then reads the waiter's wait_on and sends IPI_KICK if it names the
 * word (cpu_wait_kick_if()). That is the store-buffering shape with a
 * full fence on each side: either the waiter's re-read sees the store,
 * or the kicker's read sees the waiter registered. A kick that arrives
 * between the re-read and `wfi` stays pending (interrupts are masked)
 * and `wfi` returns at once.
 * The head adds one step: the unlocker does not know which hart is the
 * head, so before it halts the head also stores its cpu in l->head, ahead
 * of the same fence. An unlocker that reads a stale l->head (0, or a
 * former head's) reads it after its own fence, so by the same argument
 * the halting head's re-read sees the unlocked byte; and wait_on tells
 * whether the hart it names is halted on this lock at all.
 *
 * Context: any, preemption off (spin_lock() disabled it): the node is
 * this hart's. Interrupts may be on; the swap-and-link step runs with
 * them off, so that a head waiting for our link never waits for our
 * interrupt handlers.
 */
#include "cpu_wait.h"
#include "percpu.h"
#include "qspinlock.h"
#include "smp.h"
#include "spinlock_internal.h"

/* A task, and the interrupt that interrupts its wait (and two spare). */
#define MAX_NODES 4

struct qnode {
	struct qnode *next; /* the waiter queued behind us, once it has linked */
	uint32_t locked;    /* 1: we are the head of the queue */
	int cpu;
	int count; /* node 0 only: nodes in use on this hart */
} __attribute__((aligned(64)));

static DEFINE_PER_CPU(struct qnode, qnodes[MAX_NODES]);
static DEFINE_PER_CPU(unsigned long, qstats[NR_QSTATS]);

unsigned long qspinlock_stat(int cpu, enum qstat stat)
{
	return READ_ONCE(per_cpu(qstats[stat], cpu));
}

static inline uint32_t encode_tail(int cpu, int idx)
{
	return ((uint32_t)(cpu + 1) << Q_TAIL_CPU_OFFSET) | ((uint32_t)idx << Q_TAIL_IDX_OFFSET);
}

static struct qnode *decode_tail(uint32_t tail)
{
	int cpu = (int)(tail >> Q_TAIL_CPU_OFFSET) - 1;
	int idx = (int)(tail >> Q_TAIL_IDX_OFFSET) & (MAX_NODES - 1);
	return per_cpu_ptr(&qnodes[idx], cpu);
}

/* Put our tail in the word, keeping the locked byte; the old word. The
 * release publishes our node's initialisation (see the top). */
static uint32_t xchg_tail(spinlock_t *l, uint32_t tail)
{
	uint32_t old = READ_ONCE(l->val);
	for (;;) {
		uint32_t seen = cmpxchg32_release(&l->val, old, (old & ~Q_TAIL_MASK) | tail);
		if (seen == old)
			return old;
		old = seen;
	}
}

/* prev halted waiting to be made head, and not made head yet. */
static bool prev_halted(struct qnode *prev)
{
	return cpu_wait_waiting_on(prev->cpu) == &prev->locked && !READ_ONCE(prev->locked);
}

/*
 * Queued behind another waiter: until the node ahead makes us the head.
 * Spinning pays only while the hart ahead can become head soon: a waiter
 * whose predecessor has itself halted in the queue (not as its head,
 * which the unlock kicks) cannot be made head before that one is woken,
 * so it halts at once (Linux's pv_wait_early()). In a long queue, then,
 * only the head and the hart behind it spin; every later waiter halts on
 * arrival and leaves the host's cores to the holder.
 */
static void wait_node(spinlock_t *l, struct qnode *node, struct qnode *prev,
		      struct spin_wait_watch *ww)
{
	struct cpu_wait w = {0, 0};
	unsigned int loop = 0;
	while (!smp_load_acquire(&node->locked)) {
		if (!cpu_wait_should_halt(&w) && ((++loop & 7) || !prev_halted(prev))) {
			cpu_relax();
			continue;
		}
		cpu_wait_halt_unless(&w, &node->locked, smp_load_acquire(&node->locked));
		spin_wait_watch(l, ww);
	}
}

/* The head: until the holder leaves. Returns the lock word, locked byte
 * 0, read with acquire. Publishes us in l->head before halting (the
 * unlocker's half is queued_spin_unlock()), and clears it once done. */
static uint32_t wait_head(spinlock_t *l, int cpu, struct spin_wait_watch *ww)
{
	struct cpu_wait w = {0, 0};
	bool published = false;
	uint32_t val;
	while ((val = smp_load_acquire(&l->val)) & Q_LOCKED_MASK) {
		if (!cpu_wait_should_halt(&w)) {
			cpu_relax();
			continue;
		}
		if (!published) {
			/* Before the fence in cpu_wait_halt_begin(). */
			WRITE_ONCE(l->head, (int16_t)(cpu + 1));
			published = true;
		}
		cpu_wait_halt_unless(&w, &l->val, !(smp_load_acquire(&l->val) & Q_LOCKED_MASK));
		spin_wait_watch(l, ww);
	}
	if (published)
		WRITE_ONCE(l->head, 0); /* nobody else is head until we pass it on */
	return val;
}

void queued_spin_lock_slowpath(spinlock_t *l)
{
	struct qnode *nodes = this_cpu_ptr(&qnodes[0]), *node;
	int idx = nodes->count++;
	struct spin_wait_watch ww;
	this_cpu(qstats[QSTAT_SLOWPATH])++;
	if (unlikely(idx >= MAX_NODES)) {
		/* Deeper than a task and its interrupts: cannot happen here, but
		 * if it does, spin without a node rather than corrupt one. */
		while (!queued_spin_trylock(l))
			cpu_relax();
		goto release;
	}
	if (idx)
		this_cpu(qstats[QSTAT_NESTED])++;
	node = nodes + idx;
	/* The count before the node's fields: an interrupt that arrives
	 * meanwhile and takes a lock uses the next node. */
	barrier();
	node->locked = 0;
	node->next = NULL;
	node->cpu = smp_processor_id();

	/* The holder may have gone while we got ready. */
	if (queued_spin_trylock(l))
		goto release;

	spin_wait_watch_start(&ww);
	uint32_t tail = encode_tail(node->cpu, idx);
	unsigned long flags = local_irq_save();
	uint32_t old = xchg_tail(l, tail);
	struct qnode *prev = NULL;
	if (old & Q_TAIL_MASK) {
		prev = decode_tail(old);
		WRITE_ONCE(prev->next, node);
	}
	local_irq_restore(flags);

	if (prev) {
		/* prev may be the head holding the lock and waiting for this
		 * link (below); kick it if it halted for it. */
		cpu_wait_kick_if(prev->cpu, &prev->next);
		wait_node(l, node, prev, &ww);
	}

	uint32_t val = wait_head(l, node->cpu, &ww);
	/*
	 * Take the lock. Last in the queue: take it and empty the tail in
	 * one CAS (failing if someone queued meanwhile). Otherwise set the
	 * locked byte with a plain store: only the head sets it, since the
	 * fast path and trylock need the whole word 0 and the tail is not.
	 * Acquire: wait_head()'s load, or the CAS.
	 */
	while ((val & Q_TAIL_MASK) == tail) {
		uint32_t seen = cmpxchg32_acquire(&l->val, val, Q_LOCKED_VAL);
		if (seen == val)
			goto release;
		val = seen;
	}
	WRITE_ONCE(l->locked, Q_LOCKED_VAL);

	/* Someone is behind us: it has swapped the tail and is about to link
	 * (interrupts off), so this wait is short unless its hart is not
	 * running; then halt until its link kicks us. */
	struct qnode *next = smp_cond_load_acquire(&node->next, VAL != NULL);
	smp_store_release(&next->locked, 1);
	cpu_wait_kick_if(next->cpu, &next->locked);
release:
	nodes->count--;
}
