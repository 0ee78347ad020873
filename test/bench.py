#!/usr/bin/env python3
"""make bench: boot the bench image for several hart counts, collect its
BENCH lines, write CSV and JSON, draw two PNGs with gnuplot, print ratios.

    python3 test/bench.py --image build/hartstop-bench.elf [--smp 2,4,8,16]
        [--irq aclint] [--iters 1000] [--icount] [--out build/bench] [--check]
        [--only GLOB[,GLOB]] [--locks queued,ticket]

--only passes bench_only= to the kernel (e.g. --only lock for the lock
rows alone, the way to take them to 128 harts). --locks: after the boot
with the default (queued) spinlock, one more boot per SMP with
spinlock=ticket running only the lock rows, for the ticket-vs-queued
ratios (--locks queued skips it).

--check is the short run inside make test: it asserts only that every
expected figure is present and positive, never how fast anything was (the
machine has two cores; timings belong here, not in tests).
"""

import argparse
import csv
import fnmatch
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ktap  # noqa: E402 (sibling module)
import proc  # noqa: E402 (sibling module)
import runner  # noqa: E402 (sibling module)

RE_BENCH = re.compile(r"^BENCH name=(\S+) harts=(\d+) median_ns=(\d+) p90_ns=(\d+) "
                      r"p99_ns=(\d+) max_ns=(\d+) n=(\d+)")
RE_STATES = re.compile(r"^BENCH_STATES name=(\S+) harts=(\d+) prepare_ns=(\d+) "
                       r"disable_irq_ns=(\d+) run_ns=(\d+) exit_ns=(\d+) halts_per_hart=([\d.]+)")
STATE_KEYS = ["name", "harts", "prepare_ns", "disable_irq_ns", "run_ns", "exit_ns",
              "halts_per_hart"]
# The rendezvous' waiting rules (stop_wait=), each measured in every boot.
STOP_WAITS = ["spin", "wfi", "adaptive"]
STOP_ROWS = [f"stop_machine_{w}" for w in STOP_WAITS]
COLUMNS = ["name", "harts", "median_ns", "p90_ns", "p99_ns", "max_ns", "n"]
CSV_COLUMNS = COLUMNS + ["boot_smp"]
# Always present (the direct path only where the machine has one).
EXPECTED = ["ipi_rtt_sbi", "ipi_rtt", "ipi_rtt_idle", "wakeup_remote", "wake_pingpong_rtt",
            "ctxsw", "stop_one_cpu_remote", "stop_one_cpu_remote_return", "stop_one_cpu_self",
            "stop_nowait_tput", "stop_nowait_tput_spread", "stop_two_cpus", *STOP_ROWS,
            "ipi_bcast_ack", "migrate_running", "lock_handoff_queued", "lock_tput_queued",
            "patch_text", "static_key_flip"]
NEEDS_TWO = {"ipi_rtt_sbi", "ipi_rtt", "ipi_rtt_idle", "ipi_rtt_direct", "wakeup_remote",
             "wake_pingpong_rtt", "stop_one_cpu_remote", "stop_one_cpu_remote_return",
             "stop_two_cpus", "ipi_bcast_ack", "migrate_running", "lock_handoff_queued",
             "lock_tput_queued"}
# Rows measured for N = 1, 2, 4, ... harts within one boot: harts is N.
PER_N = {*STOP_ROWS, "stop_machine_tree", "ipi_bcast_ack", "lock_handoff_queued", "lock_tput_queued",
         "lock_handoff_ticket", "lock_tput_ticket"}
# Machines with a direct S-mode IPI path (ACLINT SSWI, IMSIC) also measure it.
DIRECT_IRQ = {"aclint", "aia"}


# The kernel's bench_only= groups (kernel/apps/bench.c, bench_run()).
GROUPS = ["ipi_rtt", "wakeup_remote", "wake_pingpong_rtt", "ctxsw", "stop_one_cpu",
          "stop_nowait_tput", "stop_two_cpus", "stop_machine", "migrate_running", "lock", "patch"]


def group_of(row):
    if row == "ipi_bcast_ack":
        return "stop_machine"  # measured as stop_machine's floor
    if row == "static_key_flip":
        return "patch"
    return max((g for g in GROUPS if row.startswith(g)), key=len, default=row)


def wanted(group, only):
    return not only or any(fnmatch.fnmatch(group, g) for g in only.split(","))


def row_problem(rows, name):
    """Why the figure `name` is unusable in rows, or None."""
    got = [r for r in rows if r["name"] == name]
    if not got:
        return "missing"
    if any(r["median_ns"] <= 0 or r["n"] <= 0 for r in got):
        return "not positive"
    return None


