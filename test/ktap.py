"""The console log of a Hartstop boot, parsed: KTAP (as Linux KUnit prints
it) and the console facts around it (boot hart, warnings, panics and their
backtraces, hang reports, the hart table, the printk suite's lines).

parse_log() is a pure function of the captured text, so the runner can be
tested on canned logs without a kernel. Standard library only.
"""

import dataclasses
import re
from typing import List, Optional, Tuple


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
# A kernel warning: a printk line of level 0..4 (emerg .. warning), which
# covers WARN(), "BUG: ...", stall reports and every pr_warn()/pr_err().
RE_WARNING = re.compile(r"^\[\s*\d+\.\d{6}\] cpu\d+/h\d+ <[0-4]> ")
# A case's declaration that it makes the kernel warn (ktest_expect_warn()):
#   # expect-warn: COUNT "SUBSTRING"      exactly COUNT such warnings
#   # expect-warn: COUNT+ "SUBSTRING"     at least COUNT
RE_EXPECT_WARN = re.compile(r'^# expect-warn: (\d+)(\+?) "(.*)"$')
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
    # Kernel warnings printed while the case ran (since the previous result),
    # and the ones it declared: (substring, count, count is a minimum).
    warnings: List[str] = dataclasses.field(default_factory=list)
    expected_warnings: List[Tuple[str, int, bool]] = dataclasses.field(default_factory=list)


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
    # Warnings printed outside any case: at boot, between suites, after the last.
    stray_warnings: List[str] = dataclasses.field(default_factory=list)
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
        self.window: List[str] = []     # warnings since the last result
        self.in_case = False            # inside a suite, before a case's result

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
        if RE_WARNING.match(line):
            out.warnings.append(line)
            self.window.append(line.strip())
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

    def _stray(self) -> None:
        """Warnings seen outside a case window belong to no case."""
        self.out.stray_warnings.extend(self.window)
        self.window = []

    def _open_suite(self, name: Optional[str] = None) -> Suite:
        self._close_suite()
        self._stray()
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
            self._stray()
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
            case.warnings, self.window = self.window, []
            for d in case.diagnostics:
                e = RE_EXPECT_WARN.match(d)
                if e:
                    case.expected_warnings.append((e.group(3), int(e.group(1)),
                                                   e.group(2) == "+"))
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
        self._stray()
        return self.out


def parse_log(text: str) -> ParsedLog:
    """Parse one whole console capture (pure; used on canned logs in tests)."""
    lines = split_lines(text)
    parser = _LogParser(lines)
    for line in lines:
        parser.feed(line)
    return parser.finish()
