/*
 * shell.c - the UART console's interactive shell, `hartstop> `.
 *
 * Input comes from the UART receive interrupt (console_input.c); this
 * thread sleeps in console_getc(). The line being typed is redrawn around
 * every printk line (console_client), so other harts' messages never
 * garble it; the buffer is only changed under the console lock for that.
 * Commands run in this thread (SCHED_FIFO 90: busy workers spawned from
 * here cannot starve the shell). Bad input gets a one-line error.
 */
#include <stdio.h>
#include <string.h>
#include "console.h"
#include "ipi.h"
#include "kernel.h"
#include "kthread.h"
#include "ktest.h"
#include "ktime.h"
#include "mm.h"
#include "sbi.h"
#include "sched.h"
#include "smp.h"
#include "stop_machine.h"
#include "timer.h"
#include "apps.h"
#include "tick.h"
#include "kstrtox.h"
#include "reboot.h"
#include "jump_label.h"
#include "kallsyms.h"
#include "patch.h"
#include "probe.h"

#define SHELL_LINE 128
#define HISTORY	   16
#define PROMPT	   "hartstop> "

static char line[SHELL_LINE];
static int len;
static bool editing; /* a prompt and `line` are on the screen */
static bool overlong;
static char history[HISTORY][SHELL_LINE];
static int nhistory;

/* console_client: called under the console lock. */
static void hide(void)
{
	if (editing)
		console_write("\r\x1b[K", 4);
}

static void show(void)
{
	if (editing) {
		console_write(PROMPT, sizeof(PROMPT) - 1);
		console_write(line, (size_t)len);
	}
}

static const struct console_client shell_client = {hide, show};

static void prompt(void)
{
	unsigned long flags = console_lock_irqsave();
	len = 0;
	overlong = false;
	editing = true;
	show();
	console_unlock_irqrestore(flags);
}

/* Replace the edited line (history, ^U) and redraw it. */
static void set_line(const char *s)
{
	unsigned long flags = console_lock_irqsave();
	hide();
	len = (int)strnlen(s, SHELL_LINE - 1);
	memcpy(line, s, (size_t)len);
	show();
	console_unlock_irqrestore(flags);
}

static void add_char(char c)
{
	unsigned long flags = console_lock_irqsave();
	if (len < SHELL_LINE - 1) {
		line[len++] = c;
		console_write(&c, 1);
	} else {
		overlong = true; /* reported at enter; keep reading */
	}
	console_unlock_irqrestore(flags);
}

static void backspace(void)
{
	unsigned long flags = console_lock_irqsave();
	if (len > 0) {
		len--;
		console_write("\b \b", 3);
	}
	console_unlock_irqrestore(flags);
}

/* Leave editing: the line is taken (or abandoned) and the cursor moves on. */
static void end_line(const char *tail)
{
	unsigned long flags = console_lock_irqsave();
	editing = false;
	console_write(tail, strlen(tail));
	console_write("\n", 1);
	line[len] = '\0';
	console_unlock_irqrestore(flags);
}

/* ---- argument parsing ---- */

static bool parse_long(const char *s, long *out)
{
	return s && kstrtol(s, 0, out) == 0;
}

static struct task_struct *task_arg(const char *s)
{
	long pid;
	struct task_struct *p = NULL;
	if (!parse_long(s, &pid) || pid <= 0 || !(p = find_task_by_pid((int)pid)))
		console_printf("error: no task with pid '%s'\n", s ? s : "");
	return p;
}

/* ---- workers: busy threads spawned from the shell ---- */

#define MAX_WORKERS 64
static struct task_struct *workers[MAX_WORKERS];

static int worker_fn(void *arg)
{
	volatile unsigned long spins = 0;
	while (!kthread_should_stop())
		spins++;
	return 0;
}