def run_boot(image, smp, irq, iters, icount, outdir, only="", lock=""):
    append = f"bench_iters={iters}" + (f" bench_only={only}" if only else "") + \
        (f" spinlock={lock}" if lock else "")
    if smp >= 64:
        # spin at 64-128 harts holds a state for seconds: that is the
        # figure, not a stall to report (a warning fails the boot).
        append += " stop_watchdog_ms=30000"
    config = runner.Config(smp=smp, irq=irq, append=append, icount=icount,
                         timeout=300 + 60 * smp, label="bench")
    log = Path(outdir) / f"bench-smp{smp}{'-' + lock if lock else ''}.log"
    outcome = proc.run_command(runner.build_cmd(config, image), log, config.effective_timeout)
    text = log.read_text(errors="replace")
    rows, states = [], []
    for line in ktap.split_lines(text):
        line = line.strip()
        m = RE_BENCH.match(line)
        if m:
            name, *nums = m.groups()
            row = dict(zip(COLUMNS, [name] + [int(x) for x in nums]))
            if name not in PER_N:
                row["harts"] = smp  # the SMP of the boot; per-N rows keep N
            row["boot_smp"] = smp
            rows.append(row)
        m = RE_STATES.match(line)
        if m:
            g = m.groups()
            states.append(dict(zip(STATE_KEYS, [g[0]] + [int(x) for x in g[1:6]] + [float(g[6])])))
    # A measured call that failed is counted by the kernel (BENCH_END
    # errors=N) and its row dropped; any kernel warning fails the boot too.
    warnings = [line.strip() for line in ktap.split_lines(text) if ktap.RE_WARNING.match(line)]
    ok = outcome.exit_code == 0 and "BENCH_END errors=0" in text and not warnings
    for w in warnings[:5]:
        print(f"bench: SMP {smp}: kernel warning: {w}")
    return ok, rows, states, log


def plots(outdir, rows, states):
    """Draw the PNGs the rows allow; the list of files drawn."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        print("bench: gnuplot not found (make deps installs gnuplot-nox); no PNGs")
        return []
    out = Path(outdir)
    script = "set terminal png size 900,520 noenhanced\n"
    drawn = []

    def loglog(xlabel, ylabel, ns, key, series):
        """A log-log line plot's body: one x tic per measured N."""
        return f"""set logscale xy
set xlabel '{xlabel}'
set ylabel '{ylabel}'
set xtics ({", ".join(str(n) for n in ns)})
set key {key}
plot {series}
"""

    def plot(name, title, body):
        """One PNG: its gnuplot commands, from a clean state."""
        drawn.append(out / f"{name}.png")
        return f"\nreset\nset output '{out}/{name}.png'\nset title '{title}'\n{body}"

    # stop_machine: each waiting rule against the floor, by harts (log-log).
    ns = sorted({r["harts"] for r in rows if r["name"] in STOP_ROWS})
    if ns:
        names = STOP_ROWS + ["stop_machine_tree", "ipi_bcast_ack"]
        with open(out / "stop_machine.dat", "w") as f:
            f.write("# harts " + " ".join(f"{n}_us" for n in names) + "\n")
            for n in ns:
                vals = [med(rows, name, n) for name in names]
                f.write(f"{n} " + " ".join(f"{v / 1e3}" if v else "NaN" for v in vals) + "\n")
        titles = [f"stop_machine, stop_wait={w}" for w in STOP_WAITS] + \
            ["adaptive + combining tree", "floor: IPI broadcast + acks"]
        series = ", \\\n     ".join(
            f"'{out}/stop_machine.dat' using 1:{i + 2} with linespoints lw 2 title '{t}'"
            for i, t in enumerate(titles))
        script += plot("stop_machine", "stop_machine (no-op fn) by waiting rule, against its floor "
                       "(median, us)", loglog("harts in the rendezvous", "microseconds (log)", ns,
                                              "left top", series))
    # Where the time goes: each state, stacked, per hart count (adaptive).
    by_n = {s["harts"]: s for s in states if s["name"] == "stop_machine_adaptive"}
    if by_n:
        with open(out / "stop_machine_states.dat", "w") as f:
            f.write("# harts prepare_us disable_irq_us run_us exit_us\n")
            for n in sorted(by_n):
                s = by_n[n]
                f.write(f"{n} {s['prepare_ns']/1e3} {s['disable_irq_ns']/1e3} {s['run_ns']/1e3} "
                        f"{s['exit_ns']/1e3}\n")
        script += plot("stop_machine_states", "stop_machine, stop_wait=adaptive: time per state "
                       "(per hart, us)", f"""set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set xlabel 'harts in the rendezvous'
set ylabel 'microseconds'
set key left top
plot '{out}/stop_machine_states.dat' using 2:xtic(1) title 'PREPARE', '' using 3 title 'DISABLE_IRQ', \\
     '' using 4 title 'RUN', '' using 5 title 'EXIT'
""")
    # latency: each operation next to the IPI floor (smallest boot, 2+ harts).
    rtt = [r["harts"] for r in rows if r["name"] == "ipi_rtt"]
    if rtt:
        smp0 = min(rtt)
        with open(out / "latency.dat", "w") as f:
            for r in rows:
                if r["harts"] == smp0 and r["name"] not in PER_N and "tput" not in r["name"]:
                    f.write(f"\"{r['name']}\" {r['median_ns']/1e3} {r['p90_ns']/1e3}\n")
        script += plot("latency", "Latency of each operation next to the IPI round-trip floor "
                       f"(SMP {smp0}, median and p90, us)", f"""set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -35
set logscale y
set ylabel 'microseconds (log)'
set xlabel ''
plot '{out}/latency.dat' using 2:xtic(1) title 'median', '' using 3 title 'p90'
""")
    # locks: throughput per number of contending harts, queued and ticket.
    ns = sorted({r["harts"] for r in rows if r["name"].startswith("lock_tput_")})
    if ns:
        with open(out / "locks.dat", "w") as f:
            f.write("# harts queued_ops_per_s ticket_ops_per_s\n")
            for n in ns:
                q, t = med(rows, "lock_tput_queued", n), med(rows, "lock_tput_ticket", n)
                f.write(f"{n} {q if q else 'NaN'} {t if t else 'NaN'}\n")
        script += plot("locks", "One spinlock, N harts taking it in a loop: acquisitions per "
                       "second (median)",
                       loglog("contending harts", "acquisitions per second (log)", ns, "right top",
                              f"'{out}/locks.dat' using 1:2 with linespoints lw 2 title 'queued', "
                              "'' using 1:3 with linespoints lw 2 title 'ticket (spinlock=ticket)'"))
    if not drawn:
        return []
    res = subprocess.run([gnuplot], input=script, text=True, capture_output=True)
    if res.returncode != 0:
        print("bench: gnuplot failed:", res.stderr.strip()[:500])
        return []
    return drawn


