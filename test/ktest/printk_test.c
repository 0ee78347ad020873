/*
 * printk_test.c - printk from every hart at once, from thread and from
 * interrupt context, emits each line whole: the capture hook (which runs
 * under the console lock) sees every line exactly once and intact.
 */
#include <string.h>
#include "console.h"
#include "ktest.h"
#include "smp.h"
#include "smp_call.h"
#include "kstrtox.h"

/*
 * About 240 thread lines in all, spread over the harts: every line is a
 * hand-off of the (ticket) console lock, and with many harts on a 2-core
 * host a hand-off waits for the next holder's vCPU to be scheduled.
 */
#define LINES_TOTAL 240
static int lines_thread, lines_irq;
#define IRQ_BASE 50000
#define PAYLOAD	 40

static int got_thread[NR_CPUS], got_irq[NR_CPUS], corrupt;

static char letter(unsigned long cpu, unsigned long n)
{
	return (char)('a' + (cpu * 7 + n) % 26);
}

/* Lines look like "pk c=3 n=17 hhhh...h" (PAYLOAD letters). */
static void capture(const char *msg, size_t len, void *arg)
{
	char *end;
	if (len < 3 || strncmp(msg, "pk ", 3) != 0)
		return;
	unsigned long cpu = simple_strtoul(msg + 5, &end, 10);
	unsigned long n = simple_strtoul(end + 3, &end, 10);
	const char *pay = end + 1;
	bool ok = cpu < NR_CPUS && (size_t)(pay - msg) + PAYLOAD == len;
	for (int i = 0; ok && i < PAYLOAD; i++)
		ok = pay[i] == letter(cpu, n);
	if (!ok)
		corrupt++;
	else if (n >= IRQ_BASE)
		got_irq[cpu]++;
	else
		got_thread[cpu]++;
}

static void print_line(int cpu, int n)
{
	char pay[PAYLOAD + 1];
	memset(pay, letter((unsigned long)cpu, (unsigned long)n), PAYLOAD);
	pay[PAYLOAD] = '\0';
	pr_info("pk c=%d n=%d %s", cpu, n, pay);
}

static void print_from_irq(void *arg)
{
	print_line(smp_processor_id(), IRQ_BASE + (int)(uintptr_t)arg);
}

static void printer(void *arg)
{
	int me = smp_processor_id();
	int next = cpumask_next(me, cpu_online_mask);
	if (next >= NR_CPUS)
		next = cpumask_first(cpu_online_mask);
	for (int n = 0; n < lines_thread; n++) {
		print_line(me, n);
		if (n < lines_irq) /* the next hart prints one from its IPI handler */
			smp_call_function_single(next, print_from_irq, (void *)(uintptr_t)n, true);
	}
}

static void printk_lines_never_interleave(struct ktest *t)
{
	int cpu;
	memset(got_thread, 0, sizeof(got_thread));
	memset(got_irq, 0, sizeof(got_irq));
	corrupt = 0;
	lines_thread = max(3, LINES_TOTAL / num_online_cpus());
	lines_irq = max(1, lines_thread / 3);
	printk_set_hook(capture, NULL);
	run_on_cpus(cpu_online_mask, printer, NULL);
	printk_set_hook(NULL, NULL);

	EXPECT_EQ(t, corrupt, 0);
	for_each_online_cpu(cpu) {
		EXPECT_EQ(t, got_thread[cpu], lines_thread);
		/* Each hart's IRQ lines come from its predecessor's calls (or its
		 * own, alone: smp_call_function_single to self runs it inline). */
		EXPECT_EQ(t, got_irq[cpu], lines_irq);
	}
}

static void printk_long_line_is_truncated_safely(struct ktest *t)
{
	static char big[1024];
	memset(big, 'x', sizeof(big) - 1);
	int n = pr_info("%s", big);
	EXPECT_GT(t, n, 0);
	EXPECT_LE(t, n, 320);
}

KTEST_SUITE(printk, KTEST_CASE(printk_lines_never_interleave),
	    KTEST_CASE(printk_long_line_is_truncated_safely));
