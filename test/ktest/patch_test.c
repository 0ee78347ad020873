/*
 * patch_test.c - the patch suite: patch_text() and patch_text_nosync()
 * on 4-byte, 2-byte and page-straddling sites; a static key flipped
 * while every hart runs its sites; counting probes with exact per-hart
 * hit counts; and the refusals (no-patch text, bad arguments, warned).
 *
 * The sites are hand-written functions (below, in assembly) so that the
 * instructions and their sizes and places are known exactly.
 */
#include <string.h>
#include "jump_label.h"
#include "mm.h"
#include "patch.h"
#include "probe.h"
#include "sched_helpers.h"
#include "stop_machine.h"
#include "trap.h"
#include "kernel/stop_machine_internal.h"

/*
 * patch_test_word_fn:	 li a0, 1; [site: nop]; ret         (site 4-aligned)
 * patch_test_c_fn:	 [c.li a0, 1]; [c.nop]; ret          (two 2-byte sites,
 *			 the first at 2 mod 4)
 * patch_test_straddle_fn: li a0, 1; c.nop; [addi a0, a0, 0]; ret, the
 *			 addi starting 2 bytes before a page boundary
 * patch_test_pcrel_fn:	 auipc a0, 0; jal x0, 1f; 1: ret  (not probeable)
 */
__asm__(".pushsection .text.patch_test, \"ax\"\n"
	"	.option push\n"
	"	.option norelax\n"
	"	.option norvc\n"
	"	.balign 8\n"
	"	.globl patch_test_word_fn, patch_test_word_site\n"
	"patch_test_word_fn:\n"
	"	li a0, 1\n"
	"patch_test_word_site:\n"
	"	nop\n"
	"	ret\n"
	"	.option rvc\n"
	"	.balign 4\n"
	"	c.nop\n" /* so that patch_test_c_fn is 2 mod 4 */
	"	.globl patch_test_c_fn, patch_test_c_site\n"
	"patch_test_c_fn:\n"
	"	c.li a0, 1\n"
	"patch_test_c_site:\n"
	"	c.nop\n"
	"	c.jr ra\n"
	"	.option norvc\n"
	"	.balign 4\n"
	"	.globl patch_test_pcrel_fn\n"
	"patch_test_pcrel_fn:\n"
	"	auipc a0, 0\n"
	"	jal x0, 1f\n"
	"1:	ret\n"
	"	.balign 4096\n"
	"	.skip 4096 - 8\n"
	"	.globl patch_test_straddle_fn, patch_test_straddle_site\n"
	"patch_test_straddle_fn:\n"
	"	li a0, 1\n"
	"	.option rvc\n"
	"	c.nop\n"
	"	.option norvc\n"
	"patch_test_straddle_site:\n"
	"	addi a0, a0, 0\n"
	"	ret\n"
	"	.option pop\n"
	"	.popsection\n");
int patch_test_word_fn(void);
int patch_test_c_fn(void);
int patch_test_straddle_fn(void);
void patch_test_pcrel_fn(void);
extern char patch_test_word_site[], patch_test_c_site[], patch_test_straddle_site[];

static uint32_t insn_addi_a0(int imm)
{
	return (uint32_t)(imm & 0xfff) << 20 | 10u << 15 | 10u << 7 | 0x13;
}

static uint16_t insn_c_addi_a0(int imm)
{
	return (uint16_t)((imm & 0x20) << 7 | 10u << 7 | (imm & 0x1f) << 2 | 1);
}

/* ---- patch_text() and patch_text_nosync() ---- */

/*
 * Past 16 harts a patch under load is a rendezvous whose RUN state holds
 * every hart until the slowest has arrived and the writer has written
 * (two rounds of wake-ups where a no-op stop_machine() has one): on 128
 * vCPUs over a loaded 2-core host it can outlast the stall watchdog's
 * 1 s (make test saw 1.5 s once) with nothing stuck, and so can a
 * single patch without load (make test saw 1.03 s in the refusals case's
 * probe_add()). The cases that patch allow 10 s there, as the stop_machine suite sets its
 * own limits; hang_panic= still catches a real hang. A failed ASSERT
 * skips the restore: the case has failed anyway.
 */