static void cmd_spawn(int argc, char **argv)
{
	long n;
	bool rt = argc > 2 && strcmp(argv[2], "rt") == 0;
	if (argc < 2 || !parse_long(argv[1], &n) || n < 1 || n > MAX_WORKERS ||
	    (argc > 2 && !rt && strcmp(argv[2], "fair") != 0)) {
		console_printf("usage: spawn N [fair|rt]   (1 <= N <= %d)\n", MAX_WORKERS);
		return;
	}
	int made = 0;
	for (int i = 0; i < MAX_WORKERS && made < n; i++) {
		if (workers[i])
			continue;
		struct task_struct *p = kthread_create(worker_fn, NULL, "worker%d", i);
		if (!p)
			break;
		if (rt)
			sched_setscheduler(p, SCHED_FIFO, 10);
		get_task_struct(p);
		workers[i] = p;
		wake_up_process(p);
		console_printf("spawned pid %d (%s, %s)\n", p->pid, p->comm,
			       rt ? "FIFO 10" : "fair");
		made++;
	}
	if (made < n)
		console_printf("error: only %d of %ld workers started\n", made, n);
}

static void cmd_kill(int argc, char **argv)
{
	long pid;
	if (argc != 2 || !parse_long(argv[1], &pid)) {
		console_printf("usage: kill PID\n");
		return;
	}
	for (int i = 0; i < MAX_WORKERS; i++) {
		if (workers[i] && workers[i]->pid == pid) {
			kthread_stop(workers[i]);
			put_task_struct(workers[i]);
			workers[i] = NULL;
			console_printf("killed pid %ld\n", pid);
			return;
		}
	}
	console_printf("error: pid %ld is not a worker spawned here (only those can be killed)\n",
		       pid);
}

/* ---- commands ---- */

static void cmd_ps(int argc, char **argv)
{
	struct task_struct *p;
	console_printf("    %5s %-16s %-6s %-5s %-6s %8s %s %11s  %s\n", "pid", "name", "hart",
		       "class", "policy", "prio", "S", "runtime", "cpus_allowed");
	unsigned long flags = spin_lock_irqsave(&tasklist_lock);
	list_for_each_entry(p, &task_list, tasks)
		sched_show_task(p);
	spin_unlock_irqrestore(&tasklist_lock, flags);
}

static void cmd_cpus(int argc, char **argv)
{
	int cpu;
	console_printf("  cpu  hart  current           run stop rt fair  ticks    ipi_in  ipi_out "
		       "stop_works\n");
	for_each_online_cpu(cpu) {
		struct rq_stats st;
		struct stop_stats ss;
		sched_rq_stats(cpu, &st);
		stop_get_stats(cpu, &ss);
		console_printf("  %3d  %4lu  %-16s %4d %4d %2d %4d %6lu %9lu %8lu %10lu\n", cpu,
			       cpu_to_hartid(cpu), st.curr ? st.curr->comm : "?", st.nr_running,
			       st.nr_stop, st.nr_rt, st.nr_fair, per_cpu(tick_count, cpu),
			       ipi_count_irqs(cpu), ipi_count_sent(cpu), ss.works);
	}
}

static void cmd_stats(int argc, char **argv)
{
	stop_stats_print(NULL);
}

static void cmd_sched(int argc, char **argv)
{
	sched_show(); /* what panic prints: each runqueue by class, every task */
}

static void cmd_taskset(int argc, char **argv)
{
	cpumask_t mask;
	if (argc != 3) {
		console_printf("usage: taskset PID MASK   (MASK: 0x3 or 0-2,5)\n");
		return;
	}
	if (cpumask_parse(argv[2], &mask)) {
		console_printf("error: bad mask '%s'\n", argv[2]);
		return;
	}
	struct task_struct *p = task_arg(argv[1]);
	if (!p)
		return;
	int from = task_cpu(p);
	bool was_running = READ_ONCE(p->on_cpu);
	uint64_t t0 = get_cycles();
	int rc = set_cpus_allowed_ptr(p, &mask);
	uint64_t t1 = get_cycles();
	int to = task_cpu(p);
	if (rc)
		console_printf("error: taskset %d: %d (empty, offline-only or fixed mask?)\n",
			       p->pid, rc);
	else
		console_printf("pid %d: cpu%d -> cpu%d in %lu us%s\n", p->pid, from, to,
			       ticks_to_us(t1 - t0),
			       to == from    ? " (its hart is allowed: not moved)"
			       : was_running ? " (was running: moved by the stopper)"
					     : " (was queued or asleep: moved directly)");
	put_task_struct(p);
}

