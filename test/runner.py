"""Booting the Hartstop test image under QEMU, one configuration at a time.

A Config is one QEMU boot; build_cmd() is the one place its command line
is assembled (make qemu uses it too); run_config() boots it, captures the
console, parses it (ktap.py), reads the harts if it hangs (qmp.py), judges
it (verdict.py) and symbolises what needs it (symbols.py). The CLIs are
test/qemu.py (one configuration) and test/matrix.py (the standard matrix).
Standard library only: CI runs Debian 12's python3 with nothing else.
"""

import dataclasses
import os
import shutil
import tempfile
from pathlib import Path
from typing import List, Optional

from ktap import RE_SEED, ParsedLog, parse_log
from proc import Outcome, run_command
from qmp import format_harts
from symbols import ADDR2LINE, symbolise, symbolise_report
from verdict import Verdict, case_label, judge, load_manifest

QEMU_BIN = "qemu-system-riscv64"
JUMP_FW = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"

# FW knob -> value of -bios.  "dynamic" is QEMU's bundled OpenSBI (fw_dynamic);
# "jump" is Debian's OpenSBI fw_jump, which jumps to the kernel at 0x80200000.
FW_BIOS = {"dynamic": "default", "jump": JUMP_FW}

# IRQ knob -> -machine value.  "plain" is CLINT + PLIC.
IRQ_MACHINE = {"plain": "virt", "aclint": "virt,aclint=on", "aia": "virt,aia=aplic-imsic"}

# TCG modes beyond the default (MTTCG: a host thread per hart, interrupts
# taken between translation blocks).  "singlestep": a block per
# instruction, so interrupts land between any two instructions; "single":
# one host thread runs every hart in turn; "icount": that, in virtual time
# counted in instructions (deterministic).
TCG_MODES = {"": [], "singlestep": ["-singlestep"], "single": ["-accel", "tcg,thread=single"],
             "icount": ["-icount", "shift=4,sleep=off"]}

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOG_DIR = REPO_ROOT / "build" / "test" / "logs"
DEFAULT_MEM = "256M"
TAIL_LINES = 20
MAX_WARNINGS_SHOWN = 10




def default_timeout(smp: int) -> float:
    """Seconds to wait for a boot before calling it a hang.

    The CI machine has 2 cores and the matrix runs 2 QEMUs at once, so every
    emulated hart is heavily oversubscribed: budget a base plus a per-hart
    cost, and give the 128-hart boot its own big budget.
    """
    if smp >= 128:
        return 600.0
    return 150.0 + 8.0 * smp


@dataclasses.dataclass(frozen=True)
class Config:
    """One QEMU boot: the knobs of the command line plus run policy."""
    smp: int
    fw: str = "dynamic"
    irq: str = "plain"
    mem: str = DEFAULT_MEM
    append: str = ""
    icount: bool = False
    timeout: Optional[float] = None   # None: default_timeout(smp)
    repeat: Optional[int] = None      # N of a repeated run, gives "-rN"
    cpu: str = ""                     # -cpu value, e.g. "rv64,sstc=false"
    label: str = ""                   # name suffix telling variants apart
    tcg: str = ""                     # a TCG_MODES key

    @property
    def name(self) -> str:
        """Config name used for the log file and report lines."""
        base = f"smp{self.smp}-{self.fw}-{self.irq}"
        if self.label:
            base += f"-{self.label}"
        return base if self.repeat is None else f"{base}-r{self.repeat}"

    @property
    def effective_timeout(self) -> float:
        return self.timeout if self.timeout is not None else default_timeout(self.smp)


def build_cmd(config: Config, image: str, qemu: str = QEMU_BIN) -> List[str]:
    """The one place the QEMU argv is assembled (make qemu uses it too)."""
    if config.fw not in FW_BIOS:
        raise ValueError(f"unknown FW {config.fw!r} (want one of {sorted(FW_BIOS)})")
    if config.irq not in IRQ_MACHINE:
        raise ValueError(f"unknown IRQ {config.irq!r} (want one of {sorted(IRQ_MACHINE)})")
    if config.smp < 1:
        raise ValueError(f"SMP must be >= 1, got {config.smp}")
    if config.tcg not in TCG_MODES:
        raise ValueError(f"unknown TCG mode {config.tcg!r} (want one of {sorted(TCG_MODES)})")
    cmd = [qemu,
           "-machine", IRQ_MACHINE[config.irq],
           "-smp", str(config.smp),
           "-m", config.mem,
           "-nographic",
           "-bios", FW_BIOS[config.fw],
           "-kernel", str(image)]
    if config.cpu:
        cmd += ["-cpu", config.cpu]
    if config.append:
        cmd += ["-append", config.append]
    if config.icount and config.tcg != "icount":
        cmd += TCG_MODES["icount"]
    cmd += TCG_MODES[config.tcg]
    return cmd