static uint64_t watchdog_relax(void)
{
	uint64_t saved = stop_watchdog_ticks;
	if (num_online_cpus() > 16)
		stop_watchdog_ticks = max(saved, (uint64_t)timebase_hz * 10);
	return saved;
}

/*
 * Rewrite the naturally aligned `len`-byte site of fn to insn and back to
 * orig, first under stop_machine() (patch_text()), then with one store
 * (patch_text_nosync()), checking each time that fn returns what the
 * instruction in place makes it return (was with orig, now with insn).
 * insn and orig are in the low `len` bytes (RISC-V is little-endian).
 */
static void patch_site_both_ways(struct ktest *t, void *site, size_t len, uint32_t insn,
				 uint32_t orig, int (*fn)(void), int was, int now)
{
	uint64_t saved_watchdog = watchdog_relax();
	ASSERT_EQ(t, fn(), was);
	ASSERT_EQ(t, patch_text(site, &insn, len), 0);
	EXPECT_EQ(t, len == 4 ? *(volatile uint32_t *)site : *(volatile uint16_t *)site, insn);
	EXPECT_EQ(t, fn(), now);
	ASSERT_EQ(t, patch_text(site, &orig, len), 0);
	EXPECT_EQ(t, fn(), was);
	ASSERT_EQ(t, patch_text_nosync(site, &insn, len), 0);
	EXPECT_EQ(t, fn(), now);
	ASSERT_EQ(t, patch_text_nosync(site, &orig, len), 0);
	EXPECT_EQ(t, fn(), was);
	stop_watchdog_ticks = saved_watchdog;
}

static void patch_word_site(struct ktest *t)
{
	/* One store does for nosync: the site is 4-aligned. */
	patch_site_both_ways(t, patch_test_word_site, 4, insn_addi_a0(5), RISCV_INSN_NOP,
			     patch_test_word_fn, 1, 6);
}

static void store_nop(void *p)
{
	*(volatile uint32_t *)p = RISCV_INSN_NOP; /* what is there already */
}

/* W^X: the kernel map never made text writable; only the alias wrote. */
static void patch_text_stays_read_only(struct ktest *t)
{
	struct fault_record rec;
	ASSERT_TRUE(t, call_catching_fault(store_nop, patch_test_word_site, &rec));
	EXPECT_EQ(t, rec.cause, EXC_STORE_PAGE_FAULT);
	EXPECT_EQ(t, rec.tval, (uintptr_t)patch_test_word_site);
	/* And the alias window is unmapped again. */
	EXPECT_FALSE(t, kernel_page_present(TEXT_ALIAS_BASE));
	EXPECT_FALSE(t, kernel_page_present(TEXT_ALIAS_BASE + PAGE_SIZE));
}

static void patch_compressed_site(struct ktest *t)
{
	patch_site_both_ways(t, patch_test_c_site, 2, insn_c_addi_a0(2), 0x0001 /* c.nop */,
			     patch_test_c_fn, 1, 3);
}

static void patch_straddling_site(struct ktest *t)
{
	uint64_t saved_watchdog = watchdog_relax();
	uintptr_t site = (uintptr_t)patch_test_straddle_site;
	ASSERT_EQ(t, ALIGN_UP(site, PAGE_SIZE) - site, 2);
	ASSERT_EQ(t, patch_test_straddle_fn(), 1);
	for (int imm = 41; imm <= 43; imm++) {
		uint32_t insn = insn_addi_a0(imm);
		ASSERT_EQ(t, patch_text(patch_test_straddle_site, &insn, 4), 0);
		EXPECT_EQ(t,
			  (uint32_t)(*(volatile uint16_t *)site | *(volatile uint16_t *)(site + 2)
									  << 16),
			  insn);
		EXPECT_EQ(t, patch_test_straddle_fn(), 1 + imm);
	}
	uint32_t orig = insn_addi_a0(0);
	ASSERT_EQ(t, patch_text(patch_test_straddle_site, &orig, 4), 0);
	EXPECT_EQ(t, patch_test_straddle_fn(), 1);
	stop_watchdog_ticks = saved_watchdog;
}

