#!/usr/bin/env python3
"""Mutation check: the tests must fail on a kernel that breaks a rule.

    python3 test/mutants.py [--quick] [--only NAME[,NAME]] [--list] [--keep]

Each mutant is one small change to one source file (an exact text that
must occur exactly once, replaced): a rule of the kernel broken on
purpose. For each, a copy of the tree (the working tree, as it is) gets
the change, the test image is rebuilt there (incrementally, from a copy
of build/obj), and the suites that guard the rule boot at the given hart
count with hang_panic=20, so that a deadlock ends in a panic with a
message instead of the runner's timeout. The mutant is killed when that
run fails; the script fails if any mutant survives, if a mutation no
longer applies (the code moved: update the table), or if the unmutated
tree fails the same runs (the control). README.md, "Tests", lists the
mutants and what kills each. --quick runs the QUICK subset (make test).
"""

import argparse
import dataclasses
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import runner  # noqa: E402 (sibling module)

REPO = runner.REPO_ROOT
HANG = "hang_panic=20"


@dataclasses.dataclass(frozen=True)
class Mutant:
    name: str
    path: str       # file, relative to the repository
    find: str       # exact text, must occur exactly once
    replace: str
    suites: str     # test= globs of the run that must fail
    smp: int
    rule: str       # the rule it breaks
    killer: str     # what kills it
    append: str = ""  # more boot arguments (fault injection)


