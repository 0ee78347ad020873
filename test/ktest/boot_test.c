/*
 * boot_test.c - what the boot left behind: every hart the DT lists is
 * numbered and online (whichever hart OpenSBI picked), per-cpu data is
 * reachable from each hart, and the SBI layer answers.
 */
#include <string.h>
#include "ipi.h"
#include "ktest.h"
#include "sbi.h"
#include "sched.h"
#include "smp.h"
#include "cmdline.h"

static void boot_every_dt_hart_is_online(struct ktest *t)
{
	int usable = 0;
	for (int i = 0; i < dt.ncpus; i++) {
		const struct dt_cpu *c = &dt.cpus[i];
		if (!c->okay || !c->mmu)
			continue;
		usable++;
		int cpu = hartid_to_cpu(c->hartid);
		if (usable > NR_CPUS) {
			EXPECT_EQ(t, cpu, -1);
			continue;
		}
		EXPECT_GE(t, cpu, 0);
		EXPECT_TRUE(t, cpu_online(cpu));
		EXPECT_EQ(t, cpu_to_hartid(cpu), c->hartid);
	}
	EXPECT_EQ(t, num_online_cpus(), min(usable, NR_CPUS));
	EXPECT_EQ(t, nr_cpu_ids, min(usable, NR_CPUS));
}

static void boot_hart_is_cpu0(struct ktest *t)
{
	/* start_kernel ran on the boot hart (a0 at entry), which is CPU 0 by
	 * definition, whichever hart OpenSBI's lottery picked. */
	EXPECT_EQ(t, cpu_to_hartid(0), boot_hartid);
	EXPECT_EQ(t, hartid_to_cpu(boot_hartid), 0);
	EXPECT_EQ(t, sbi_hart_get_status(cpu_to_hartid(0)), SBI_HSM_STARTED);
}

static int seen[NR_CPUS];
static DEFINE_PER_CPU(int, per_cpu_slot);

/* On a thread bound to its hart (run_on_cpus): smp_processor_id() may be
 * used without disabling preemption, as it cannot move. */
static void record_cpu(void *arg)
{
	int cpu = smp_processor_id();
	this_cpu(per_cpu_slot) = cpu + 1;
	/* The task's hart and the per-cpu base derived from it agree with
	 * the table built at boot. */
	if (task_cpu(current) == cpu &&
	    this_cpu_ptr(&per_cpu_slot) == per_cpu_ptr(&per_cpu_slot, cpu))
		__atomic_fetch_add(&seen[cpu], 1, __ATOMIC_RELAXED);
}

static void boot_per_cpu_data_on_every_hart(struct ktest *t)
{
	int cpu;
	for (cpu = 0; cpu < NR_CPUS; cpu++) {
		seen[cpu] = 0;
		if (cpu < nr_cpu_ids)
			per_cpu(per_cpu_slot, cpu) = 0;
	}
	ASSERT_EQ(t, run_on_cpus(cpu_online_mask, record_cpu, NULL), 0);
	for (cpu = 0; cpu < NR_CPUS; cpu++)
		EXPECT_EQ(t, seen[cpu], cpu_online(cpu) ? 1 : 0);
	/* Each hart wrote its own copy, and the copies are distinct. */
	for_each_online_cpu(cpu) {
		EXPECT_EQ(t, per_cpu(per_cpu_slot, cpu), cpu + 1);
		if (cpu)
			EXPECT_NE(t, (uintptr_t)per_cpu_ptr(&per_cpu_slot, cpu),
				  (uintptr_t)per_cpu_ptr(&per_cpu_slot, 0));
	}
}

static void boot_hsm_reports_started(struct ktest *t)
{
	int cpu;
	for_each_online_cpu(cpu)
		EXPECT_EQ(t, sbi_hart_get_status(cpu_to_hartid(cpu)), SBI_HSM_STARTED);
	/* A hart id that does not exist is refused, not started. */
	EXPECT_LT(t, sbi_hart_start(100000, 0x80200000, 0), 0);
	EXPECT_LT(t, sbi_hart_get_status(100000), 0);
}