/* ---- refusals ---- */

static void patch_refuses_bad_and_nopatch(struct ktest *t)
{
	uint64_t saved_watchdog = watchdog_relax();
	uint32_t nop = RISCV_INSN_NOP;
	static const uint32_t data_word = 0x13;
	ktest_expect_warn(t, "bad site", 4);
	EXPECT_EQ(t, patch_text(NULL, &nop, 4), -EINVAL);
	EXPECT_EQ(t, patch_text(patch_test_word_site, NULL, 4), -EINVAL);
	EXPECT_EQ(t, patch_text(patch_test_word_site, &nop, 0), -EINVAL);
	EXPECT_EQ(t, patch_text(patch_test_word_site + 1, &nop, 4), -EINVAL);
	ktest_expect_warn(t, "is not kernel text", 2);
	EXPECT_EQ(t, patch_text((void *)&data_word, &nop, 4), -EINVAL);
	EXPECT_EQ(t, patch_text((void *)((uintptr_t)__text_end - 2), &nop, 4), -EINVAL);
	ktest_expect_warn(t, "not one aligned instruction", 1);
	ASSERT_EQ(t, (uintptr_t)patch_test_c_fn % 4, 2);
	EXPECT_EQ(t, patch_text_nosync(patch_test_c_fn, &nop, 4), -EINVAL); /* one store? no */
	/* No-patch: the trap path, the rendezvous, the patcher itself. */
	ktest_expect_warn(t, "no-patch text", 6);
	EXPECT_EQ(t, patch_text((void *)do_trap, &nop, 4), -EPERM);
	EXPECT_EQ(t, patch_text((void *)multi_cpu_stop, &nop, 4), -EPERM);
	EXPECT_EQ(t, patch_text((void *)cpu_wait_halt_wfi, &nop, 4), -EPERM);
	EXPECT_EQ(t, patch_text((void *)text_alias_map, &nop, 4), -EPERM);
	EXPECT_EQ(t, patch_text_nosync((void *)do_trap, &nop, 4), -EPERM);
	EXPECT_EQ(t, probe_add((unsigned long)do_trap), -EPERM);
	/* Probes: pc-relative instructions, bad addresses, doubles. */
	ktest_expect_warn(t, "cannot run", 2);
	EXPECT_EQ(t, probe_add((unsigned long)patch_test_pcrel_fn), -EINVAL);	  /* auipc */
	EXPECT_EQ(t, probe_add((unsigned long)patch_test_pcrel_fn + 4), -EINVAL); /* jal */
	ktest_expect_warn(t, "not an instruction of kernel text", 2);
	EXPECT_EQ(t, probe_add((unsigned long)&data_word), -EINVAL);
	EXPECT_EQ(t, probe_add((unsigned long)patch_test_word_site + 1), -EINVAL);
	ktest_expect_warn(t, "no probe at", 1);
	EXPECT_EQ(t, probe_del((unsigned long)patch_test_word_site), -ENOENT);
	ktest_expect_warn(t, "already has a probe", 1);
	ASSERT_EQ(t, probe_add((unsigned long)patch_test_word_site), 0);
	EXPECT_EQ(t, probe_add((unsigned long)patch_test_word_site), -EEXIST);
	EXPECT_EQ(t, probe_del((unsigned long)patch_test_word_site), 0);
	ktest_expect_warn(t, "is not a static key", 1);
	EXPECT_EQ(t, static_key_enable(NULL), -EINVAL);
	/* Nothing changed. */
	EXPECT_EQ(t, *(volatile uint32_t *)patch_test_word_site, RISCV_INSN_NOP);
	EXPECT_EQ(t, patch_test_word_fn(), 1);
	stop_watchdog_ticks = saved_watchdog;
}

/* ---- a static key flipped under every hart ---- */

DEFINE_STATIC_KEY_FALSE(patch_test_key);

/* Two sites of the key, of both kinds: 0 while it is off, 3 while on. */
static __attribute__((noinline)) int key_site_unlikely(void)
{
	if (static_branch_unlikely(&patch_test_key))
		return 1;
	return 0;
}

