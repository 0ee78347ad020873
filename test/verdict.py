"""The verdict on one boot: a pure function of the parsed log and of how
the emulator ended.
"""

import dataclasses
import fnmatch
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ktap import ParsedLog, Result, Suite
from proc import MAX_LOG_BYTES, Outcome

# QEMU exit statuses the kernel uses when it powers off.
EXIT_PASS, EXIT_FAIL, EXIT_PANIC = 0, 1, 3


@dataclasses.dataclass
class Verdict:
    """PASS/FAIL plus every problem found, most important first."""
    passed: bool
    problems: List[str]
    # Cases the kernel called ok (or skipped) that fail here: a warning
    # they did not declare, or a declared one that did not appear.
    warn_failed: List[str] = dataclasses.field(default_factory=list)

    @property
    def reason(self) -> str:
        """One line: the first problem, noting how many more there are."""
        if not self.problems:
            return ""
        more = len(self.problems) - 1
        return self.problems[0] + (f" (+{more} more)" if more else "")


def case_label(suite: Suite, case: Result) -> str:
    return f"{suite.name or '?'}.{case.name or '#' + str(case.number)}"


def check_hart_table(log: ParsedLog, smp: int) -> List[str]:
    """QEMU virt lists harts 0..smp-1: each must be in the table, online, and
    the boot hart (whichever the lottery chose) must be CPU 0."""
    if log.hart_table is None:
        return ["no hart table in the boot output"]
    problems = []
    harts = sorted(h for h, _, _ in log.hart_table)
    if harts != list(range(smp)):
        problems.append(f"hart table lists harts {harts[:8]}{'...' if len(harts) > 8 else ''}"
                        f", want 0..{smp - 1}")
    offline = [h for h, _, state in log.hart_table if state != "online"]
    if offline:
        problems.append(f"harts not online: {offline[:8]}")
    cpu0 = [h for h, cpu, _ in log.hart_table if cpu == 0]
    if log.boot_hart is not None and cpu0 != [log.boot_hart]:
        problems.append(f"CPU 0 is hart {cpu0}, but hart {log.boot_hart} booted")
    return problems


def check_warnings(log: ParsedLog) -> Tuple[List[str], List[str]]:
    """The warning rule: every kernel warning (a printk of level 0..4) must
    be declared by the case it appears in (ktest_expect_warn(): a
    substring and an exact count), and every declaration must be met.
    Warnings outside any case fail the run. Returns (problems, labels of
    the cases that broke the rule)."""
    problems, bad = [], []
    for w in log.stray_warnings:
        problems.append(f"kernel warning outside any case: {w[:160]}")
    for suite, case in log.cases():
        label = case_label(suite, case)
        mine = []
        for w in case.warnings:
            if not any(pat in w for pat, _, _ in case.expected_warnings):
                mine.append(f"{label}: undeclared kernel warning: {w[:160]}")
        for pat, want, at_least in case.expected_warnings:
            got = sum(1 for w in case.warnings if pat in w)
            if got < want or (got > want and not at_least):
                mine.append(f"{label}: declared warning \"{pat}\" appeared {got} time"
                            f"{'s' if got != 1 else ''}, expected "
                            f"{'at least ' if at_least else ''}{want}")
        if mine:
            bad.append(label)
            problems.extend(mine)
    return problems, bad


# ---- the manifest: the suites and cases the sources define ----

RE_SUITE = re.compile(r"KTEST_SUITE\(\s*(\w+)\s*,(.*?)\);", re.S)
RE_CASE = re.compile(r"KTEST_CASE\(\s*(\w+)\s*\)")


def load_manifest(src_dir: Path) -> Dict[str, List[str]]:
    """Every KTEST_SUITE() in the suites' sources: name -> its cases in order.

    Read from the sources, not from the image, so that a suite the build
    dropped (a file left out of the link, a lost section) is missed."""
    manifest: Dict[str, List[str]] = {}
    for f in sorted(Path(src_dir).glob("*.c")):
        text = re.sub(r"/\*.*?\*/", "", f.read_text(), flags=re.S)
        for m in RE_SUITE.finditer(text):
            manifest[m.group(1)] = RE_CASE.findall(m.group(2))
    return manifest


def selected_suites(manifest: Dict[str, List[str]], append: str) -> Tuple[List[str], List[str]]:
    """The suites a boot with these arguments must run (test=GLOB[,GLOB]),
    and the globs that match none (each one a problem)."""
    globs = []
    for arg in append.split():
        if arg.startswith("test="):
            globs = [g for g in arg[len("test="):].split(",") if g]
    if not globs:
        return sorted(manifest), []
    chosen = [s for s in manifest if any(fnmatch.fnmatchcase(s, g) for g in globs)]
    dead = [g for g in globs if not any(fnmatch.fnmatchcase(s, g) for s in manifest)]
    return sorted(chosen), dead