def med(rows, name, harts=None):
    # The last boot that measured it: lock rows of a given N come from
    # every boot with that many harts or more, the largest boot last.
    vals = [r["median_ns"] for r in rows if r["name"] == name and (harts is None or r["harts"] == harts)]
    return vals[-1] if vals else None


def ratios(rows, smps):
    lines = []
    for smp in smps:
        rtt, one = med(rows, "ipi_rtt", smp), med(rows, "stop_one_cpu_remote", smp)
        mig = med(rows, "migrate_running", smp)
        if rtt and one:
            lines.append(f"SMP {smp}: stop_one_cpu (call->fn) / IPI round trip = {one / rtt:.2f}")
        if one and mig:
            lines.append(f"SMP {smp}: migration / stop_one_cpu = {mig / one:.2f}")
        # The two-hart rendezvous of this boot: both rules in the same boot.
        same = [r for r in rows if r.get("boot_smp") == smp and r["harts"] == 2]
        spin = next((r["median_ns"] for r in same if r["name"] == "stop_machine_spin"), None)
        adaptive = next((r["median_ns"] for r in same if r["name"] == "stop_machine_adaptive"), None)
        if spin and adaptive:
            lines.append(f"SMP {smp}: stop_machine(2) adaptive / spin (same boot) = "
                         f"{adaptive / spin:.2f}")
    # stop_machine(N) against its floor (IPIs to the other N-1 harts and
    # their acks), for every N, from the largest boot that measured it.
    for n in sorted({r["harts"] for r in rows if r["name"] == "ipi_bcast_ack"}):
        floor = med(rows, "ipi_bcast_ack", n)
        parts = [f"{w} {med(rows, f'stop_machine_{w}', n) / floor:.1f}"
                 for w in STOP_WAITS + ["tree"] if med(rows, f"stop_machine_{w}", n)]
        if floor and parts:
            lines.append(f"{n} harts: stop_machine / (IPI broadcast + ack): " + ", ".join(parts))
    # Lock rows: per N contending harts, from the largest boot that has both kinds.
    for n in sorted({r["harts"] for r in rows if r["name"] == "lock_tput_queued"}):
        q, t = med(rows, "lock_tput_queued", n), med(rows, "lock_tput_ticket", n)
        hq, ht = med(rows, "lock_handoff_queued", n), med(rows, "lock_handoff_ticket", n)
        if q and t:
            lines.append(f"{n} contending harts: lock throughput queued / ticket = {q / t:.2f}"
                         + (f"; hand-off ticket / queued = {ht / hq:.2f}" if hq and ht else ""))
    return lines