static void cmd_nice(int argc, char **argv)
{
	long n;
	if (argc != 3 || !parse_long(argv[2], &n)) {
		console_printf("usage: nice PID N   (-20..19)\n");
		return;
	}
	struct task_struct *p = task_arg(argv[1]);
	if (!p)
		return;
	int rc = set_user_nice(p, (int)n);
	console_printf(rc ? "error: nice: %d\n" : "ok\n", rc);
	put_task_struct(p);
}

static void cmd_chrt(int argc, char **argv)
{
	long prio;
	int policy;
	if (argc != 4 || !parse_long(argv[3], &prio)) {
		console_printf(
			"usage: chrt PID fifo|rr|other PRIO   (1..99 for fifo/rr, 0 for other)\n");
		return;
	}
	if (strcmp(argv[2], "fifo") == 0)
		policy = SCHED_FIFO;
	else if (strcmp(argv[2], "rr") == 0)
		policy = SCHED_RR;
	else if (strcmp(argv[2], "other") == 0)
		policy = SCHED_NORMAL;
	else {
		console_printf("error: policy '%s' is not fifo, rr or other\n", argv[2]);
		return;
	}
	struct task_struct *p = task_arg(argv[1]);
	if (!p)
		return;
	int rc = sched_setscheduler(p, policy, (int)prio);
	console_printf(rc ? "error: chrt: %d\n" : "ok\n", rc);
	put_task_struct(p);
}

static volatile uint64_t probe_at;

static int probe_fn(void *arg)
{
	probe_at = get_cycles();
	return smp_processor_id();
}

static void cmd_stop(int argc, char **argv)
{
	long cpu;
	if (argc != 2 || !parse_long(argv[1], &cpu)) {
		console_printf("usage: stop CPU\n");
		return;
	}
	if (cpu < 0 || cpu >= NR_CPUS) { /* else a -errno result could pass for a cpu */
		console_printf("error: no cpu %ld\n", cpu);
		return;
	}
	uint64_t t0 = get_cycles();
	int rc = stop_one_cpu((int)cpu, probe_fn, NULL);
	uint64_t t1 = get_cycles();
	if (rc != cpu) {
		console_printf("error: stop_one_cpu(%ld): %d\n", cpu, rc);
		return;
	}
	console_printf("stop_one_cpu(%ld): fn started after %lu us, returned after %lu us\n", cpu,
		       ticks_to_us(probe_at - t0), ticks_to_us(t1 - t0));
}

static int noop(void *arg)
{
	return 0;
}

static void cmd_stopmachine(int argc, char **argv)
{
	cpumask_t mask;
	static struct stop_stats before[NR_CPUS];
	int cpu;
	if (argc > 2 || (argc == 2 && cpumask_parse(argv[1], &mask))) {
		console_printf("usage: stopmachine [MASK]\n");
		return;
	}
	for_each_online_cpu(cpu)
		stop_get_stats(cpu, &before[cpu]);
	uint64_t t0 = get_cycles();
	int rc = stop_machine(noop, NULL, argc == 2 ? &mask : NULL);
	uint64_t t1 = get_cycles();
	if (rc) {
		console_printf("error: stop_machine: %d\n", rc);
		return;
	}
	console_printf("stop_machine: %lu us; what it added to each hart's counters:\n",
		       ticks_to_us(t1 - t0));
	stop_stats_print(before);
}

