#!/usr/bin/env python3
"""Boot the Hartstop test image under QEMU and judge the KTAP it prints.

This is both a library (used by test/matrix.py and test/runner_selftest.py)
and a CLI:

    python3 test/qemu.py --image build/hartstop-test.elf --smp 4 \\
        --fw dynamic --irq plain [--mem 256M] [--append 'test=sched* seed=5'] \\
        [--timeout 120] [--icount] [--repeat K] [--quiet] [--fail-on-warn] \\
        [--log-dir DIR] [--print-cmd]

The split is deliberate: the QEMU command line is built in exactly one place
(build_cmd), the console log is parsed by a pure function (parse_log), and the
verdict is a pure function of the parsed log plus how QEMU ended (judge), so
the runner can be unit-tested on canned logs without a kernel.

Standard library only: CI runs Debian 12's python3 with nothing else.
"""

import argparse
import dataclasses
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import List, Optional, Tuple

QEMU_BIN = "qemu-system-riscv64"
ADDR2LINE = "riscv64-unknown-elf-addr2line"
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
# A kernel stuck printing in a loop must not fill the disk before the
# timeout fires: past this size the run is stopped as a console flood.
MAX_LOG_BYTES = 64 * 1024 * 1024
POLL_SECONDS = 0.25
MAX_WARNINGS_SHOWN = 10

# QEMU exit statuses the kernel uses when it powers off.
EXIT_PASS, EXIT_FAIL, EXIT_PANIC = 0, 1, 3


# --------------------------------------------------------------------------
# Configuration and the QEMU command line
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# Parsing the console log
# --------------------------------------------------------------------------

RE_BOOT_HART = re.compile(r"boot hart (\d+)")
RE_SEED = re.compile(r"^# seed=(\d+)")
# A backtrace frame. "(pc)" marks an exact pc; any other frame is a return
# address, looked up at address - 1 (a call to a noreturn function can be
# the last instruction of its caller, so the return address is past it).
RE_FRAME = re.compile(r"#(\d+) 0x([0-9a-fA-F]{16})( \(pc\))?")
RE_TOTALS = re.compile(r"# totals: (\d+) passed, (\d+) failed, (\d+) skipped")
RE_TOP_VERSION = re.compile(r"^KTAP version 1$")
RE_TOP_PLAN = re.compile(r"^1\.\.(\d+)$")
RE_TOP_RESULT = re.compile(r"^(not ok|ok) (\d+)(?: (.*))?$")
RE_SUB_VERSION = re.compile(r"^    KTAP version 1$")
RE_SUB_NAME = re.compile(r"^    # Subtest: (.*)$")
RE_SUB_PLAN = re.compile(r"^    1\.\.(\d+)$")
RE_SUB_RESULT = re.compile(r"^    (not ok|ok) (\d+)(?: (.*))?$")
RE_SUB_DIAG = re.compile(r"^    #(?: (.*))?$")
PANIC_MARK = "Kernel panic"
PANIC_END = "---[ end Kernel panic"
# The kernel's report on a case that runs too long (test/ktest.c).
HANG_MARK = "# ktest hang report: "
HANG_END = "# ktest hang report end"
RE_ANY_RESULT = re.compile(r"^\s*(not )?ok \d+")
# The boot's hart table (kernel/smp.c): "  hart  cpu  state ..." then a row
# per hart listed in the DT: hart id, logical cpu (or -), state.
RE_HART_HEADER = re.compile(r"^\s*hart\s+cpu\s+state\b")
RE_HART_ROW = re.compile(r"^\s+(\d+)\s+(\d+|-)\s+(\S+)")
# The printk suite's lines as the UART carried them (test/ktest/printk_test.c):
# "[ts] cpuX/hY <6> pk c=C n=N" and 40 times the letter 'a' + (7C + N) % 26.
# The kernel checks what printk formatted; this checks what reached the
# console, so two harts' bytes mixed on the wire fail the run.
RE_PK = re.compile(r"^\[\s*\d+\.\d{6}\] cpu\d+/h\d+ <6> pk c=(\d+) n=(\d+) ([a-z]{40})$")
MAX_HANG_LINES = 400


