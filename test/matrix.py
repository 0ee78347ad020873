#!/usr/bin/env python3
"""Run the Hartstop test image over the standard QEMU configuration matrix.

    python3 test/matrix.py --image build/hartstop-test.elf [--jobs 2] \\
        [--only SMP=4,FW=jump,IRQ=aia] [--append ARGS] [--icount] \\
        [--log-dir DIR] [--list] \\
        [--extra-passed P --extra-failed F]

Runs are spread over a small thread pool (each thread just waits on one
QEMU), one compact line is printed per run as it finishes, then a summary
block, and the very last line is "N passed, N failed": case counts summed
over every run plus the --extra-* counts (the Makefile feeds host-test
counts in this way so one line tells the whole story).
"""

import argparse
import concurrent.futures
import dataclasses
import shlex
import sys
import time
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))
import proc  # noqa: E402 (sibling module)
import runner  # noqa: E402 (sibling module)
import verdict  # noqa: E402 (sibling module)

# The standard matrix: edit here.  One row per configuration; repeats > 1
# boots it that many times (logs get -r1..-rN) and reports the boot-hart
# lottery over those boots (each runs the boot, smp and timer suites: the
# parts a different boot hart could break; the full suites run once per
# other row).  timeout None = runner.default_timeout(smp) (150 s + 8 s per
# hart).  The 128-hart row runs every suite (about 2 minutes on the 2-core
# host: the queued spinlock's waiters and every cross-hart wait halt, so
# 128 MTTCG vCPUs on 2 host cores do not convoy).
MATRIX = [
    # smp  fw         irq       mem     repeats  timeout  why
    (1,    "dynamic", "plain",  "256M", 1,       None,    "smp scaling"),
    (2,    "dynamic", "plain",  "256M", 1,       None,    "smp scaling"),
    (4,    "dynamic", "plain",  "256M", 1,       None,    "smp scaling; fw x irq at smp4"),
    (8,    "dynamic", "plain",  "256M", 1,       None,    "smp scaling"),
    (32,   "dynamic", "plain",  "256M", 1,       None,    "smp scaling"),
    (4,    "dynamic", "aclint", "256M", 1,       None,    "fw x irq at smp4"),
    (4,    "dynamic", "aia",    "256M", 1,       None,    "fw x irq at smp4"),
    (4,    "jump",    "plain",  "256M", 1,       None,    "fw x irq at smp4"),
    (4,    "jump",    "aclint", "256M", 1,       None,    "fw x irq at smp4"),
    (4,    "jump",    "aia",    "256M", 1,       None,    "fw x irq at smp4"),
    (8,    "jump",    "aclint", "256M", 1,       None,    "smp8 irq variants"),
    (8,    "dynamic", "aia",    "256M", 1,       None,    "smp8 irq variants"),
    (8,    "dynamic", "plain",  "256M", 10,      None,    "boot-hart lottery", "test=boot,smp,timer", "", "lottery"),
    # Extra columns: boot arguments, -cpu, a label for the name.
    (4,    "dynamic", "aclint", "256M", 1,       None,    "IPI=sbi beside SSWI", "ipi=sbi", "", "ipisbi"),
    (4,    "jump",    "plain",  "256M", 1,       None,    "SBI TIME timer", "", "rv64,sstc=false", "nosstc"),
    (128,  "dynamic", "plain",  "512M", 1,       600,     "every suite at 128 harts"),
    # The TCG modes (11th column, test/qemu.py TCG_MODES): the whole test
    # image where an interrupt can land between any two instructions, on
    # one host thread, and in deterministic virtual time.
    (4,    "dynamic", "plain",  "256M", 1,       None,    "interrupts anywhere", "", "", "singlestep", "singlestep"),
    (4,    "dynamic", "plain",  "256M", 1,       None,    "one host thread", "", "", "tcg-single", "single"),
    (4,    "dynamic", "aclint", "256M", 1,       None,    "virtual time", "", "", "icount", "icount"),
]

ONLY_KEYS = ("SMP", "FW", "IRQ", "MEM")