/* ---- text patching: probes, static keys, patch timing ---- */

/* "SYMBOL[+OFF]" through kallsyms, or a number (0x... or decimal). */
static bool parse_text_addr(const char *s, unsigned long *addr)
{
	if (s[0] >= '0' && s[0] <= '9')
		return kstrtoul(s, 0, addr) == 0;
	int rc = kallsyms_parse(s, addr);
	if (rc)
		console_printf("error: %s: %s\n", s,
			       rc == -ENOENT ? "no such symbol" : "bad SYMBOL+OFF");
	return rc == 0;
}

static void probe_list(void)
{
	char name[96];
	int cpu, n = 0;
	for (int i = 0; i < MAX_PROBES; i++) {
		unsigned long addr = probe_addr(i), total = 0;
		if (!addr)
			continue;
		n++;
		for_each_online_cpu(cpu)
			total += probe_hits(addr, cpu);
		kallsyms_sprint(name, sizeof(name), addr);
		console_printf("  0x%lx %s: %lu hits\n   ", addr, name, total);
		for_each_online_cpu(cpu)
			console_printf(" cpu%d:%lu", cpu, probe_hits(addr, cpu));
		console_printf("\n");
	}
	if (!n)
		console_printf("  no probes\n");
}

static void cmd_probe(int argc, char **argv)
{
	unsigned long addr;
	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		probe_list();
		return;
	}
	if (argc != 3 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "del") != 0)) {
		console_printf("usage: probe add|del SYMBOL[+OFF]|ADDR, probe list\n");
		return;
	}
	if (!parse_text_addr(argv[2], &addr))
		return;
	bool add = strcmp(argv[1], "add") == 0;
	int rc = add ? probe_add(addr) : probe_del(addr);
	if (rc)
		console_printf("error: probe %s 0x%lx: %d\n", argv[1], addr, rc);
	else
		console_printf("probe %s at 0x%lx\n", add ? "armed" : "removed", addr);
}

static void cmd_key(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		for (size_t i = 0; i < static_keys_count(); i++) {
			const struct static_key *k = __static_keys_start[i];
			console_printf("  %-24s %-3s %d sites\n", k->name,
				       __static_key_enabled(k) ? "on" : "off", static_key_sites(k));
		}
		return;
	}
	bool on = argc == 3 && strcmp(argv[1], "on") == 0;
	if (argc != 3 || (!on && strcmp(argv[1], "off") != 0)) {
		console_printf("usage: key list, key on|off NAME\n");
		return;
	}
	struct static_key *k = static_key_find(argv[2]);
	if (!k) {
		console_printf("error: no static key '%.32s'\n", argv[2]);
		return;
	}
	uint64_t t0 = get_cycles();
	int rc = on ? static_key_enable(k) : static_key_disable(k);
	uint64_t t1 = get_cycles();
	if (rc)
		console_printf("error: key %s %s: %d\n", argv[1], k->name, rc);
	else
		console_printf("key %s %s: %d sites, %lu us\n", k->name, on ? "on" : "off",
			       static_key_sites(k), ticks_to_us(t1 - t0));
}

static void cmd_patch(int argc, char **argv)
{
	const uint32_t nop = RISCV_INSN_NOP;
	uint64_t t0 = get_cycles();
	int rc = patch_text(patch_timing_site, &nop, 4);
	uint64_t t1 = get_cycles();
	int rc2 = patch_text_nosync(patch_timing_site, &nop, 4);
	uint64_t t2 = get_cycles();
	if (rc || rc2) {
		console_printf("error: patch_text: %d, patch_text_nosync: %d\n", rc, rc2);
		return;
	}
	console_printf("patch_text (4 bytes, stop_machine on %d harts): %lu us; "
		       "patch_text_nosync: %lu us\n",
		       num_online_cpus(), ticks_to_us(t1 - t0), ticks_to_us(t2 - t1));
}