static __attribute__((noinline)) int key_site_likely(void)
{
	if (static_branch_likely(&patch_test_key))
		return 2;
	return 0;
}

static struct {
	int seq;  /* odd while a flip is under way */
	int want; /* what the sites return between flips */
	int stop;
	unsigned long checked[NR_CPUS]; /* calls that ran wholly between two flips */
	unsigned long wrong[NR_CPUS];	/* ... and took the other path */
} flip;

/*
 * A worker on every hart calls the sites back to back. A call counts
 * (checked) only if seq was the same even value before and after it:
 * then the whole call ran after the static_branch_*() that set `want`
 * had returned, and before the next began, so it must see `want`.
 */
/*
 * Between calls the workers stay polite: hog_relax() halts for up to a
 * tick once a millisecond (a hart that only spins starves the others
 * under QEMU's -icount round robin, and cross-hart calls to it wait).
 * Past 16 harts QEMU runs more busy harts than the 2-core host has cores
 * by far, and every flip waits for each of them to be scheduled: there
 * the workers also nap 1 ms per 100 calls.
 */
static void worker_pause(unsigned long *calls, uint64_t *pace)
{
	hog_relax(pace);
	if (num_online_cpus() > 16 && ++*calls % 100 == 0)
		msleep(1);
}

static int flip_worker(void *arg)
{
	int cpu = smp_processor_id();
	unsigned long calls = 0;
	uint64_t pace = 0;
	while (!READ_ONCE(flip.stop)) {
		worker_pause(&calls, &pace);
		int s1 = __atomic_load_n(&flip.seq, __ATOMIC_ACQUIRE);
		int want = READ_ONCE(flip.want);
		int got = key_site_unlikely() + key_site_likely();
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if ((s1 & 1) || __atomic_load_n(&flip.seq, __ATOMIC_RELAXED) != s1)
			continue;
		flip.checked[cpu]++;
		if (got != want)
			flip.wrong[cpu]++;
	}
	return 0;
}

static void patch_static_key_flips_under_load(struct ktest *t)
{
	static struct task_struct *w[NR_CPUS];
	int cpu, ncpus = num_online_cpus();
	/* 10 000 flips on one hart; each flip is a stop_machine() of every
	 * hart, whose cost grows with the harts QEMU runs on 2 host cores:
	 * scale down, and stop at 15 s (8 s past 16 harts) in any case. */
	int target = ncpus == 1 ? 10000 : max(100, 10000 / (ncpus * ncpus)), flips;
	uint64_t saved_watchdog = watchdog_relax();
	memset(&flip, 0, sizeof(flip));
	ASSERT_EQ(t, static_key_sites(&patch_test_key.key), 2);
	ASSERT_FALSE(t, static_key_enabled(&patch_test_key));
	for_each_online_cpu(cpu) {
		w[cpu] = kthread_create_on_cpu(flip_worker, NULL, cpu, "flip/%u");
		ASSERT_TRUE(t, w[cpu] != NULL);
		get_task_struct(w[cpu]);
		wake_up_process(w[cpu]);
	}
	uint64_t t0 = get_cycles(), deadline = t0 + (uint64_t)timebase_hz * (ncpus > 16 ? 8 : 15);
	int rc = 0;
	for (flips = 0; flips < target && get_cycles() < deadline && !rc; flips++) {
		bool on = !(flips & 1);
		__atomic_store_n(&flip.seq, flip.seq + 1, __ATOMIC_RELEASE); /* odd */
		rc = on ? static_branch_enable(&patch_test_key)
			: static_branch_disable(&patch_test_key);
		WRITE_ONCE(flip.want, on ? 3 : 0);
		__atomic_store_n(&flip.seq, flip.seq + 1, __ATOMIC_RELEASE); /* even */
		EXPECT_EQ(t, static_key_enabled(&patch_test_key), on);
		/* The caller is on one of the harts: it sees the new path now. */
		EXPECT_EQ(t, key_site_unlikely() + key_site_likely(), on ? 3 : 0);
		if ((flips & 63) == 63)
			msleep(1); /* let every worker run a stable stretch */
	}
	msleep(20);
	WRITE_ONCE(flip.stop, 1);
	for_each_online_cpu(cpu)
		kthread_reap(w[cpu]);
	EXPECT_EQ(t, rc, 0);
	ktest_log(t, "%d flips (target %d) on %d harts in %lu ms", flips, target, ncpus,
		  ticks_to_us(get_cycles() - t0) / 1000);
	unsigned long checked = 0;
	for_each_online_cpu(cpu) {
		checked += flip.checked[cpu];
		EXPECT_EQ(t, flip.wrong[cpu], 0);
	}
	EXPECT_GT(t, checked, 0);
	EXPECT_GE(t, flips, 2);
	if (static_key_enabled(&patch_test_key))
		EXPECT_EQ(t, static_branch_disable(&patch_test_key), 0);
	EXPECT_EQ(t, key_site_unlikely() + key_site_likely(), 0);
	stop_watchdog_ticks = saved_watchdog;
}