@dataclasses.dataclass
class RunResult:
    config: Config
    image: str
    log_path: Path
    outcome: Outcome
    log: ParsedLog
    verdict: Verdict
    backtrace: List[str]
    hart_lines: List[str] = dataclasses.field(default_factory=list)  # at a hang

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    def _reclassified(self):
        """Cases the kernel passed or skipped that the warning rule fails."""
        bad = set(self.verdict.warn_failed)
        return [c for s, c in self.log.cases()
                if case_label(s, c) in bad and (c.ok or c.skipped)]

    @property
    def cases_passed(self) -> int:
        return self.log.passed - sum(1 for c in self._reclassified() if not c.skipped)

    @property
    def cases_failed(self) -> int:
        """Failed cases; a run failing for a non-case reason counts 1."""
        return max(self.log.failed + len(self._reclassified()), 0 if self.passed else 1)

    @property
    def cases_skipped(self) -> int:
        return self.log.skipped - sum(1 for c in self._reclassified() if c.skipped)


# Where the suites are defined: the manifest every real boot is held to.
SUITES_DIR = REPO_ROOT / "test" / "ktest"


def run_config(config: Config, image: str, log_dir: Path = DEFAULT_LOG_DIR, *,
               echo: bool = False, cmd: Optional[List[str]] = None,
               addr2line: str = ADDR2LINE) -> RunResult:
    """Boot one configuration and judge it.

    cmd overrides the QEMU argv (tests use a fake command); everything
    else - logging, timeout, parsing, verdict - is the real path.
    """
    argv = cmd if cmd is not None else build_cmd(config, image)
    log_path = Path(log_dir) / f"{config.name}.log"
    timeout = config.effective_timeout
    # A monitor socket, so that a hang can say where every hart is. Its
    # own short directory: unix socket paths are limited to ~100 bytes.
    qmp_dir = tempfile.mkdtemp(prefix="hartstop-qmp-") if cmd is None else None
    qmp_path = os.path.join(qmp_dir, "qmp") if qmp_dir else None
    if qmp_path:
        argv = argv + ["-qmp", f"unix:{qmp_path},server=on,wait=off"]
    try:
        outcome = run_command(argv, log_path, timeout, echo=echo, qmp_path=qmp_path)
    finally:
        if qmp_dir:
            shutil.rmtree(qmp_dir, ignore_errors=True)
    text = log_path.read_bytes().decode("utf-8", "replace")
    log = parse_log(text)
    # A real boot must list every hart and run every suite its arguments
    # select, case by case (canned runs in the self-test have neither).
    real = cmd is None
    verdict = judge(log, outcome, timeout, expect_harts=config.smp if real else None,
                    manifest=load_manifest(SUITES_DIR) if real else None, append=config.append)
    backtrace = []
    if log.frames:
        symbols = symbolise([addr for _, addr in log.frames], image, addr2line)
        backtrace = [f"#{n} 0x{addr} {sym}" for (n, addr), sym in zip(log.frames, symbols)]
    if outcome.timed_out and log.hang_report:
        log.hang_report = symbolise_report(log.hang_report, image, addr2line)
    hart_lines = []
    if outcome.timed_out and (outcome.harts or outcome.harts_error):
        if outcome.harts_error:
            hart_lines.append(f"(could not read them: {outcome.harts_error})")
        hart_lines += format_harts(outcome.harts, image, addr2line)
        with open(log_path, "a") as f:       # the log keeps them too
            f.write("runner: the harts when the run was declared hung:\n")
            f.writelines(f"runner:   {line}\n" for line in hart_lines)
    return RunResult(config, str(image), log_path, outcome, log, verdict, backtrace,
                     hart_lines)


