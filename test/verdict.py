"""The verdict on one boot: a pure function of the parsed log and of how
the emulator ended.
"""

import dataclasses
from typing import List, Optional

from ktap import ParsedLog, Result, Suite
from proc import MAX_LOG_BYTES, Outcome

# QEMU exit statuses the kernel uses when it powers off.
EXIT_PASS, EXIT_FAIL, EXIT_PANIC = 0, 1, 3


@dataclasses.dataclass
class Verdict:
    """PASS/FAIL plus every problem found, most important first."""
    passed: bool
    problems: List[str]

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


def judge(log: ParsedLog, outcome: Outcome, timeout: float, fail_on_warn: bool = False,
          expect_harts: Optional[int] = None) -> Verdict:
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
    if fail_on_warn and log.warnings:
        problems.append(f"{len(log.warnings)} kernel warning(s) (--fail-on-warn)")
    return Verdict(passed=not problems, problems=problems)