@dataclasses.dataclass
class Result:
    """One KTAP result line (a case inside a suite, or a top-level suite)."""
    ok: bool
    number: int
    name: str
    skipped: bool = False
    directive: str = ""
    diagnostics: List[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Suite:
    """One indented subtest block: its plan and its case results."""
    name: Optional[str] = None
    plan: Optional[int] = None
    cases: List[Result] = dataclasses.field(default_factory=list)
    trailing_diagnostics: List[str] = dataclasses.field(default_factory=list)

    def is_fresh(self) -> bool:
        return self.plan is None and not self.cases


@dataclasses.dataclass
class ParsedLog:
    """Everything the verdict needs from one console log."""
    lines: List[str]
    boot_hart: Optional[int] = None
    ktap_seen: bool = False
    ktap_restarts: int = 0
    top_plan: Optional[int] = None
    top_results: List[Result] = dataclasses.field(default_factory=list)
    suites: List[Suite] = dataclasses.field(default_factory=list)
    totals: Optional[Tuple[int, int, int]] = None
    panic_line: Optional[str] = None
    panic_count: int = 0
    frames: List[Tuple[int, str]] = dataclasses.field(default_factory=list)
    warnings: List[str] = dataclasses.field(default_factory=list)
    hang_report: List[str] = dataclasses.field(default_factory=list)  # the last one
    garbled: List[str] = dataclasses.field(default_factory=list)  # printk suite lines
    # The boot's hart table: (hart id, cpu or None, state), None if not printed.
    hart_table: Optional[List[Tuple[int, Optional[int], str]]] = None

    def cases(self):
        """(suite, case) pairs for every case result, in log order."""
        return [(s, c) for s in self.suites for c in s.cases]

    @property
    def passed(self) -> int:
        return sum(1 for _, c in self.cases() if c.ok and not c.skipped)

    @property
    def failed(self) -> int:
        return sum(1 for _, c in self.cases() if not c.ok and not c.skipped)

    @property
    def skipped(self) -> int:
        return sum(1 for _, c in self.cases() if c.skipped)

    def failed_cases(self):
        return [(s, c) for s, c in self.cases() if not c.ok and not c.skipped]


def split_lines(text: str) -> List[str]:
    """Split a console capture into lines, dropping CRs and trailing blanks.

    The UART may emit CRLF and QEMU may emit stray CRs; KTAP lines are
    matched exactly, so normalise line ends first.  Leading whitespace is
    kept because KTAP nesting is indentation.
    """
    return [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def parse_result(match) -> Result:
    """Build a Result from a (top or sub) result regex match.

    "ok 3 name # SKIP why" is a skip whether it says ok or not ok (KTAP:
    the directive decides); any other "# ..." directive is kept verbatim.
    """
    ok = match.group(1) == "ok"
    number = int(match.group(2))
    rest = match.group(3) or ""
    if rest.startswith("#"):
        name, directive = "", rest[1:].strip()
    else:
        name, sep, directive = rest.partition(" # ")
        name, directive = name.strip(), directive.strip()
    skipped = directive.upper().startswith("SKIP")
    return Result(ok=ok, number=number, name=name, skipped=skipped, directive=directive)


class _LogParser:
    """Line-at-a-time state machine over the console log.

    Diagnostics follow the KUnit convention: "    # ..." lines belong to
    the next case result in the same suite (KUnit prints a failing
    expectation before the "not ok" line).  Diagnostics after a suite's
    last case are kept as the suite's trailing diagnostics.
    """

    def __init__(self, lines: List[str]):
        self.out = ParsedLog(lines=lines)
        self.suite: Optional[Suite] = None
        self.pending_diag: List[str] = []
        self.in_panic = False
        self.in_hang = False
        self.in_table = False

    def feed(self, line: str) -> None:
        self._console(line)
        self._ktap(line)

    def _console(self, line: str) -> None:
        """Non-KTAP facts: boot hart, warnings, panics and their backtrace."""
        out = self.out
        if out.boot_hart is None:
            m = RE_BOOT_HART.search(line)
            if m:
                out.boot_hart = int(m.group(1))
        if "WARNING:" in line:
            out.warnings.append(line)
        if RE_HART_HEADER.match(line):
            out.hart_table = []
            self.in_table = True
            return
        if self.in_table:
            m = RE_HART_ROW.match(line)
            if m:
                out.hart_table.append((int(m.group(1)),
                                       None if m.group(2) == "-" else int(m.group(2)),
                                       m.group(3)))
                return
            self.in_table = False
        if "pk c=" in line:
            m = RE_PK.match(line.strip())
            if not m or m.group(3) != chr(ord("a") + (7 * int(m.group(1)) + int(m.group(2))) % 26) * 40:
                out.garbled.append(line)
        if HANG_MARK in line:
            out.hang_report = [line.strip()]
            self.in_hang = True
        elif RE_ANY_RESULT.match(line) and not self.in_hang:
            out.hang_report = []        # that case ended: its report explains no hang
        elif self.in_hang:
            if HANG_END in line or len(out.hang_report) >= MAX_HANG_LINES:
                self.in_hang = False
            else:
                out.hang_report.append(line.rstrip())
        if PANIC_END in line:
            self.in_panic = False
        elif PANIC_MARK in line:
            out.panic_count += 1
            if out.panic_line is None:
                out.panic_line = line[line.index(PANIC_MARK):]
                self.in_panic = True
        elif self.in_panic:
            m = RE_FRAME.search(line)
            if m:
                addr = m.group(2) if m.group(3) else f"{int(m.group(2), 16) - 1:016x}"
                out.frames.append((int(m.group(1)), addr))

    def _open_suite(self, name: Optional[str] = None) -> Suite:
        self._close_suite()
        self.suite = Suite(name=name)
        self.out.suites.append(self.suite)
        return self.suite

    def _close_suite(self) -> None:
        if self.suite is not None and self.pending_diag:
            self.suite.trailing_diagnostics.extend(self.pending_diag)
        self.pending_diag = []
        self.suite = None

    def _current_suite(self) -> Suite:
        return self.suite if self.suite is not None else self._open_suite()

    def _ktap(self, line: str) -> None:
        out = self.out
        if RE_TOP_VERSION.match(line):
            if out.ktap_seen:
                out.ktap_restarts += 1
            out.ktap_seen = True
            return
        if not out.ktap_seen:
            return   # Firmware banner, early boot chatter: not KTAP yet.
        m = RE_TOP_PLAN.match(line)
        if m:
            if out.top_plan is None:
                out.top_plan = int(m.group(1))
            return
        m = RE_TOP_RESULT.match(line)
        if m:
            self._close_suite()
            out.top_results.append(parse_result(m))
            return
        if RE_SUB_VERSION.match(line):
            if self.suite is None or not self.suite.is_fresh():
                self._open_suite()
            return
        m = RE_SUB_NAME.match(line)
        if m:
            if self.suite is None or self.suite.name is not None or not self.suite.is_fresh():
                self._open_suite(m.group(1).strip())
            else:
                self.suite.name = m.group(1).strip()
            return
        m = RE_SUB_PLAN.match(line)
        if m:
            suite = self._current_suite()
            if suite.plan is None:
                suite.plan = int(m.group(1))
            return
        m = RE_SUB_RESULT.match(line)
        if m:
            case = parse_result(m)
            case.diagnostics = self.pending_diag
            self.pending_diag = []
            self._current_suite().cases.append(case)
            return
        m = RE_SUB_DIAG.match(line)
        if m:
            if self.suite is not None:   # stray indented comments are just console
                self.pending_diag.append(line.strip())
            return
        m = RE_TOTALS.search(line)
        if m and out.totals is None:
            out.totals = (int(m.group(1)), int(m.group(2)), int(m.group(3)))

    def finish(self) -> ParsedLog:
        self._close_suite()
        return self.out


def parse_log(text: str) -> ParsedLog:
    """Parse one whole console capture (pure; used on canned logs in tests)."""
    lines = split_lines(text)
    parser = _LogParser(lines)
    for line in lines:
        parser.feed(line)
    return parser.finish()


# --------------------------------------------------------------------------
# Running QEMU
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Outcome:
    """How the child process ended."""
    exit_code: Optional[int]       # None if it never started
    timed_out: bool
    elapsed: float
    start_error: Optional[str] = None
    flooded: bool = False          # killed because the log grew past the cap
    harts: List["HartState"] = dataclasses.field(default_factory=list)  # read at a hang
    harts_error: Optional[str] = None  # why they could not be read


_live_lock = threading.Lock()
_live: set = set()
_stopping = threading.Event()


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the child's whole process group (QEMU plus anything it forked)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_all() -> None:
    """Stop every QEMU this process started, and start no more.

    The children run in their own sessions (so a timeout can kill a whole
    group), which also means a Ctrl-C at the terminal does not reach them:
    the CLIs call this on interrupt so no emulator is left spinning.
    """
    _stopping.set()
    with _live_lock:
        procs = list(_live)
    for proc in procs:
        if proc.poll() is None:
            _kill_group(proc)


def _follow(path: Path, stop: threading.Event) -> None:
    """Echo a growing log file to stdout until told to stop (live console)."""
    out = getattr(sys.stdout, "buffer", None)
    with open(path, "rb") as f:
        while True:
            chunk = f.read(65536)
            if chunk:
                if out is not None:
                    out.write(chunk)
                    out.flush()
                else:
                    sys.stdout.write(chunk.decode("utf-8", "replace"))
                continue
            if stop.is_set():
                return
            stop.wait(0.05)


# --------------------------------------------------------------------------
# Reading a hung guest's harts through QMP
# --------------------------------------------------------------------------

@dataclasses.dataclass
class HartState:
    """One vCPU as QEMU's monitor saw it when the run was declared hung."""
    cpu: int                       # QEMU's CPU index (= hart id on virt)
    pc: int
    ra: int
    sie: bool                      # sstatus.SIE: interrupts on in S-mode
    frames: List[int] = dataclasses.field(default_factory=list)  # return addresses


class Qmp:
    """A minimal QMP client: enough to run human-monitor commands."""

    def __init__(self, path: str, timeout: float = 30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.f = self.sock.makefile("rwb")
        self._reply()                                  # the greeting
        self.execute("qmp_capabilities")

    def _reply(self) -> dict:
        while True:
            line = self.f.readline()
            if not line:
                raise OSError("QMP connection closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def execute(self, command: str, **arguments):
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.f.write(json.dumps(msg).encode() + b"\n")
        self.f.flush()
        reply = self._reply()
        if "error" in reply:
            raise OSError(f"QMP {command}: {reply['error'].get('desc', reply['error'])}")
        return reply.get("return")

    def hmp(self, line: str) -> str:
        return self.execute("human-monitor-command", **{"command-line": line})

    def close(self):
        self.sock.close()


RE_HMP_CPU = re.compile(r"^CPU#(\d+)", re.M)
RE_HMP_REG = re.compile(r"\b(pc|mstatus|x1/ra|x8/s0)\s+([0-9a-fA-F]{16})")
MAX_HANG_FRAMES = 12


def parse_hart_registers(text: str) -> List[Tuple[int, dict]]:
    """Split `info registers -a` into (cpu, {pc, mstatus, x1/ra, x8/s0})."""
    parts = RE_HMP_CPU.split(text)
    out = []
    for i in range(1, len(parts) - 1, 2):
        regs = {m.group(1): int(m.group(2), 16) for m in RE_HMP_REG.finditer(parts[i + 1])}
        if "pc" in regs:
            out.append((int(parts[i]), regs))
    return out


def read_harts(qmp_path: str, budget: float = 60.0) -> List[HartState]:
    """Every hart's pc, ra and frame-pointer chain, read from a live QEMU.

    The walk reads guest memory with `xp` (the kernel maps itself 1:1), so
    it follows the same frame records as the kernel's dump_backtrace().
    """
    end = time.monotonic() + budget
    q = Qmp(qmp_path)
    try:
        q.execute("stop")                              # a consistent snapshot
        harts = []
        for cpu, regs in parse_hart_registers(q.hmp("info registers -a")):
            h = HartState(cpu, regs["pc"], regs.get("x1/ra", 0),
                          bool(regs.get("mstatus", 0) & 2))
            fp, prev = regs.get("x8/s0", 0), 0
            while (len(h.frames) < MAX_HANG_FRAMES and time.monotonic() < end and fp > prev
                   and fp % 8 == 0 and fp >= 0x80000000):
                words = re.findall(r":\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)",
                                   q.hmp(f"xp /2gx {fp - 16:#x}"))
                if not words:
                    break
                next_fp, ra = (int(w, 16) for w in words[0])
                if not ra:
                    break
                h.frames.append(ra)
                prev, fp = fp, next_fp
            harts.append(h)
        return harts
    finally:
        q.close()


def format_harts(harts: List[HartState], image: str, addr2line: str = ADDR2LINE) -> List[str]:
    """One block per hart: where it is, whether it takes interrupts, its callers."""
    addrs = []
    for h in harts:
        addrs += [f"{h.pc:016x}"] + [f"{a - 1:016x}" for a in h.frames]
    syms = iter(symbolise(addrs, image, addr2line))
    out = []
    for h in harts:
        out.append(f"hart {h.cpu}: interrupts {'on' if h.sie else 'off'}, "
                   f"pc 0x{h.pc:016x} {next(syms)}")
        out += [f"    #{i + 1} 0x{a:016x} {next(syms)}" for i, a in enumerate(h.frames)]
    return out


def _wait(proc: subprocess.Popen, log_path: Path, timeout: float, max_log_bytes: int,
          on_hang=None):
    """Wait for proc; return (timed_out, flooded), having killed it if either.

    Polls rather than blocking in wait() so a runaway console can be
    stopped long before the timeout. On a hang, on_hang() (if given) runs
    while the guest is still alive, to read its state.
    """
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if on_hang is not None:
                on_hang()
            _kill_group(proc)
            proc.wait()
            return True, False
        try:
            proc.wait(timeout=min(POLL_SECONDS, remaining))
            return False, False
        except subprocess.TimeoutExpired:
            pass
        if log_path.stat().st_size > max_log_bytes:
            _kill_group(proc)
            proc.wait()
            return False, True


def run_command(cmd: List[str], log_path: Path, timeout: float, echo: bool = False,
                max_log_bytes: int = MAX_LOG_BYTES, qmp_path: Optional[str] = None) -> Outcome:
    """Run cmd with stdin=/dev/null and stdout+stderr into log_path.

    QEMU writes straight into the log file (no pipe to drain, nothing lost
    if we kill it).  It gets its own session so that on a timeout the whole
    process group can be killed.
    """
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with open(log_path, "wb") as log:
        if _stopping.is_set():
            log.write(b"runner: interrupted before start\n")
            return Outcome(None, False, 0.0, "interrupted")
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            log.write(f"runner: cannot start {cmd[0]}: {e}\n".encode())
            return Outcome(None, False, time.monotonic() - start, str(e))
        with _live_lock:
            _live.add(proc)
        stop = threading.Event()
        follower = None
        if echo:
            follower = threading.Thread(target=_follow, args=(log_path, stop), daemon=True)
            follower.start()
        harts, harts_error = [], None

        def read_on_hang():
            nonlocal harts, harts_error
            try:
                harts = read_harts(qmp_path)
            except (OSError, ValueError, KeyError) as e:
                harts_error = f"{type(e).__name__}: {e}"

        try:
            timed_out, flooded = _wait(proc, log_path, timeout, max_log_bytes,
                                       on_hang=read_on_hang if qmp_path else None)
        finally:
            if proc.poll() is None:       # interrupted (Ctrl-C) mid-wait
                _kill_group(proc)
                proc.wait()
            with _live_lock:
                _live.discard(proc)
            stop.set()
            if follower is not None:
                follower.join(timeout=5)
    return Outcome(proc.returncode, timed_out, time.monotonic() - start, flooded=flooded,
                   harts=harts, harts_error=harts_error)


def symbolise(addresses: List[str], image: str, addr2line: str = ADDR2LINE) -> List[str]:
    """Map hex addresses to "func at file:line" with addr2line, one per address.

    Falls back to "??" descriptions if the tool or image is unusable, so a
    report is never lost because symbolisation failed.
    """
    if not addresses:
        return []
    cmd = [addr2line, "-f", "-p", "-e", str(image)] + ["0x" + a for a in addresses]
    try:
        res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return [f"?? (addr2line failed: {e})"] * len(addresses)
    out = [line.strip() for line in res.stdout.splitlines() if line.strip()]
    if res.returncode != 0 or len(out) != len(addresses):
        why = (res.stderr.strip().splitlines() or [f"status {res.returncode}"])[0]
        return [f"?? (addr2line: {why})"] * len(addresses)
    return out


# --------------------------------------------------------------------------
# Verdict
# --------------------------------------------------------------------------

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


def _case_label(suite: Suite, case: Result) -> str:
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
        names = ", ".join(_case_label(s, c) for s, c in failed[:3])
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


# --------------------------------------------------------------------------
# One run, end to end, and its report
# --------------------------------------------------------------------------

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

    @property
    def cases_passed(self) -> int:
        return self.log.passed

    @property
    def cases_failed(self) -> int:
        """Failed cases; a run failing for a non-case reason counts 1."""
        return max(self.log.failed, 0 if self.passed else 1)

    @property
    def cases_skipped(self) -> int:
        return self.log.skipped


def run_config(config: Config, image: str, log_dir: Path = DEFAULT_LOG_DIR, *,
               fail_on_warn: bool = False, echo: bool = False,
               cmd: Optional[List[str]] = None, addr2line: str = ADDR2LINE) -> RunResult:
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
    # A real boot must list every hart (canned runs in the self-test have no table).
    verdict = judge(log, outcome, timeout, fail_on_warn,
                    expect_harts=config.smp if cmd is None else None)
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


def symbolise_report(lines: List[str], image: str, addr2line: str = ADDR2LINE) -> List[str]:
    """Append "func at file:line" to every backtrace frame line of a report."""
    hits = [(i, RE_FRAME.search(line)) for i, line in enumerate(lines)]
    hits = [(i, m) for i, m in hits if m]
    addrs = [m.group(2) if m.group(3) else f"{int(m.group(2), 16) - 1:016x}" for _, m in hits]
    out = list(lines)
    for (i, _), sym in zip(hits, symbolise(addrs, image, addr2line)):
        out[i] = f"{lines[i]}  {sym}"
    return out


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
    """Multi-line detail for a failing run, and warnings for any run."""
    out: List[str] = []
    if r.log.warnings:
        out.append(f"{indent}kernel warnings ({len(r.log.warnings)}):")
        for w in r.log.warnings[:MAX_WARNINGS_SHOWN]:
            out.append(f"{indent}  {w.strip()}")
        if len(r.log.warnings) > MAX_WARNINGS_SHOWN:
            out.append(f"{indent}  ... {len(r.log.warnings) - MAX_WARNINGS_SHOWN} more")
    if r.passed:
        return out
    if len(r.verdict.problems) > 1:
        out.append(f"{indent}problems:")
        out.extend(f"{indent}  - {p}" for p in r.verdict.problems)
    failed = r.log.failed_cases()
    if failed:
        out.append(f"{indent}failed cases:")
        for suite, case in failed:
            out.append(f"{indent}  not ok {_case_label(suite, case)}")
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


def install_sigterm_handler() -> None:
    """Turn SIGTERM (e.g. a CI timeout) into KeyboardInterrupt so cleanup runs."""
    def handler(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, handler)


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Boot the Hartstop test image in QEMU and judge its KTAP.")
    p.add_argument("--image", required=True, help="kernel ELF, e.g. build/hartstop-test.elf")
    p.add_argument("--smp", type=int, default=4, help="number of harts (default 4)")
    p.add_argument("--fw", choices=sorted(FW_BIOS), default="dynamic", help="OpenSBI flavour")
    p.add_argument("--irq", choices=sorted(IRQ_MACHINE), default="plain", help="interrupt controllers")
    p.add_argument("--mem", default=DEFAULT_MEM, help="guest RAM (default 256M)")
    p.add_argument("--append", default="", help="kernel command line (DT /chosen/bootargs)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds before a run is a hang (default 60 + 2 per hart; 600 at 128+ harts)")
    p.add_argument("--icount", action="store_true", help="deterministic -icount shift=4,sleep=off")
    p.add_argument("--tcg", choices=sorted(m for m in TCG_MODES if m), default="",
                   help="singlestep (interrupts between any two instructions), single "
                        "(one host thread), icount")
    p.add_argument("--repeat", type=int, default=1, help="boot K times (logs get -rN suffixes)")
    p.add_argument("--quiet", action="store_true", help="don't echo the console; result lines only")
    p.add_argument("--fail-on-warn", action="store_true", help="a kernel WARNING: fails the run")
    p.add_argument("--log-dir", default=str(DEFAULT_LOG_DIR), help="where <config>.log files go")
    p.add_argument("--print-cmd", action="store_true", help="print the QEMU command line and exit")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    if args.smp < 1:
        p.error("--smp must be >= 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    base = Config(smp=args.smp, fw=args.fw, irq=args.irq, mem=args.mem, append=args.append,
                  icount=args.icount, timeout=args.timeout, tcg=args.tcg)
    if args.print_cmd:
        print(shlex.join(build_cmd(base, args.image)))
        return 0
    if not Path(args.image).is_file():
        print(f"error: image {args.image} not found (build it first)", file=sys.stderr)
        print(tally_line(0, 1))
        return 2
    install_sigterm_handler()
    results: List[RunResult] = []
    try:
        for i in range(args.repeat):
            config = dataclasses.replace(base, repeat=(i + 1) if args.repeat > 1 else None)
            if not args.quiet:
                print(f"==> {config.name}: {shlex.join(build_cmd(config, args.image))}", flush=True)
            r = run_config(config, args.image, Path(args.log_dir),
                           fail_on_warn=args.fail_on_warn, echo=not args.quiet)
            results.append(r)
            if not args.quiet:
                print()
            print(format_run_line(r), flush=True)
            for line in format_details(r):
                print(line)
    except KeyboardInterrupt:
        kill_all()
        print("interrupted", file=sys.stderr)
        print(tally_line(sum(r.cases_passed for r in results),
                         sum(r.cases_failed for r in results) + 1))
        return 130
    if args.repeat > 1:
        print(lottery_line(results))
    print(tally_line(sum(r.cases_passed for r in results), sum(r.cases_failed for r in results)))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