def expand(rows, append: str = "", icount: bool = False) -> List[List[runner.Config]]:
    """Turn table rows into groups of Configs (a group = a row's repeats).

    Names must be unique because they name the log files.
    """
    groups = []
    for row in rows:
        smp, fw, irq, mem, repeats, timeout, _why = row[:7]
        row_append = " ".join(filter(None, (row[7] if len(row) > 7 else "", append)))
        cpu = row[8] if len(row) > 8 else ""
        label = row[9] if len(row) > 9 else ""
        tcg = row[10] if len(row) > 10 else ""
        base = runner.Config(smp=smp, fw=fw, irq=irq, mem=mem, append=row_append, cpu=cpu,
                           label=label, icount=icount, timeout=timeout, tcg=tcg)
        if repeats > 1:
            groups.append([dataclasses.replace(base, repeat=i + 1) for i in range(repeats)])
        else:
            groups.append([base])
    names = [c.name for g in groups for c in g]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"matrix has duplicate configurations: {', '.join(dupes)}")
    return groups


def parse_only(spec: str) -> Dict[str, str]:
    """Parse "SMP=4,FW=jump,IRQ=aia" (keys case-insensitive, empty values ignored).

    Empty values are dropped so a Makefile can always pass all three keys.
    """
    only: Dict[str, str] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, sep, value = item.partition("=")
        key = key.strip().upper()
        if not sep or key not in ONLY_KEYS:
            raise ValueError(f"bad --only item {item!r} (want KEY=VALUE with KEY in {', '.join(ONLY_KEYS)})")
        if value.strip():
            only[key] = value.strip()
    if "SMP" in only and not only["SMP"].isdigit():
        raise ValueError(f"--only SMP must be a number, got {only['SMP']!r}")
    if "FW" in only and only["FW"] not in runner.FW_BIOS:
        raise ValueError(f"--only FW must be one of {', '.join(sorted(runner.FW_BIOS))}")
    if "IRQ" in only and only["IRQ"] not in runner.IRQ_MACHINE:
        raise ValueError(f"--only IRQ must be one of {', '.join(sorted(runner.IRQ_MACHINE))}")
    return only


def select(rows, only: Dict[str, str]):
    """Rows matching --only.

    With SMP, FW and IRQ all given this is exactly one configuration, booted
    once: the table's row if there is one (for its mem/timeout), otherwise
    a row made up on the spot, so `make test SMP=16 ...` works too.  A
    partial filter returns every matching row as it is in the table.
    """
    if not only:
        return list(rows)

    def matches(row):
        smp, fw, irq, mem = row[:4]
        want = {"SMP": str(smp), "FW": fw, "IRQ": irq, "MEM": mem}
        return all(want[k] == v for k, v in only.items())

    hits = [row for row in rows if matches(row)]
    if all(k in only for k in ("SMP", "FW", "IRQ")):
        if hits:
            # The plain configuration: variant columns (boot arguments,
            # -cpu, label) stay out of an exact selection.
            smp, fw, irq, mem, _repeats, timeout, why = hits[0][:7]
            return [(smp, fw, irq, only.get("MEM", mem), 1, timeout, why)]
        return [(int(only["SMP"]), only["FW"], only["IRQ"], only.get("MEM", runner.DEFAULT_MEM),
                 1, None, "--only")]
    return hits


def cost_order(configs: List[runner.Config]) -> List[runner.Config]:
    """Start the longest runs first so the pool's tail is short."""
    return sorted(configs, key=lambda c: -c.effective_timeout)


def run_matrix(groups, image: str, jobs: int, log_dir: Path,
               out=None) -> Dict[str, runner.RunResult]:
    """Run every config on a thread pool, printing a line per finished run."""
    out = out or sys.stdout
    configs = [c for g in groups for c in g]
    width = max(len(c.name) for c in configs)
    results: Dict[str, runner.RunResult] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(runner.run_config, c, image, log_dir): c
                   for c in cost_order(configs)}
        try:
            for fut in concurrent.futures.as_completed(futures):
                r = fut.result()
                results[r.config.name] = r
                print(runner.format_run_line(r, width), file=out, flush=True)
        except BaseException:
            proc.kill_all()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return results