MUTANTS: List[Mutant] = [
    Mutant("warn-in-rendezvous", "kernel/stop_machine_rendezvous.c",
           "\t\t\tcase MULTI_STOP_RUN:\n",
           "\t\t\tcase MULTI_STOP_RUN:\n\t\t\t\tpr_warn(\"WARNING: mutant in the rendezvous\");\n",
           "stop_machine", 4,
           "a rendezvous prints nothing it is not asked to",
           "the warning rule: an undeclared kernel warning fails its case"),
    Mutant("no-irq-disable", "kernel/stop_machine_rendezvous.c",
           "\t\t\tcase MULTI_STOP_DISABLE_IRQ:\n\t\t\t\tlocal_irq_disable();\n",
           "\t\t\tcase MULTI_STOP_DISABLE_IRQ:\n",
           "stop_machine", 4,
           "DISABLE_IRQ turns every participant's interrupts off",
           "the witnesses: every participant records irqs_disabled() in the rendezvous"),
    Mutant("fn-on-every-hart", "kernel/stop_machine_rendezvous.c",
           "\t\t\t\tif (is_active) {\n\t\t\t\t\tstop_trace(STOP_EV_FN, 0);",
           "\t\t\t\tif (is_active || 1) {\n\t\t\t\t\tstop_trace(STOP_EV_FN, 0);",
           "stop_machine", 4,
           "fn runs only on the active harts",
           "stop_machine_runs_fn_on_mask_and_returns_errors counts where fn ran"),
    Mutant("early-advance", "kernel/stop_machine_rendezvous.c",
           "if (__atomic_sub_fetch(&ms->thread_ack, 1, __ATOMIC_ACQ_REL) == 0)",
           "if (__atomic_sub_fetch(&ms->thread_ack, 1, __ATOMIC_ACQ_REL) <= 1)",
           "stop_machine", 4,
           "a state advances only once every participant acked it",
           "fn runs before a participant stopped: the witnesses, or a panic (a stopper "
           "still running the scheduler's locks meets fn)"),
    Mutant("irqs-stay-off", "kernel/stop_machine_rendezvous.c",
           "\tWRITE_ONCE(stopper->ms, NULL);\n\tlocal_irq_restore(flags);\n",
           "\tWRITE_ONCE(stopper->ms, NULL);\n\t(void)flags;\n",
           "stop_machine", 4,
           "EXIT restores each participant's interrupts",
           "the stopper's 'returned with interrupts off' warning, undeclared"),
    Mutant("result-lost", "kernel/stop_machine.c",
           "\t\tif (ret)\n\t\t\tdone->ret = ret;",
           "\t\tif (ret)\n\t\t\tdone->ret = 0;",
           "stop_api", 4,
           "a stop fn's result reaches the caller",
           "stop_one_cpu_preempts_fifo99_spinner expects fn's 7 back"),
    Mutant("stopper-locks-descending", "kernel/stop_machine.c",
           "int lo = min(cpu1, cpu2), hi = max(cpu1, cpu2);",
           "int lo = max(cpu1, cpu2), hi = min(cpu1, cpu2);",
           "stop_api", 4,
           "stop_two_cpus() takes the two stopper locks in ascending CPU order",
           "the lock order check: a stopper lock under a higher CPU's"),
    Mutant("no-stop-cpus-backoff", "kernel/stop_machine.c",
           "\t\tif (!stop_cpus_in_progress) {", "\t\tif (1) {",
           "stop_machine", 8,
           "stop_two_cpus() backs off while stop_cpus() queues hart by hart",
           "crossing pairs with whole-machine stops deadlock (stop_cpus pausing 300 us "
           "between harts widens the window): hang_panic names the stuck state",
           append="stop_queue_delay_us=300"),
    Mutant("wake-under-stopper-lock", "kernel/stop_machine.c",
           "\tspin_unlock_irqrestore(&stopper->lock, flags);\n\t/* Nothing is taken",
           "\tif (enabled)\n\t\twake_up_process(stopper->thread);\n"
           "\tspin_unlock_irqrestore(&stopper->lock, flags);\n\t/* Nothing is taken",
           "stop_api", 4,
           "a stopper is woken after its lock is dropped (nothing nests in it)",
           "the lock order check: a pi_lock taken under a stopper lock"),
    Mutant("rq-locks-descending", "kernel/sched/runqueue.c",
           "\t} else if (a->cpu < b->cpu) {", "\t} else if (a->cpu > b->cpu) {",
           "stop_users", 4,
           "two runqueue locks in ascending CPU order",
           "the lock order check, in active balancing's double_rq_lock()"),
    Mutant("pi-under-rq", "kernel/sched/affinity.c",
           "\tspin_lock(&p->pi_lock);\n\tspin_lock(&rq->lock);\n\tif (task_rq(p) == rq) {",
           "\tspin_lock(&rq->lock);\n\tspin_lock(&p->pi_lock);\n\tif (task_rq(p) == rq) {",
           "stop_users", 4,
           "p->pi_lock before rq->lock",
           "the lock order check, in migration_cpu_stop()"),
    Mutant("complete-under-rq", "kernel/sched/affinity.c",
           "\tif (finished) {\n\t\tp->migration_pending = NULL;",
           "\tif (finished) {\n\t\tcomplete_all(&pending->done);\n\t\tp->migration_pending = NULL;",
           "stop_users", 4,
           "a completion's (wait-queue) lock before p->pi_lock and rq->lock",
           "'BUG: lock order' (a wait-queue lock under a runqueue lock), then the "
           "wake-up's spinlock recursion panic on that runqueue lock"),
    Mutant("timer-fn-under-base-lock", "kernel/timer.c",
           "\t\tWRITE_ONCE(b->running, due);\n\t\tspin_unlock(&b->lock);",
           "\t\tWRITE_ONCE(b->running, due);\n\t\tif (due)\n\t\t\tdue->function(due);\n"
           "\t\tspin_unlock(&b->lock);",
           "timer", 2,
           "a timer function runs after its base lock is dropped",
           "the lock order check: msleep()'s wake-up takes a pi_lock under the timer base lock"),
    Mutant("mutex-in-atomic", "kernel/stop_machine.c",
           "\tmutex_lock(&stop_cpus_mutex);\n\trc = __stop_cpus(mask, fn, arg, _RET_IP_);",
           "\tpreempt_disable();\n\tmutex_lock(&stop_cpus_mutex);\n\tpreempt_enable();\n"
           "\trc = __stop_cpus(mask, fn, arg, _RET_IP_);",
           "stop_api", 4,
           "a mutex is never taken in atomic context (under a spinlock)",
           "might_sleep()'s warning, undeclared"),
    # Mutants that show the strengthened cases have teeth (issue: "tests
    # that can fail"): each breaks what one case claims.
    Mutant("kfree-silent", "kernel/kmalloc.c",
           "\tif (WARN(!pg || !(pg->flags & (PG_SLAB | PG_LARGE)), \"kfree(%p): not from kmalloc\", ptr))",
           "\tif (!pg || !(pg->flags & (PG_SLAB | PG_LARGE)))",
           "mm", 1,
           "kfree() of a pointer kmalloc never gave out warns",
           "mm_kfree_misuse_warns declares the warning: it must appear"),
    Mutant("cmdline-prefix", "kernel/cmdline.c",
           "if (wlen > klen && p[klen] == '=' && strncmp(p, key, klen) == 0) {",
           "if (wlen > klen && strncmp(p, key, klen) == 0) {",
           "boot", 1,
           "a boot argument's key is a whole word",
           "boot_cmdline_lookup on a command line of its own"),
    Mutant("completion-busy-waits", "kernel/wait.c",
           "\t	if (forever)\n\t\t\tschedule();",
           "\t	if (forever)\n\t\t\tcpu_relax();",
           "sched_task", 2,
           "wait_for_completion() sleeps",
           "sched_affinity_of_sleeping_task requires the task asleep, off its hart"),
    Mutant("wait-event-busy-waits", "include/wait.h",
           "\t\t\tschedule();                                                                \\",
           "\t\t\tcpu_relax();                                                               \\",
           "sched_sync", 2,
           "wait_event() sleeps",
           "sched_waitqueue_wakes_every_hart wakes only waiters that are asleep"),
    Mutant("active-balance-uncounted", "kernel/sched/fair.c",
           "\t\tbusiest->active_pushed += pull_fair_tasks(target, busiest, 1);",
           "\t\tpull_fair_tasks(target, busiest, 1);",
           "stop_users", 2,
           "active balancing's push is the stopper's (counted)",
           "stop_active_balance_pushes_running_task checks the stopper's counter"),
    Mutant("lag-after-min", "kernel/sched/fair.c",
           "\tse->vruntime -= cfs->min_vruntime;\n\t/* min_vruntime never",
           "\tupdate_min_vruntime(cfs);\n\tse->vruntime -= cfs->min_vruntime;\n\t/* min_vruntime never",
           "stop_users", 2,
           "a dequeued task's lag is measured before min_vruntime moves on",
           "the lag check in dequeue_task_fair(), on the active balance's pull"),
    Mutant("resched-no-ipi", "kernel/sched/core.c",
           "\t\tsend_resched_ipi(rq->cpu); /* rung once our locks are dropped */",
           "\t\t(void)0; /* mutant: the remote hart is never told */",
           "sched_wake", 4,
           "a remote reschedule is an IPI",
           "sched_wake_reaches_idle_harts_by_ipi: with tickless idle the wakee never runs"),
    Mutant("deferred-ipi-dropped", "kernel/ipi.c",
           "\t\tsend_ipi_mask(&m, IPI_RESCHEDULE);",
           "\t\t(void)m; /* mutant: deferred IPIs are forgotten */",
           "sched_wake", 4,
           "a RESCHEDULE IPI deferred to the end of a critical section is rung",
           "sched_wake_reaches_idle_harts_by_ipi: the wakee never runs"),
    Mutant("double-park", "kernel/kthread.c",
           "\tif (__atomic_fetch_or(&k->flags, 1UL << KTHREAD_PARKING, __ATOMIC_ACQ_REL) &",
           "\tif (0 & __atomic_fetch_or(&k->flags, 1UL << KTHREAD_PARKING, __ATOMIC_ACQ_REL) &",
           "sched_task", 2,
           "one kthread_park() of a thread at a time",
           "sched_kthread_double_park_refused: a second waiter on the completion waits forever"),
    Mutant("qspin-no-head-kick", "include/qspinlock.h",
           "\tif (unlikely(head))\n\t\tcpu_wait_kick_if(head - 1, &l->val);",
           "\t(void)head; /* mutant: a halted head is never kicked */",
           "spinlock", 4,
           "an unlock kicks the queue's head if it halted",
           "spinlock_handoff_in_arrival_order_by_kick: the first waiter is woken by a tick"),
    Mutant("qspin-no-node-kick", "kernel/qspinlock.c",
           "\tcpu_wait_kick_if(next->cpu, &next->locked);\nrelease:",
           "\t(void)0; /* mutant: the waiter behind is not kicked */\nrelease:",
           "spinlock", 4,
           "the new head kicks the halted waiter behind it",
           "spinlock_handoff_in_arrival_order_by_kick: the later waiters are woken by ticks"),
    Mutant("qspin-one-node", "kernel/qspinlock.c",
           "\tint idx = nodes->count++;",
           "\tint idx = 0 * nodes->count++;",
           "spinlock", 4,
           "an interrupt's wait uses the next node of its hart",
           "spinlock_interrupt_queues_over_a_waiting_task: the handler links its node behind itself and hangs"),
    Mutant("qspin-head-no-wait", "kernel/qspinlock.c",
           "\twhile ((val = smp_load_acquire(&l->val)) & Q_LOCKED_MASK) {",
           "\twhile ((val = smp_load_acquire(&l->val)) & 0) {",
           "spinlock", 4,
           "the queue's head waits for the holder to leave",
           "spinlock_counter_exact_from_every_hart: torn critical sections, a lost count"),
    Mutant("tick-never-stops", "platform/riscv/timer.c",
           "\tif (!nohz_enabled)\n\t\treturn;\n\tthis_cpu(nohz_idle) = true;",
           "\tif (nohz_enabled)\n\t\treturn;\n\tthis_cpu(nohz_idle) = true;",
           "timer", 2,
           "an idle hart stops its tick",
           "timer_idle_hart_stops_its_tick counts the hart's tickless periods"),
    Mutant("absorb-drops-ipi", "kernel/ipi.c",
           "\tif (old & ~(1UL << IPI_KICK))\n\t\tipi_hw_raise_self();",
           "\tif (0)\n\t\tipi_hw_raise_self();",
           "stop_machine", 4,
           "a halt with interrupts off takes only its kick; other IPI reasons wait for EXIT",
           "stop_machine_halt_keeps_other_ipis: the cross-call sent to a halted participant "
           "never runs"),
    Mutant("rendezvous-no-kick", "kernel/stop_machine_rendezvous.c",
           "\tsmp_cond_wake(&ms->state); /* participants halted waiting for it */",
           "\t/* no kick */",
           "stop_machine", 4,
           "the hart that publishes a state kicks the participants halted for it",
           "stop_machine_every_wait_rule_and_fanin: stop_wait=wfi halts ended by no kick"),
    Mutant("tree-group-early", "kernel/stop_machine_rendezvous.c",
           "__atomic_sub_fetch(&ms->groups[group].ack, 1, __ATOMIC_ACQ_REL) != 0",
           "__atomic_sub_fetch(&ms->groups[group].ack, 1, __ATOMIC_ACQ_REL) > 1",
           "stop_machine", 4,
           "a group of the combining tree acks only once all its harts did",
           "stop_machine_every_wait_rule_and_fanin (fan-in 2 and 3): fn runs before a "
           "participant turned its interrupts off (the witnesses), or runs twice"),
    # Text patching (kernel/patch.c, jump_label.c, probe.c): the patch suite.
    Mutant("patch-straddle-first-page-only", "kernel/patch.c",
           "\t\tfor (size_t i = 0; i < chunk;) {",
           "\t\tfor (size_t i = 0; i < chunk && slot == 0;) {",
           "patch", 2,
           "a site straddling a page is written on both pages",
           "patch_straddling_site: the addi's immediate lies on the second page, unchanged"),
    Mutant("patch-nopatch-allowed", "kernel/patch.c",
           "\tif (!(flags & PATCH_ALLOW_NOPATCH) && text_is_nopatch(addr, len)) {",
           "\tif (0 && !(flags & PATCH_ALLOW_NOPATCH) && text_is_nopatch(addr, len)) {",
           "patch", 2,
           "patch_text() refuses the trap path, the rendezvous and the patcher",
           "patch_refuses_bad_and_nopatch expects -EPERM and its warnings"),
    Mutant("key-last-site-unpatched", "kernel/jump_label.c",
           "\t\t\trc = patch_text_batch(pokes, i, PATCH_ALLOW_NOPATCH);",
           "\t\t\trc = patch_text_batch(pokes, i - 1, PATCH_ALLOW_NOPATCH);",
           "patch", 2,
           "static_branch_enable() rewrites every site of the key",
           "patch_static_key_flips_under_load: the second site keeps the old path"),
    Mutant("probe-hart1-uncounted", "kernel/probe.c",
           "\t\t__atomic_fetch_add(&probes[i].hits[cpu], 1, __ATOMIC_RELAXED);",
           "\t\tif (cpu != 1)\n\t\t\t__atomic_fetch_add(&probes[i].hits[cpu], 1, __ATOMIC_RELAXED);",
           "patch", 2,
           "a probe counts its hits on every hart",
           "patch_probe_counts_*: hart 1's hits differ from its calls"),
    Mutant("probe-del-keeps-ebreak", "kernel/probe.c",
           "\trc = patch_text_batch(&poke, 1, 0);\n\tif (!rc)\n\t\tWRITE_ONCE(p->addr, 0);",
           "\trc = 0;\n\tif (!rc)\n\t\tWRITE_ONCE(p->addr, 0);",
           "patch", 2,
           "probe_del() puts the original instruction back",
           "patch_probe_counts_*: the bytes differ after probe_del(); the next call traps "
           "unhandled"),
    Mutant("kallsyms-search-off-by-one", "kernel/kallsyms.c",
           "\t\tif (kallsyms_offsets[mid] <= off)\n\t\t\tlo = mid + 1;",
           "\t\tif (kallsyms_offsets[mid] < off)\n\t\t\tlo = mid + 1;",
           "kallsyms", 1,
           "an address resolves to the symbol that contains it, its first byte included",
           "kallsyms_lookup_inside_a_function and the round trip: a function's start "
           "resolves to the symbol before it"),
]