static void cmd_bench(int argc, char **argv)
{
	long n = 200;
	if (argc > 2 || (argc == 2 && (!parse_long(argv[1], &n) || n < 10))) {
		console_printf("usage: bench [ITERATIONS]   (default 200, at least 10)\n");
		return;
	}
	/* The bench and the suites busy-wait for threads they start: run them
	 * as an ordinary fair thread, as the bench and test images do. */
	sched_setscheduler(current, SCHED_NORMAL, 0);
	bench_run((int)n);
	sched_setscheduler(current, SCHED_FIFO, 90);
}

static void cmd_selftest(int argc, char **argv)
{
	if (argc > 2) {
		console_printf("usage: selftest [GLOB]\n");
		return;
	}
	sched_setscheduler(current, SCHED_NORMAL, 0); /* as in cmd_bench() */
	int failed = ktest_run_glob(argc == 2 ? argv[1] : "*");
	sched_setscheduler(current, SCHED_FIFO, 90);
	console_printf("selftest: %s\n", failed ? "FAILED" : "all passed");
}

static char confirm[SHELL_LINE];
static int read_line(char *buf, int size);

static void cmd_panic(int argc, char **argv)
{
	console_printf("really panic the kernel? type 'yes': ");
	if (read_line(confirm, sizeof(confirm)) >= 0 && strcmp(confirm, "yes") == 0)
		panic("requested from the shell");
	console_printf("not panicking\n");
}

static void cmd_poweroff(int argc, char **argv)
{
	console_printf("powering off\n");
	sbi_system_reset(SBI_SRST_SHUTDOWN, SBI_SRST_REASON_NONE);
	platform_poweroff(0); /* no SRST: the DT's poweroff device */
}

static void cmd_reboot(int argc, char **argv)
{
	console_printf("rebooting\n");
	sbi_system_reset(SBI_SRST_COLD_REBOOT, SBI_SRST_REASON_NONE);
	console_printf("error: SBI reset did not happen\n");
}

static void cmd_help(int argc, char **argv);

static const struct command {
	const char *name, *args, *help;
	void (*fn)(int argc, char **argv);
} commands[] = {
	{"help", "", "this list", cmd_help},
	{"ps", "", "tasks: pid, name, hart, class, policy/prio, state, runtime, cpus", cmd_ps},
	{"cpus", "", "per hart: current task, runqueues, ticks, IPIs, stop works", cmd_cpus},
	{"stats", "", "stopper counters per hart", cmd_stats},
	{"sched", "", "the scheduler dump panic prints: runqueues by class, all tasks", cmd_sched},
	{"spawn", "N [fair|rt]", "start N busy worker threads", cmd_spawn},
	{"kill", "PID", "stop a worker spawned here", cmd_kill},
	{"taskset", "PID MASK", "set a task's harts (moves it, running or not)", cmd_taskset},
	{"nice", "PID N", "set a fair task's nice value", cmd_nice},
	{"chrt", "PID fifo|rr|other PRIO", "set the policy and priority", cmd_chrt},
	{"stop", "CPU", "run a probe through stop_one_cpu and time it", cmd_stop},
	{"stopmachine", "[MASK]", "one rendezvous; time per state on each hart", cmd_stopmachine},
	{"probe", "add|del|list [SYM+OFF]", "count hits of an instruction, per hart", cmd_probe},
	{"key", "list|on|off [NAME]", "static keys: list, or switch one", cmd_key},
	{"patch", "", "time one patch_text() of a 4-byte site", cmd_patch},
	{"bench", "[N]", "the benchmark suite, N samples each", cmd_bench},
	{"selftest", "[GLOB]", "run the in-kernel test suites", cmd_selftest},
	{"panic", "", "panic the kernel (asks first)", cmd_panic},
	{"poweroff", "", "power off (QEMU exits 0)", cmd_poweroff},
	{"reboot", "", "reboot through SBI", cmd_reboot},
};