def summary(groups, results: Dict[str, runner.RunResult], extra_passed: int, extra_failed: int,
            elapsed: float) -> List[str]:
    """The summary block; its last line is the contract 'N passed, N failed'."""
    ordered = [results[c.name] for g in groups for c in g if c.name in results]
    bad = [r for r in ordered if not r.passed]
    lines = ["", "==== matrix summary ===="]
    lines.append(f"runs: {len(ordered) - len(bad)} passed, {len(bad)} failed "
                 f"({len(ordered)} total, {elapsed:.1f} s wall)")
    for r in ordered:
        details = runner.format_details(r)
        if details:
            lines.append(f"{'PASS' if r.passed else 'FAIL'} {r.config.name}"
                         + ("" if r.passed else f"  {r.verdict.reason}"))
            lines.extend(details)
    for g in groups:
        if len(g) > 1:
            lines.append(runner.lottery_line([results[c.name] for c in g if c.name in results]))
    cp = sum(r.cases_passed for r in ordered)
    cf = sum(r.cases_failed for r in ordered)
    cs = sum(r.cases_skipped for r in ordered)
    # What the counts are: distinct cases (from the sources), how many
    # configurations ran them, and the other checks apart.
    manifest = verdict.load_manifest(runner.SUITES_DIR)
    distinct = sum(len(cases) for cases in manifest.values())
    lines.append(f"kernel cases: {distinct} distinct in {len(manifest)} suites, run over "
                 f"{len(ordered)} configurations: {cp} passed, {cf} failed, {cs} skipped")
    if extra_passed or extra_failed:
        lines.append(f"other checks (lint, runner self-test, host tests, image checks, shell, "
                     f"short bench, mutants): {extra_passed} passed, {extra_failed} failed")
    lines.append(runner.tally_line(cp + extra_passed, cf + extra_failed))
    return lines


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Run the Hartstop QEMU test matrix.")
    p.add_argument("--image", required=True, help="kernel ELF, e.g. build/hartstop-test.elf")
    p.add_argument("--jobs", type=int, default=2, help="QEMUs at once (default 2)")
    p.add_argument("--only", default="", help="filter, e.g. SMP=4,FW=jump,IRQ=aia")
    p.add_argument("--append", default="", help="kernel command line for every run")
    p.add_argument("--icount", action="store_true", help="add -icount shift=4,sleep=off to every run")
    p.add_argument("--log-dir", default=str(runner.DEFAULT_LOG_DIR), help="where <config>.log files go")
    p.add_argument("--list", action="store_true", help="print the selected runs and exit")
    p.add_argument("--extra-passed", type=int, default=0, help="passed counts to add (host tests)")
    p.add_argument("--extra-failed", type=int, default=0, help="failed counts to add (host tests)")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error("--jobs must be >= 1")
    try:
        args.only = parse_only(args.only)
    except ValueError as e:
        p.error(str(e))
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    rows = select(MATRIX, args.only)
    if not rows:
        print(f"error: --only {args.only} matches no configuration", file=sys.stderr)
        print(runner.tally_line(args.extra_passed, args.extra_failed + 1))
        return 2
    groups = expand(rows, args.append, args.icount)
    configs = [c for g in groups for c in g]
    if args.list:
        for c in configs:
            print(f"{c.name:<24} timeout={c.effective_timeout:>4g}s  {shlex.join(runner.build_cmd(c, args.image))}")
        return 0
    if not Path(args.image).is_file():
        print(f"error: image {args.image} not found (build it first)", file=sys.stderr)
        print(runner.tally_line(args.extra_passed, args.extra_failed + 1))
        return 2
    proc.install_sigterm_handler()
    print(f"matrix: {len(configs)} runs, {args.jobs} at a time, image {args.image}, "
          f"logs in {args.log_dir}", flush=True)
    start = time.monotonic()
    try:
        results = run_matrix(groups, args.image, args.jobs, Path(args.log_dir))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        print(runner.tally_line(args.extra_passed, args.extra_failed + 1))
        return 130
    for line in summary(groups, results, args.extra_passed, args.extra_failed,
                        time.monotonic() - start):
        print(line)
    ok = all(r.passed for r in results.values()) and len(results) == len(configs)
    return 0 if ok and args.extra_failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