def table(rows):
    """The collected figures as one table (all boots), as the console shows them."""
    out = [f"{'name':<28} {'harts':>5} {'median_us':>10} {'p90_us':>10} {'p99_us':>10} "
           f"{'max_us':>10} {'n':>6}"]
    for r in rows:
        if "tput" in r["name"]:   # works per second, not ns
            out.append(f"{r['name']:<28} {r['harts']:>5} {r['median_ns']:>10} {r['p90_ns']:>10} "
                       f"{r['p99_ns']:>10} {r['max_ns']:>10} {r['n']:>6}  (per s)")
        else:
            out.append(f"{r['name']:<28} {r['harts']:>5} {r['median_ns'] / 1e3:>10.1f} "
                       f"{r['p90_ns'] / 1e3:>10.1f} {r['p99_ns'] / 1e3:>10.1f} "
                       f"{r['max_ns'] / 1e3:>10.1f} {r['n']:>6}")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--image", required=True)
    p.add_argument("--smp", default="2,4,8,16")
    p.add_argument("--irq", default="aclint", help="aclint: both SBI and direct IPIs exist")
    p.add_argument("--iters", type=int, default=1000)
    p.add_argument("--icount", action="store_true")
    p.add_argument("--out", default="build/bench")
    p.add_argument("--check", action="store_true", help="short run: figures present and positive")
    p.add_argument("--only", default="", help="bench_only= globs (kernel/apps/bench.c)")
    p.add_argument("--locks", default="queued,ticket",
                   help="queued: default boot only; queued,ticket: plus a lock-only ticket boot")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    smps = [int(x) for x in args.smp.split(",") if x]
    all_rows, all_states, failures = [], [], []
    for smp in smps:
        ok, rows, states, log = run_boot(args.image, smp, args.irq, args.iters, args.icount, out,
                                         only=args.only)
        print(f"bench: SMP {smp}: {'ok' if ok else 'FAILED'}, {len(rows)} figures ({log})")
        if not ok:
            failures.append(f"SMP {smp} boot did not finish the bench (see {log})")
        all_rows += rows
        all_states += [dict(s, smp=smp) for s in states]
        expected = EXPECTED + (["ipi_rtt_direct"] if args.irq in DIRECT_IRQ else [])
        if args.only:
            expected = [e for e in expected if wanted(group_of(e), args.only)]
        if "ticket" in args.locks.split(",") and smp >= 2 and wanted("lock", args.only):
            tok, trows, _, tlog = run_boot(args.image, smp, args.irq, args.iters, args.icount, out,
                                           only="lock", lock="ticket")
            print(f"bench: SMP {smp} spinlock=ticket: {'ok' if tok else 'FAILED'}, "
                  f"{len(trows)} figures ({tlog})")
            if not tok:
                failures.append(f"SMP {smp} ticket boot did not finish the lock bench (see {tlog})")
            all_rows += trows
            for name in ("lock_handoff_ticket", "lock_tput_ticket"):
                problem = row_problem(trows, name)
                if problem:
                    failures.append(f"SMP {smp} spinlock=ticket: {name} {problem}")
        for name in expected:
            if smp < 2 and name in NEEDS_TWO:
                continue
            problem = row_problem(rows, name)
            if problem:
                failures.append(f"SMP {smp}: {name} {problem}")
        # Every stop_machine_*(N) row comes with its per-state times.
        sm = sorted((r["name"], r["harts"]) for r in rows if r["name"].startswith("stop_machine_"))
        st = sorted((s["name"], s["harts"]) for s in states)
        if sm != st:
            failures.append(f"SMP {smp}: BENCH_STATES for {st}, stop_machine rows for {sm}")
    with open(out / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for r in all_rows:
            w.writerow(r)
    with open(out / "results.json", "w") as f:
        json.dump({"rows": all_rows, "stop_machine_states": all_states,
                   "qemu": " ".join(runner.build_cmd(runner.Config(smp=smps[-1], irq=args.irq,
                                                               append=f"bench_iters={args.iters}",
                                                               icount=args.icount), args.image)),
                   "note": "*_tput* rows: median_ns etc. hold operations per second"},
                  f, indent=1)
    print(f"bench: {len(all_rows)} rows -> {out}/results.csv, {out}/results.json")
    if not args.check:
        # Largest boot: the per-N plots use every N it measured.
        big = max(smps)
        drawn = plots(out, all_rows, [s for s in all_states if s["smp"] == big])
        if drawn:
            print(f"bench: plots -> {', '.join(str(d) for d in drawn)}")
        for line in table(all_rows):
            print(line)
        for line in ratios(all_rows, smps):
            print("ratio:", line)
    for f in failures:
        print("not ok -", f)
    print(runner.tally_line(0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