static void cmd_help(int argc, char **argv)
{
	for (unsigned i = 0; i < ARRAY_SIZE(commands); i++)
		console_printf("  %-12s %-24s %s\n", commands[i].name, commands[i].args,
			       commands[i].help);
	console_printf("  editing: backspace, ctrl-u clears, ctrl-c abandons, up-arrow recalls\n");
}

static void run(char *buf)
{
	char *argv[8], *save;
	int argc = 0;
	for (char *tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (argc == (int)ARRAY_SIZE(argv)) {
			console_printf("error: too many arguments\n");
			return;
		}
		argv[argc++] = tok;
	}
	if (argc == 0)
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[0], commands[i].name) == 0) {
			commands[i].fn(argc, argv);
			return;
		}
	console_printf("error: unknown command '%.32s' (try help)\n", argv[0]);
}

/*
 * Read one edited line into buf (without prompt if called for a
 * confirmation). Returns its length, or -1 when the line was abandoned
 * (ctrl-c) or too long.
 */
static int read_line(char *buf, int size)
{
	int esc = 0, hist = nhistory;
	bool as_prompt = buf == line;
	if (!as_prompt) { /* a confirmation: plain echo, no redraw */
		len = 0;
		overlong = false;
	}
	for (;;) {
		int c = console_getc();
		if (c < 0)
			return c; /* -ENODEV: no console input at all */
		/* A control byte ends an unfinished escape sequence and counts for
		 * itself: a ctrl-c after a stray ESC must still abandon the line. */
		if (esc && c < 0x20)
			esc = 0;
		if (esc == 1) { /* ESC seen: expect [ */
			esc = c == '[' ? 2 : 0;
			continue;
		}
		if (esc == 2) { /* ESC [: a final byte ends the sequence */
			if (c >= 0x40 && c <= 0x7e) {
				esc = 0;
				if (c == 'A' && as_prompt && hist > 0)
					set_line(history[--hist]);
				if (c == 'B' && as_prompt && hist < nhistory)
					set_line(++hist < nhistory ? history[hist] : "");
			}
			continue;
		}
		switch (c) {
		case 0x1b:
			esc = 1;
			break;
		case '\r':
		case '\n':
			end_line("");
			if (overlong) {
				console_printf("error: line too long (at most %d characters)\n",
					       SHELL_LINE - 1);
				return -1;
			}
			if (!as_prompt) {
				if (len >= size) {
					console_printf("error: answer too long\n");
					return -1;
				}
				memcpy(buf, line, (size_t)len + 1);
			}
			return len;
		case 0x03: /* ctrl-c */
			end_line("^C");
			return -1;
		case 0x15: /* ctrl-u */
			set_line("");
			overlong = false;
			break;
		case 0x7f:
		case 0x08:
			backspace();
			break;
		default:
			if (c >= 0x20 && c < 0x7f)
				add_char((char)c);
			/* other control and 8-bit bytes are ignored */
		}
	}
}

static void remember(const char *s)
{
	if (!*s || (nhistory && strcmp(history[(nhistory - 1) % HISTORY], s) == 0))
		return;
	if (nhistory == HISTORY) {
		memmove(history[0], history[1], sizeof(history[0]) * (HISTORY - 1));
		nhistory--;
	}
	strncpy(history[nhistory++], s, SHELL_LINE - 1);
}

void shell_main(void)
{
	sched_setscheduler(current, SCHED_FIFO, 90);
	console_set_client(&shell_client);
	console_printf("Type 'help' for the commands.\n");
	for (;;) {
		prompt();
		int n = read_line(line, sizeof(line));
		if (n < 0) {
			if (n == -ENODEV)
				break;
			continue;
		}
		char cmd[SHELL_LINE];
		memcpy(cmd, line, (size_t)n + 1);
		remember(cmd);
		run(cmd);
	}
	console_set_client(NULL);
}