# The subset make test runs (the full set runs in CI: make mutants).
QUICK = ["warn-in-rendezvous", "no-irq-disable", "stopper-locks-descending"]


def copy_tree(dst: Path) -> None:
    """The working tree as it is (tracked and untracked-but-not-ignored
    files), plus build/obj with its timestamps, so make rebuilds only
    what a mutation touches."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    for f in filter(None, files):
        src = REPO / f.decode()
        if src.is_file():
            (dst / f.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / f.decode())
    obj = REPO / "build" / "obj"
    if obj.is_dir():
        shutil.copytree(obj, dst / "build" / "obj", symlinks=True)


def apply(tree: Path, m: Mutant) -> str:
    """Apply m in tree; '' or why it does not apply."""
    f = tree / m.path
    text = f.read_text()
    n = text.count(m.find)
    if n != 1:
        return f"{m.path}: the text to mutate occurs {n} times (want 1): update the table"
    f.write_text(text.replace(m.find, m.replace))
    return ""


def build(tree: Path) -> Tuple[bool, str]:
    r = subprocess.run(["make", "-s", "-j2", "build/hartstop-test.elf"], cwd=tree,
                       capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr)[-2000:]


def boot(tree: Path, m: Mutant, log_dir: Path, tag: str) -> runner.RunResult:
    config = runner.Config(smp=m.smp, append=f"test={m.suites} {HANG} {m.append}".strip(),
                           label=tag, timeout=180 + 10 * m.smp)
    return runner.run_config(config, str(tree / "build" / "hartstop-test.elf"), log_dir)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="only the QUICK subset (make test)")
    p.add_argument("--only", default="", help="comma-separated mutant names")
    p.add_argument("--list", action="store_true", help="print the mutants and exit")
    p.add_argument("--keep", action="store_true", help="keep the scratch trees")
    p.add_argument("--log-dir", default=str(REPO / "build" / "test" / "mutants"))
    args = p.parse_args(argv)
    chosen = MUTANTS
    if args.quick:
        chosen = [m for m in MUTANTS if m.name in QUICK]
    if args.only:
        want = set(args.only.split(","))
        chosen = [m for m in MUTANTS if m.name in want]
        unknown = want - {m.name for m in chosen}
        if unknown:
            print(f"unknown mutant(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            print(runner.tally_line(0, 1))
            return 2
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:<26} {m.path:<24} test={m.suites} smp={m.smp}\n"
                  f"{'':<26} breaks: {m.rule}\n{'':<26} killed by: {m.killer}")
        return 0
    log_dir = Path(args.log_dir)
    killed, problems = 0, []
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hartstop-mutants-") as scratch:
        base = Path(scratch) / "control"
        base.mkdir()
        copy_tree(base)
        ok, out = build(base)
        if not ok:
            print(f"mutants: the unmutated tree does not build:\n{out}")
            print(runner.tally_line(0, 1))
            return 1
        # The control: each run a mutant uses must pass on the real kernel.
        controls: Dict[Tuple[str, int, str], runner.RunResult] = {}
        for m in chosen:
            key = (m.suites, m.smp, m.append)
            if key not in controls:
                tag = f"control-{m.suites.replace('*', '')}" + ("-inj" if m.append else "")
                r = boot(base, m, log_dir, tag)
                controls[key] = r
                print(f"control test={m.suites} smp={m.smp}: {'PASS' if r.passed else 'FAIL'}"
                      f" ({r.outcome.elapsed:.0f} s){'' if r.passed else '  ' + r.verdict.reason}",
                      flush=True)
                if not r.passed:
                    problems.append(f"control test={m.suites} smp={m.smp} fails: "
                                    f"{r.verdict.reason} (log {r.log_path})")
        for m in chosen:
            tree = Path(scratch) / m.name
            shutil.copytree(base, tree, symlinks=True)
            why = apply(tree, m)
            if why:
                problems.append(f"{m.name}: {why}")
                print(f"ERROR    {m.name}: {why}", flush=True)
                continue
            ok, out = build(tree)
            if not ok:
                problems.append(f"{m.name}: does not build: {out.strip().splitlines()[-1:]}")
                print(f"ERROR    {m.name}: does not build", flush=True)
                continue
            r = boot(tree, m, log_dir, f"mutant-{m.name}")
            if r.passed:
                problems.append(f"{m.name} SURVIVED ({m.rule}); expected: {m.killer}")
                print(f"SURVIVED {m.name}  ({r.outcome.elapsed:.0f} s)", flush=True)
            else:
                killed += 1
                print(f"killed   {m.name}  ({r.outcome.elapsed:.0f} s): {r.verdict.reason[:150]}",
                      flush=True)
            if not args.keep:
                shutil.rmtree(tree, ignore_errors=True)
        if args.keep:
            kept = Path(tempfile.mkdtemp(prefix="hartstop-mutants-kept-"))
            shutil.copytree(scratch, kept / "trees", symlinks=True)
            print(f"trees kept in {kept}")
    print(f"mutants: {killed} of {len(chosen)} killed in {time.monotonic() - start:.0f} s")
    for line in problems:
        print(f"  {line}")
    # One check per mutant, plus the control runs.
    failed = len(chosen) - killed + sum(1 for r in controls.values() if not r.passed)
    print(runner.tally_line(killed + sum(1 for r in controls.values() if r.passed), failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