/* ---- counting probes ---- */

typedef int (*probe_fn_t)(void);

static struct {
	int phase; /* even: call; odd: pause; -1: exit */
	probe_fn_t fn;
	int ack[NR_CPUS];
	unsigned long calls[NR_CPUS];
} pw;

static int probe_worker(void *arg)
{
	int cpu = smp_processor_id();
	unsigned long calls = 0;
	uint64_t pace = 0;
	for (;;) {
		worker_pause(&calls, &pace);
		int ph = __atomic_load_n(&pw.phase, __ATOMIC_ACQUIRE);
		if (ph < 0)
			break;
		if (ph & 1) {
			/* Release: our last call and its count come before the ack. */
			if (pw.ack[cpu] != ph)
				__atomic_store_n(&pw.ack[cpu], ph, __ATOMIC_RELEASE);
			msleep(1);
			continue;
		}
		pw.fn();
		WRITE_ONCE(pw.calls[cpu], pw.calls[cpu] + 1);
	}
	return 0;
}

/* Pause every worker: when this returns none is calling. */
static void probe_workers_pause(void)
{
	int cpu, ph = pw.phase + 1;
	__atomic_store_n(&pw.phase, ph, __ATOMIC_RELEASE);
	for_each_online_cpu(cpu)
		while (__atomic_load_n(&pw.ack[cpu], __ATOMIC_ACQUIRE) != ph)
			msleep(1);
}

static void probe_workers_resume(void)
{
	__atomic_store_n(&pw.phase, pw.phase + 1, __ATOMIC_RELEASE);
}

/* Wait until every hart has made at least n calls since `base`. */
static void probe_workers_run(const unsigned long *base, unsigned long n)
{
	uint64_t deadline = get_cycles() + (uint64_t)timebase_hz * 20;
	int cpu;
	bool all;
	do {
		msleep(2);
		all = true;
		for_each_online_cpu(cpu)
			if (READ_ONCE(pw.calls[cpu]) < base[cpu] + n)
				all = false;
	} while (!all && get_cycles() < deadline);
}

/*
 * Arm a probe on @site (of @fn) while workers on every hart are paused,
 * let them call @fn, pause them, and compare each hart's hits with its
 * calls; then disarm and check the original bytes are back.
 */