def check_manifest(log: ParsedLog, manifest: Dict[str, List[str]], append: str) -> List[str]:
    """The boot ran exactly the suites its row asked for, each with every
    case the sources give it, by name and in order."""
    want, dead = selected_suites(manifest, append)
    problems = [f"test={g} matches no suite" for g in dead]
    ran = {s.name: s for s in log.suites if s.name}
    for name in want:
        suite = ran.get(name)
        if suite is None:
            problems.append(f"suite {name} ({len(manifest[name])} cases) did not run")
            continue
        got = [c.name for c in suite.cases]
        if got != manifest[name]:
            missing = [c for c in manifest[name] if c not in got]
            extra = [c for c in got if c not in manifest[name]]
            problems.append(f"suite {name}: ran {len(got)} cases, the sources have "
                            f"{len(manifest[name])}" + (f"; missing {missing[:3]}" if missing else "")
                            + (f"; unknown {extra[:3]}" if extra else ""))
    for name in ran:
        if name not in want:
            problems.append(f"suite {name} ran but was not asked for")
    return problems


def judge(log: ParsedLog, outcome: Outcome, timeout: float,
          expect_harts: Optional[int] = None,
          manifest: Optional[Dict[str, List[str]]] = None, append: str = "") -> Verdict:
    """Apply the PASS rules to a parsed log and the way QEMU ended.

    PASS only if QEMU exited by itself with 0 in time, KTAP was complete and
    self-consistent, no case or suite said "not ok", there was no panic and
    the kernel's totals line agrees with what we counted.  Problems are
    collected in priority order so the one-line reason is the most useful.
    """
    problems: List[str] = []
    if log.panic_line is not None:
        extra = f" ({log.panic_count} panic lines)" if log.panic_count > 1 else ""
        problems.append(f"{log.panic_line}{extra}")
    if outcome.start_error is not None:
        problems.append(f"could not start QEMU: {outcome.start_error}")
    elif outcome.timed_out:
        problems.append(f"hang after {timeout:g}s")
    elif outcome.flooded:
        problems.append(f"console flood: log passed {MAX_LOG_BYTES >> 20} MiB after "
                        f"{outcome.elapsed:.0f}s, QEMU killed")
    elif outcome.exit_code is not None and outcome.exit_code < 0 and not outcome.flooded:
        problems.append(f"QEMU killed by signal {-outcome.exit_code}")
    if not log.ktap_seen:
        problems.append("no KTAP output (no 'KTAP version 1' line)")
    failed = log.failed_cases()
    if failed:
        names = ", ".join(case_label(s, c) for s, c in failed[:3])
        more = f", ... ({len(failed)} total)" if len(failed) > 3 else ""
        problems.append(f"{len(failed)} failed case{'s' if len(failed) != 1 else ''}: {names}{more}")
    failing_suites = {s.name for s, _ in failed}
    for res in log.top_results:
        if not res.ok and not res.skipped and res.name not in failing_suites:
            problems.append(f"suite {res.name or '#' + str(res.number)} reported not ok")
    if log.ktap_seen:
        if log.top_plan is None:
            problems.append("missing top-level plan 1..S")
        elif len(log.top_results) != log.top_plan:
            problems.append(f"top-level plan 1..{log.top_plan} but {len(log.top_results)} suite results")
        for suite in log.suites:
            if suite.plan is None:
                problems.append(f"suite {suite.name or '?'}: missing plan")
            elif suite.plan != len(suite.cases):
                problems.append(f"suite {suite.name or '?'}: plan 1..{suite.plan} "
                                f"but {len(suite.cases)} case results")
        counted = (log.passed, log.failed, log.skipped)
        if log.totals is None:
            problems.append("missing '# totals:' line")
        elif log.totals != counted:
            problems.append("totals mismatch: kernel says %d passed, %d failed, %d skipped; "
                            "parsed %d passed, %d failed, %d skipped" % (log.totals + counted))
        if log.ktap_restarts:
            problems.append(f"KTAP output restarted {log.ktap_restarts} time(s) (kernel rebooted?)")
    code = outcome.exit_code
    if code is not None and code > 0 and not outcome.timed_out and not outcome.flooded:
        explained = ((code == EXIT_FAIL and failed) or
                     (code == EXIT_PANIC and log.panic_line is not None))
        if not explained:
            meaning = {EXIT_FAIL: " (kernel says tests failed)",
                       EXIT_PANIC: " (kernel panic)"}.get(code, "")
            problems.append(f"exit status {code}{meaning}")
    if expect_harts is not None and log.ktap_seen:
        problems += check_hart_table(log, expect_harts)
    if log.garbled:
        problems.append(f"{len(log.garbled)} printk line(s) garbled on the console, e.g. "
                        f"{log.garbled[0].strip()[:100]!r}")
    warn_problems, warn_failed = check_warnings(log)
    problems += warn_problems
    if manifest is not None and log.ktap_seen:
        problems += check_manifest(log, manifest, append)
    return Verdict(passed=not problems, problems=problems, warn_failed=warn_failed)