static void boot_sbi_probe(struct ktest *t)
{
	EXPECT_TRUE(t, sbi_has(SBI_EXT_BASE));
	EXPECT_TRUE(t, sbi_has(SBI_EXT_HSM));
	EXPECT_TRUE(t, sbi_has(SBI_EXT_IPI));
	EXPECT_GE(t, sbi_spec_version(), 0x01000000UL);
	/* Errors map onto negative errno values. */
	EXPECT_EQ(t, sbi_err_to_errno(SBI_ERR_INVALID_PARAM), -EINVAL);
	EXPECT_EQ(t, sbi_err_to_errno(SBI_ERR_NOT_SUPPORTED), -ENOSYS);
	EXPECT_EQ(t, sbi_err_to_errno(0), 0);
}

static void boot_cpumask_ops(struct ktest *t)
{
	cpumask_t a, b, c;
	cpumask_clear(&a);
	cpumask_clear(&b);
	EXPECT_TRUE(t, cpumask_empty(&a));
	cpumask_set_cpu(3, &a);
	cpumask_set_cpu(NR_CPUS - 1, &a);
	cpumask_set_cpu(3, &b);
	cpumask_set_cpu(64 % NR_CPUS, &b);
	EXPECT_EQ(t, cpumask_weight(&a), 2);
	EXPECT_EQ(t, cpumask_first(&a), 3);
	EXPECT_EQ(t, cpumask_next(3, &a), NR_CPUS - 1);
	EXPECT_EQ(t, cpumask_next(NR_CPUS - 1, &a), NR_CPUS);
	EXPECT_TRUE(t, cpumask_and(&c, &a, &b));
	EXPECT_EQ(t, cpumask_weight(&c), 1);
	cpumask_andnot(&c, &a, &b);
	EXPECT_FALSE(t, cpumask_test_cpu(3, &c));
	EXPECT_TRUE(t, cpumask_subset(&c, &a));
	EXPECT_FALSE(t, cpumask_test_cpu(-1, &a));
	EXPECT_FALSE(t, cpumask_test_cpu(NR_CPUS, &a));
	int n = 0, cpu;
	for_each_cpu(cpu, &a)
		n++;
	EXPECT_EQ(t, n, 2);
}

static void boot_cmdline_lookup(struct ktest *t)
{
	/* The lookup on a command line the test controls: a key is a whole
	 * word before '=', never a prefix of a longer key, and the value is
	 * cut to the buffer. */
	const char *line = "  seedy=7 seed=5 test=boot,smp quiet see x= long=0123456789abcdef";
	char buf[8];
	EXPECT_TRUE(t, cmdline_find(line, "seed", buf, sizeof(buf)));
	EXPECT_EQ(t, strcmp(buf, "5"), 0);
	EXPECT_TRUE(t, cmdline_find(line, "seedy", buf, sizeof(buf)));
	EXPECT_EQ(t, strcmp(buf, "7"), 0);
	EXPECT_TRUE(t, cmdline_find(line, "test", buf, sizeof(buf)));
	EXPECT_EQ(t, strcmp(buf, "boot,sm"), 0);			/* cut to 7 bytes + NUL */
	EXPECT_FALSE(t, cmdline_find(line, "see", buf, sizeof(buf)));	/* no '=' */
	EXPECT_FALSE(t, cmdline_find(line, "quiet", buf, sizeof(buf))); /* no value */
	EXPECT_FALSE(t, cmdline_find(line, "se", buf, sizeof(buf)));	/* a prefix */
	EXPECT_TRUE(t, cmdline_find(line, "x", buf, sizeof(buf)));	/* x= : an empty value */
	EXPECT_EQ(t, buf[0], '\0');
	EXPECT_FALSE(t, cmdline_find("", "seed", buf, sizeof(buf)));
	/* And on the real one: absent keys, defaults. */
	EXPECT_FALSE(t, cmdline_get("no_such_key", buf, sizeof(buf)));
	EXPECT_EQ(t, cmdline_get_ulong("no_such_key", 42), 42);
}

KTEST_SUITE(boot, KTEST_CASE(boot_every_dt_hart_is_online), KTEST_CASE(boot_hart_is_cpu0),
	    KTEST_CASE(boot_per_cpu_data_on_every_hart), KTEST_CASE(boot_hsm_reports_started),
	    KTEST_CASE(boot_sbi_probe), KTEST_CASE(boot_cpumask_ops),
	    KTEST_CASE(boot_cmdline_lookup));