static void probe_count_exact(struct ktest *t, probe_fn_t fn, void *site, int len, int want)
{
	static struct task_struct *w[NR_CPUS];
	static unsigned long before[NR_CPUS], armed[NR_CPUS];
	uint32_t orig = 0;
	int cpu;
	uint64_t saved_watchdog = watchdog_relax();
	memcpy(&orig, site, (size_t)len);
	memset(&pw, 0, sizeof(pw));
	pw.fn = fn;
	for_each_online_cpu(cpu) {
		w[cpu] = kthread_create_on_cpu(probe_worker, NULL, cpu, "probe/%u");
		ASSERT_TRUE(t, w[cpu] != NULL);
		get_task_struct(w[cpu]);
		wake_up_process(w[cpu]);
	}
	probe_workers_run(pw.calls, 0);
	probe_workers_pause();
	memcpy(before, pw.calls, sizeof(before));
	int rc = probe_add((unsigned long)site);
	EXPECT_EQ(t, rc, 0);
	probe_workers_resume();
	probe_workers_run(before, 20);
	probe_workers_pause();
	memcpy(armed, pw.calls, sizeof(armed));
	unsigned long hits = 0, calls = 0;
	for_each_online_cpu(cpu) {
		unsigned long h = probe_hits((unsigned long)site, cpu);
		EXPECT_EQ(t, h, armed[cpu] - before[cpu]);
		EXPECT_GE(t, armed[cpu] - before[cpu], 20);
		hits += h;
		calls += armed[cpu] - before[cpu];
	}
	EXPECT_EQ(t, hits, calls);
	ktest_log(t, "%lu hits == %lu calls while armed, on %d harts", hits, calls,
		  num_online_cpus());
	if (!rc)
		EXPECT_EQ(t, probe_del((unsigned long)site), 0);
	uint32_t now = 0;
	memcpy(&now, site, (size_t)len);
	EXPECT_EQ(t, now, orig);
	/* Disarmed: the workers run on, untrapped. */
	probe_workers_resume();
	probe_workers_run(armed, 5);
	__atomic_store_n(&pw.phase, -1, __ATOMIC_RELEASE);
	for_each_online_cpu(cpu)
		kthread_reap(w[cpu]);
	EXPECT_EQ(t, probe_hits((unsigned long)site, 0), 0);
	EXPECT_EQ(t, fn(), want);
	stop_watchdog_ticks = saved_watchdog;
}

static void patch_probe_counts_4byte(struct ktest *t)
{
	probe_count_exact(t, patch_test_word_fn, patch_test_word_fn, 4, 1); /* li a0, 1 */
}

static void patch_probe_counts_compressed(struct ktest *t)
{
	probe_count_exact(t, patch_test_c_fn, patch_test_c_fn, 2, 1); /* c.li a0, 1 */
}

static void patch_probe_counts_straddling(struct ktest *t)
{
	probe_count_exact(t, patch_test_straddle_fn, patch_test_straddle_site, 4, 1);
}

/* Arm and disarm while the workers run on, untouched: nothing faults. */
static void patch_probe_arm_disarm_while_running(struct ktest *t)
{
	static struct task_struct *w[NR_CPUS];
	int cpu;
	uint64_t saved_watchdog = watchdog_relax();
	memset(&pw, 0, sizeof(pw));
	pw.fn = patch_test_c_fn;
	for_each_online_cpu(cpu) {
		w[cpu] = kthread_create_on_cpu(probe_worker, NULL, cpu, "probe/%u");
		ASSERT_TRUE(t, w[cpu] != NULL);
		get_task_struct(w[cpu]);
		wake_up_process(w[cpu]);
	}
	int rounds = num_online_cpus() > 8 ? 3 : 20;
	for (int i = 0; i < rounds; i++) {
		EXPECT_EQ(t, probe_add((unsigned long)patch_test_c_fn), 0);
		EXPECT_EQ(t, probe_add((unsigned long)patch_test_word_site), 0);
		msleep(1);
		EXPECT_EQ(t, probe_del((unsigned long)patch_test_word_site), 0);
		EXPECT_EQ(t, probe_del((unsigned long)patch_test_c_fn), 0);
	}
	__atomic_store_n(&pw.phase, -1, __ATOMIC_RELEASE);
	for_each_online_cpu(cpu)
		kthread_reap(w[cpu]);
	EXPECT_EQ(t, *(volatile uint16_t *)patch_test_c_fn, 0x4505); /* c.li a0, 1 */
	EXPECT_EQ(t, patch_test_c_fn(), 1);
	stop_watchdog_ticks = saved_watchdog;
}

KTEST_SUITE(patch, KTEST_CASE(patch_word_site), KTEST_CASE(patch_text_stays_read_only),
	    KTEST_CASE(patch_compressed_site), KTEST_CASE(patch_straddling_site),
	    KTEST_CASE(patch_refuses_bad_and_nopatch),
	    KTEST_CASE(patch_static_key_flips_under_load), KTEST_CASE(patch_probe_counts_4byte),
	    KTEST_CASE(patch_probe_counts_compressed), KTEST_CASE(patch_probe_counts_straddling),
	    KTEST_CASE(patch_probe_arm_disarm_while_running));