def format_run_line(r: RunResult, name_width: int = 0) -> str:
    """Compact one-line summary of a run (what the CLIs print per run)."""
    hart = "boot-hart=" + ("?" if r.log.boot_hart is None else str(r.log.boot_hart))
    if name_width:                 # aligned columns in the matrix
        hart = f"{hart:<13}"
    line = (f"{'PASS' if r.passed else 'FAIL'} {r.config.name:<{name_width}}  {hart}  "
            f"{r.cases_passed} passed, {r.cases_failed} failed, {r.cases_skipped} skipped  "
            f"({r.outcome.elapsed:.1f} s)")
    if not r.passed:
        line += "  " + r.verdict.reason
    return line


def _needs_tail(r: RunResult) -> bool:
    """The log tail is shown when the structured report can't explain it."""
    o = r.outcome
    return (o.timed_out or o.flooded or o.start_error is not None or not r.log.ktap_seen
            or (o.exit_code is not None and o.exit_code < 0)
            or (not r.log.failed_cases() and r.log.panic_line is None))


def format_details(r: RunResult, indent: str = "  ") -> List[str]:
    """Multi-line detail for a failing run (a passing one printed only
    warnings its cases declared: nothing to say)."""
    out: List[str] = []
    if r.passed:
        return out
    if r.log.warnings:
        out.append(f"{indent}kernel warnings ({len(r.log.warnings)}, declared or not):")
        for w in r.log.warnings[:MAX_WARNINGS_SHOWN]:
            out.append(f"{indent}  {w.strip()}")
        if len(r.log.warnings) > MAX_WARNINGS_SHOWN:
            out.append(f"{indent}  ... {len(r.log.warnings) - MAX_WARNINGS_SHOWN} more")
    if len(r.verdict.problems) > 1:
        out.append(f"{indent}problems:")
        out.extend(f"{indent}  - {p}" for p in r.verdict.problems)
    failed = r.log.failed_cases()
    if failed:
        out.append(f"{indent}failed cases:")
        for suite, case in failed:
            out.append(f"{indent}  not ok {case_label(suite, case)}")
            diag = case.diagnostics or (suite.trailing_diagnostics if case is suite.cases[-1] else [])
            out.extend(f"{indent}      {d}" for d in diag)
    if r.log.panic_line is not None:
        out.append(f"{indent}{r.log.panic_line}")
        if r.backtrace:
            out.append(f"{indent}backtrace ({Path(r.image).name}):")
            out.extend(f"{indent}  {b}" for b in r.backtrace)
        else:
            out.append(f"{indent}(no backtrace frames in log)")
    if r.hart_lines:
        out.append(f"{indent}every hart when the run was declared hung ({Path(r.image).name}):")
        out.extend(f"{indent}  {line}" for line in r.hart_lines)
    if r.outcome.timed_out and r.log.hang_report:
        out.append(f"{indent}the kernel's last hang report ({Path(r.image).name}):")
        out.extend(f"{indent}  | {line}" for line in r.log.hang_report)
    if _needs_tail(r):
        tail = [line for line in r.log.lines if line][-TAIL_LINES:]
        out.append(f"{indent}last {len(tail)} log lines:")
        out.extend(f"{indent}  | {line}" for line in tail)
    seed = next((m.group(1) for m in map(RE_SEED.search, r.log.lines) if m), None)
    if seed is not None:
        out.append(f"{indent}replay: --append 'seed={seed}' (with the same SMP/FW/IRQ)")
    out.append(f"{indent}log: {r.log_path}")
    return out


def lottery_line(results: List[RunResult]) -> str:
    """Say which harts the firmware picked to boot across repeated runs."""
    harts = [r.log.boot_hart for r in results]
    seen = sorted({h for h in harts if h is not None})
    unknown = sum(1 for h in harts if h is None)
    n = len(results)
    note = f" ({unknown} boot{'s' if unknown != 1 else ''} reported no boot hart)" if unknown else ""
    if not seen:
        return f"lottery: no boot hart reported in {n} boots"
    if len(seen) == 1:
        return f"lottery: the firmware picked hart {seen[0]} every time over {n} boots{note}"
    return f"lottery: boot harts seen {{{', '.join(map(str, seen))}}} over {n} boots{note}"


def tally_line(passed: int, failed: int) -> str:
    """The contract last line that the Makefile and CI read."""
    return f"{passed} passed, {failed} failed"


