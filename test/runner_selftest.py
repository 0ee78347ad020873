#!/usr/bin/env python3
"""Unit tests for the QEMU runner (test/qemu.py, test/matrix.py).

The runner decides whether the kernel passed, so it must itself be tested;
these tests use canned console logs and fake commands (sh, sleep, a fake
addr2line) instead of a kernel, so they run anywhere in a few seconds.

    python3 test/runner_selftest.py      # last line: "N passed, N failed"
"""

import io
import os
import shlex
import sys
import tempfile
import textwrap
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import matrix  # noqa: E402
import ktap  # noqa: E402 (sibling module)
import proc  # noqa: E402 (sibling module)
import qemu  # noqa: E402 (sibling module)
import qmp  # noqa: E402 (sibling module)
import runner  # noqa: E402 (sibling module)
import symbols  # noqa: E402 (sibling module)
import verdict  # noqa: E402 (sibling module)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import kallsyms  # noqa: E402 (the build's symbol table maker)


def ktap_log(body: str) -> str:
    """Dedent a canned log written inline (KTAP indentation survives)."""
    return textwrap.dedent(body).lstrip("\n")


OPENSBI_BANNER = """\
OpenSBI v1.1
Platform Name             : riscv-virtio,qemu
Boot HART ID              : 3
"""

PASSING_LOG = OPENSBI_BANNER + ktap_log("""
    [    0.000100] cpu0/h2 <6> Hartstop booting
    [    0.000200] cpu0/h2 <6> smp: boot hart 2
    [    0.000300] cpu1/h0 <5> notice: level 5 is no warning
    KTAP version 1
    1..2
        KTAP version 1
        # Subtest: sched
        1..3
        ok 1 yield_basic
        ok 2 preempt # SKIP no timer on this machine
        ok 3 migrate
    ok 1 sched
    [    0.000400] cpu3/h1 <6> unrelated console chatter
        KTAP version 1
        # Subtest: mm
        1..1
        ok 1 alloc_free
    ok 2 mm
    # totals: 3 passed, 0 failed, 1 skipped
    """)

NOT_OK_LOG = ktap_log("""
    smp: boot hart 0
    KTAP version 1
    1..1
        KTAP version 1
        # Subtest: sched
        1..2
        ok 1 yield_basic
        # test/sched.c:42: EXPECT_EQ(a, b) failed: a=1 b=2
        not ok 2 preempt
    not ok 1 sched
    # totals: 1 passed, 1 failed, 0 skipped
    """)

PANIC_LOG = ktap_log("""
    smp: boot hart 1
    KTAP version 1
    1..2
        KTAP version 1
        # Subtest: sched
        1..2
        ok 1 yield_basic
    [    0.002000] cpu0/h1 <0> Kernel panic - not syncing: scause=0xd stval=0x0
      #0 0x0000000080201234 (pc) do_trap+0x34/0x80
      #1 0x00000000802055aa schedule+0x1c/0x1e0
      #2 0x0000000080200010
    ---[ end Kernel panic ]---
    """)

SHORT_PLAN_LOG = ktap_log("""
    smp: boot hart 0
    KTAP version 1
    1..2
        KTAP version 1
        # Subtest: sched
        1..3
        ok 1 a
        ok 2 b
    ok 1 sched
    # totals: 2 passed, 0 failed, 0 skipped
    """)

MISSING_TOTALS_LOG = ktap_log("""
    smp: boot hart 0
    KTAP version 1
    1..1
        KTAP version 1
        # Subtest: mm
        1..1
        ok 1 alloc
    ok 1 mm
    """)

OK = proc.Outcome(exit_code=0, timed_out=False, elapsed=1.0)


def judge_log(text: str, outcome=OK, timeout=60.0, **kw):
    log = ktap.parse_log(text)
    return log, verdict.judge(log, outcome, timeout, **kw)


def warn_log(diag: str, *warnings: str) -> str:
    """One suite, one case: its diagnostics, then warnings, then its result."""
    lines = [f"[    0.00010{i}] cpu1/h1 <4> {w}" for i, w in enumerate(warnings)]
    return ktap_log("""
        KTAP version 1
        1..1
            KTAP version 1
            # Subtest: stop
            1..1
        """) + "".join(f"    {d}\n" for d in diag.split("\n") if d) + \
        "".join(line + "\n" for line in lines) + ktap_log("""
            ok 1 misuse
        ok 1 stop
        # totals: 1 passed, 0 failed, 0 skipped
        """)


class TempDirCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = Path(self._tmp.name)

    def tearDown(self):
        self._tmp.cleanup()


class CommandLineTests(unittest.TestCase):
    def test_plain_dynamic(self):
        cmd = runner.build_cmd(runner.Config(smp=4), "build/hartstop-test.elf")
        self.assertEqual(cmd, ["qemu-system-riscv64", "-machine", "virt", "-smp", "4", "-m", "256M",
                               "-nographic", "-bios", "default", "-kernel", "build/hartstop-test.elf"])

    def test_all_knobs(self):
        cfg = runner.Config(smp=8, fw="jump", irq="aia", mem="512M", append="test=sched* seed=5",
                          icount=True)
        cmd = runner.build_cmd(cfg, "k.elf")
        self.assertEqual(cmd[cmd.index("-machine") + 1], "virt,aia=aplic-imsic")
        self.assertEqual(cmd[cmd.index("-bios") + 1], runner.JUMP_FW)
        self.assertEqual(cmd[cmd.index("-m") + 1], "512M")
        self.assertEqual(cmd[cmd.index("-append") + 1], "test=sched* seed=5")
        self.assertEqual(cmd[-2:], ["-icount", "shift=4,sleep=off"])
        aclint = runner.build_cmd(runner.Config(smp=1, irq="aclint"), "k.elf")
        self.assertIn("virt,aclint=on", aclint)

    def test_tcg_modes(self):
        def tail(mode):
            return runner.build_cmd(runner.Config(smp=4, tcg=mode), "k.elf")[12:]
        self.assertEqual(tail(""), [])
        self.assertEqual(tail("singlestep"), ["-singlestep"])
        self.assertEqual(tail("single"), ["-accel", "tcg,thread=single"])
        self.assertEqual(tail("icount"), ["-icount", "shift=4,sleep=off"])
        both = runner.build_cmd(runner.Config(smp=4, tcg="icount", icount=True), "k.elf")
        self.assertEqual(both.count("-icount"), 1)
        with self.assertRaises(ValueError):
            runner.build_cmd(runner.Config(smp=4, tcg="kvm"), "k.elf")

    def test_bad_knob_rejected(self):
        with self.assertRaises(ValueError):
            runner.build_cmd(runner.Config(smp=4, irq="gic"), "k.elf")

    def test_names_and_timeouts(self):
        self.assertEqual(runner.Config(smp=4).name, "smp4-dynamic-plain")
        self.assertEqual(runner.Config(smp=8, fw="jump", irq="aclint", repeat=3).name,
                         "smp8-jump-aclint-r3")
        self.assertEqual(runner.Config(smp=4).effective_timeout, 182)
        self.assertEqual(runner.Config(smp=128).effective_timeout, 600)
        self.assertEqual(runner.Config(smp=4, timeout=5).effective_timeout, 5)

    def test_print_cmd_cli(self):
        out = io.StringIO()
        old, sys.stdout = sys.stdout, out
        try:
            rc = qemu.main(["--image", "k.elf", "--smp", "2", "--append", "a b", "--print-cmd"])
        finally:
            sys.stdout = old
        self.assertEqual(rc, 0)
        self.assertEqual(shlex.split(out.getvalue()),
                         runner.build_cmd(runner.Config(smp=2, append="a b"), "k.elf"))


class ParserVerdictTests(unittest.TestCase):
    def test_passing_log(self):
        log, v = judge_log(PASSING_LOG)
        self.assertTrue(v.passed, v.problems)
        self.assertEqual(log.boot_hart, 2)          # the kernel's line, not OpenSBI's banner
        self.assertEqual((log.passed, log.failed, log.skipped), (3, 0, 1))
        self.assertEqual([s.name for s in log.suites], ["sched", "mm"])
        self.assertEqual(len(log.warnings), 0)      # level 5 is not a warning

    def test_crlf_log(self):
        log, v = judge_log(PASSING_LOG.replace("\n", "\r\n"))
        self.assertTrue(v.passed, v.problems)

    def test_warning_outside_a_case_fails(self):
        boot = PASSING_LOG.replace("<5> notice: level 5 is no warning", "<4> WARNING: at x.c:1")
        log, v = judge_log(boot)
        self.assertFalse(v.passed)
        self.assertIn("kernel warning outside any case", v.reason)
        self.assertEqual(log.stray_warnings, ["[    0.000300] cpu1/h0 <4> WARNING: at x.c:1"])

    def test_undeclared_warning_fails_its_case(self):
        log, v = judge_log(warn_log("", "BUG: using smp_processor_id() in preemptible code"))
        self.assertFalse(v.passed)
        self.assertEqual(v.warn_failed, ["stop.misuse"])
        self.assertIn("stop.misuse: undeclared kernel warning: ", v.reason)
        r = runner.RunResult(runner.Config(smp=1), "k", Path("x"), OK, log, v, [])
        self.assertEqual((r.cases_passed, r.cases_failed), (0, 1))

    def test_declared_warning_passes_and_must_appear(self):
        decl = '# expect-warn: 2 "refused with -EDEADLK"'
        two = ["WARNING: a() refused with -EDEADLK", "WARNING: b() refused with -EDEADLK"]
        log, v = judge_log(warn_log(decl, *two))
        self.assertTrue(v.passed, v.problems)
        self.assertEqual(log.cases()[0][1].expected_warnings,
                         [("refused with -EDEADLK", 2, False)])
        _, v = judge_log(warn_log(decl, two[0]))
        self.assertFalse(v.passed)
        self.assertIn('declared warning "refused with -EDEADLK" appeared 1 time, expected 2',
                      v.reason)
        _, v = judge_log(warn_log(decl, *two, "stop_machine stall: state RUN"))
        self.assertFalse(v.passed)
        self.assertIn("undeclared kernel warning", v.reason)
        _, v = judge_log(warn_log(decl))
        self.assertIn("appeared 0 times", v.reason)
        some = '# expect-warn: 1+ "stall"'
        _, v = judge_log(warn_log(some, "stall: RUN", "stall: EXIT"))
        self.assertTrue(v.passed, v.problems)
        _, v = judge_log(warn_log(some))
        self.assertIn('"stall" appeared 0 times, expected at least 1', v.reason)

    def test_manifest(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        src = Path(tmp.name)
        (src / "a_test.c").write_text("/* KTEST_SUITE(old, KTEST_CASE(x)); */\n"
                                      "KTEST_SUITE(sched, KTEST_CASE(yield_basic),\n"
                                      "            KTEST_CASE(preempt), KTEST_CASE(migrate));\n")
        (src / "b_test.c").write_text("KTEST_SUITE(mm, KTEST_CASE(alloc_free));\n")
        m = verdict.load_manifest(src)
        self.assertEqual(m, {"sched": ["yield_basic", "preempt", "migrate"], "mm": ["alloc_free"]})
        _, v = judge_log(PASSING_LOG, manifest=m)
        self.assertTrue(v.passed, v.problems)
        _, v = judge_log(PASSING_LOG, manifest=m, append="seed=3 test=sched")
        self.assertEqual(v.problems, ["suite mm ran but was not asked for"])
        _, v = judge_log(PASSING_LOG, manifest=m, append="test=m*,sched,nope*")
        self.assertEqual(v.problems, ["test=nope* matches no suite"])
        m["mm"].append("leak_check")
        m["smp"] = ["calls"]
        _, v = judge_log(PASSING_LOG, manifest=m)
        self.assertFalse(v.passed)
        self.assertIn("suite mm: ran 1 cases, the sources have 2; missing ['leak_check']",
                      v.problems)
        self.assertIn("suite smp (1 cases) did not run", v.problems)

    def test_manifest_of_this_tree(self):
        m = verdict.load_manifest(runner.SUITES_DIR)
        self.assertIn("preempt_torture", m)
        self.assertGreaterEqual(sum(len(c) for c in m.values()), 60)

    def test_not_ok_case(self):
        log, v = judge_log(NOT_OK_LOG, proc.Outcome(1, False, 1.0))
        self.assertFalse(v.passed)
        self.assertEqual(v.problems, ["1 failed case: sched.preempt"])   # exit 1 is explained
        (suite, case), = log.failed_cases()
        self.assertEqual(case.diagnostics, ["# test/sched.c:42: EXPECT_EQ(a, b) failed: a=1 b=2"])
        self.assertEqual((log.passed, log.failed, log.skipped), (1, 1, 0))

    def test_suite_not_ok_without_failing_case(self):
        text = NOT_OK_LOG.replace("    not ok 2 preempt", "    ok 2 preempt").replace(
            "1 passed, 1 failed", "2 passed, 0 failed")
        _, v = judge_log(text)
        self.assertEqual(v.problems, ["suite sched reported not ok"])

    def test_skip_directive_on_not_ok_is_a_skip(self):
        log, v = judge_log(ktap_log("""
            KTAP version 1
            1..1
                KTAP version 1
                # Subtest: sched
                1..2
                ok 1 a
                not ok 2 b # SKIP why
            ok 1 sched
            # totals: 1 passed, 0 failed, 1 skipped
            """))
        self.assertTrue(v.passed, v.problems)
        self.assertEqual((log.passed, log.failed, log.skipped), (1, 0, 1))

    def test_panic_with_backtrace(self):
        log, v = judge_log(PANIC_LOG, proc.Outcome(3, False, 1.0))
        self.assertFalse(v.passed)
        self.assertTrue(v.reason.startswith("Kernel panic - not syncing: scause=0xd"), v.reason)
        # The exact pc as printed; return addresses looked up at address - 1;
        # the kernel's own "name+0xoff/0xsize" (kallsyms) after it is no matter.
        self.assertEqual(log.frames, [(0, "0000000080201234"), (1, "00000000802055a9"),
                                      (2, "000000008020000f")])
        self.assertNotIn("exit status 3 (kernel panic)", v.problems)  # explained by the panic

    def test_short_plans(self):
        _, v = judge_log(SHORT_PLAN_LOG)
        self.assertFalse(v.passed)
        self.assertIn("top-level plan 1..2 but 1 suite results", v.problems)
        self.assertIn("suite sched: plan 1..3 but 2 case results", v.problems)

    def test_missing_top_plan(self):
        _, v = judge_log(MISSING_TOTALS_LOG.replace("1..1\n    KTAP", "    KTAP", 1)
                       + "# totals: 1 passed, 0 failed, 0 skipped\n")
        self.assertEqual(v.problems, ["missing top-level plan 1..S"])

    def test_missing_totals(self):
        _, v = judge_log(MISSING_TOTALS_LOG)
        self.assertEqual(v.problems, ["missing '# totals:' line"])

    def test_mismatched_totals(self):
        _, v = judge_log(MISSING_TOTALS_LOG + "# totals: 5 passed, 0 failed, 0 skipped\n")
        self.assertFalse(v.passed)
        self.assertTrue(v.reason.startswith("totals mismatch"), v.reason)

    def test_nonzero_exit_on_clean_log(self):
        _, v = judge_log(PASSING_LOG, proc.Outcome(1, False, 1.0))
        self.assertEqual(v.problems, ["exit status 1 (kernel says tests failed)"])

    def test_no_ktap(self):
        _, v = judge_log(OPENSBI_BANNER)
        self.assertFalse(v.passed)
        self.assertIn("no KTAP output", v.reason)

    def test_ktap_restart(self):
        _, v = judge_log(PASSING_LOG + "KTAP version 1\n")
        self.assertIn("restarted", v.reason)

    def test_lottery_lines(self):
        def fake(h):
            return runner.RunResult(runner.Config(smp=8), "k", Path("x"), OK,
                                  ktap.ParsedLog(lines=[], boot_hart=h), verdict.Verdict(True, []), [])
        self.assertEqual(runner.lottery_line([fake(h) for h in (3, 0, 5, 0)]),
                         "lottery: boot harts seen {0, 3, 5} over 4 boots")
        self.assertEqual(runner.lottery_line([fake(0)] * 10),
                         "lottery: the firmware picked hart 0 every time over 10 boots")


class RunTests(TempDirCase):
    """The real run path (log file, timeout, process group) with fake commands."""

    def run_fake(self, script: str, timeout: float = 10, **kw):
        cfg = runner.Config(smp=4, timeout=timeout)
        return runner.run_config(cfg, str(self.tmp / "k.elf"), self.tmp / "logs",
                               cmd=["sh", "-c", script], **kw)

    def test_passing_run(self):
        canned = self.tmp / "canned.log"
        canned.write_text(PASSING_LOG)
        r = self.run_fake(f"cat {shlex.quote(str(canned))}; echo oops >&2; exit 0")
        self.assertTrue(r.passed, r.verdict.problems)
        self.assertEqual(r.log_path, self.tmp / "logs" / "smp4-dynamic-plain.log")
        self.assertIn("oops", r.log_path.read_text())          # stderr is captured too
        line = runner.format_run_line(r)
        self.assertTrue(line.startswith("PASS smp4-dynamic-plain  boot-hart=2"), line)
        self.assertIn("3 passed, 0 failed, 1 skipped", line)

    def test_stdin_is_devnull(self):
        r = self.run_fake("if read x; then echo got-input; else echo eof; fi")
        self.assertIn("eof", r.log_path.read_text())

    def test_hang_kills_process_group(self):
        pidfile = self.tmp / "child.pid"
        start = time.monotonic()
        r = self.run_fake(f"echo booting; sleep 30 & echo $! > {pidfile}; wait", timeout=1)
        self.assertLess(time.monotonic() - start, 5)
        self.assertFalse(r.passed)
        self.assertEqual(r.verdict.problems[0], "hang after 1s")
        self.assertEqual(r.cases_failed, 1)                     # non-case failure counts 1
        child = int(pidfile.read_text())
        for _ in range(50):                                     # the orphan is reaped by init
            if not _alive(child):
                break
            time.sleep(0.05)
        self.assertFalse(_alive(child), "sleep child survived the group kill")
        details = "\n".join(runner.format_details(r))
        self.assertIn("last 1 log lines", details)
        self.assertIn("| booting", details)

    def test_console_flood_is_stopped(self):
        log = self.tmp / "flood.log"
        start = time.monotonic()
        out = proc.run_command(["sh", "-c", "while :; do echo spam spam spam; done"], log,
                               timeout=30, max_log_bytes=20000)
        self.assertLess(time.monotonic() - start, 5)
        self.assertTrue(out.flooded and not out.timed_out)
        v = verdict.judge(ktap.parse_log(log.read_text()), out, 30)
        self.assertTrue(v.reason.startswith("console flood"), v.reason)

    def test_missing_binary(self):
        r = runner.run_config(runner.Config(smp=1), "k.elf", self.tmp, cmd=[str(self.tmp / "nope")])
        self.assertFalse(r.passed)
        self.assertIn("could not start QEMU", r.verdict.reason)

    def test_panic_symbolised(self):
        fake = self.tmp / "addr2line"
        fake.write_text("#!/bin/sh\n# fake: -f -p -e IMAGE ADDR...\nshift 4\n"
                        "for a in \"$@\"; do echo \"fn_$a at kernel/x.c:7\"; done\n")
        fake.chmod(0o755)
        canned = self.tmp / "panic.log"
        canned.write_text(PANIC_LOG)
        r = self.run_fake(f"cat {shlex.quote(str(canned))}; exit 3", addr2line=str(fake))
        self.assertEqual(r.backtrace[0], "#0 0x0000000080201234 fn_0x0000000080201234 at kernel/x.c:7")
        self.assertEqual(len(r.backtrace), 3)
        details = "\n".join(runner.format_details(r))
        self.assertIn("backtrace (k.elf):", details)
        self.assertIn("fn_0x00000000802055a9 at kernel/x.c:7", details)

    def test_hang_report_symbolised(self):
        fake = self.tmp / "addr2line"
        fake.write_text("#!/bin/sh\nshift 4\nfor a in \"$@\"; do echo \"fn_$a at kernel/x.c:7\"; done\n")
        fake.chmod(0o755)
        canned = self.tmp / "hang.log"
        canned.write_text("KTAP version 1\n1..1\n"
                          "    # ktest hang report: slow_case has run for 30 s\n"
                          "  cpu0 (hart 0): curr init/9\n"
                          "        9 init  cpu0   fair  OTHER  prio 120 D\n"
                          "Backtrace:\n"
                          "  #0 0x0000000080201000 (pc)\n"
                          "  #1 0x0000000080202001\n"
                          "    # ktest hang report end\n"
                          "    # ktest hang report: slow_case has run for 60 s\n"
                          "  #0 0x0000000080203000 (pc)\n"
                          "    # ktest hang report end\n")
        r = self.run_fake(f"cat {shlex.quote(str(canned))}; sleep 30", timeout=1,
                          addr2line=str(fake))
        self.assertFalse(r.passed)
        details = "\n".join(runner.format_details(r))
        self.assertIn("the kernel's last hang report (k.elf):", details)
        self.assertIn("slow_case has run for 60 s", details)       # the last report only
        self.assertNotIn("has run for 30 s", details.split("last hang report")[1].split("last ")[0])
        self.assertIn("#0 0x0000000080203000 (pc)  fn_0x0000000080203000 at kernel/x.c:7",
                      details)
        # A report on a case that then ended explains no hang.
        canned.write_text(canned.read_text() + "    ok 1 slow_case # 61000 ms\n")
        r = self.run_fake(f"cat {shlex.quote(str(canned))}; sleep 30", timeout=1,
                          addr2line=str(fake))
        self.assertNotIn("last hang report", "\n".join(runner.format_details(r)))
        # A run that ended by itself shows no hang report, however slow a case was.
        r = self.run_fake(f"cat {shlex.quote(str(canned))}; exit 0", addr2line=str(fake))
        self.assertNotIn("last hang report", "\n".join(runner.format_details(r)))

    def test_hart_table(self):
        table = ("[    0.1] cpu0/h2 <6> smp: boot hart 2; DT at 0x8fe00000\n"
                 "  hart  cpu  state           timer  ipi          isa\n"
                 "     0    1  online          sstc   SBI          rv64imafdch\n"
                 "     1    2  online          sstc   SBI          rv64imafdch\n"
                 "     2    0  online          sstc   SBI          rv64imafdch\n"
                 "[    0.2] cpu0/h2 <6> stop: 3 stoppers\n")
        log = ktap.parse_log(table)
        self.assertEqual(verdict.check_hart_table(log, 3), [])
        self.assertIn("want 0..3", verdict.check_hart_table(log, 4)[0])
        log = ktap.parse_log(table.replace("1    2  online", "1    -  no-answer"))
        self.assertEqual(verdict.check_hart_table(log, 3), ["harts not online: [1]"])
        log = ktap.parse_log(table.replace("boot hart 2", "boot hart 1"))
        self.assertIn("CPU 0 is hart [2], but hart 1 booted", verdict.check_hart_table(log, 3))
        self.assertEqual(verdict.check_hart_table(ktap.parse_log("no table\n"), 3),
                         ["no hart table in the boot output"])

    def test_garbled_printk_lines_fail(self):
        good = "[    1.000001] cpu1/h1 <6> pk c=1 n=2 " + "j" * 40   # 'a' + (7 + 2) % 26
        _, v = judge_log(good + "\n" + PASSING_LOG)
        self.assertTrue(v.passed, v.problems)
        for bad in ("[    1.000001] cpu1/h1 <6> pk c=1 n=2 " + "j" * 20 + "[    1.0",
                    "[    1.000001] cpu1/h1 <6> pk c=1 n=2 " + "j" * 39 + "k",
                    "[    1.000001] cpu1/h1 <6> pk c=1 n=2 " + "j" * 40 + "x"):
            _, v = judge_log(bad + "\n" + PASSING_LOG)
            self.assertFalse(v.passed, bad)
            self.assertIn("garbled", v.reason)

    def test_parse_hart_registers(self):
        text = ("\nCPU#0\n V      =   0\n pc       00000000802082a8\n"
                " mstatus  8000000a000061a2\n"
                " x0/zero  0000000000000000 x1/ra    000000008020b2e6 x2/sp    0000000080297d20\n"
                " x8/s0    0000000080297d60 x9/s1    0000000000000001\n"
                "CPU#1\n pc       0000000080200000\n mstatus  8000000a000061a0\n")
        harts = qmp.parse_hart_registers(text)
        self.assertEqual([c for c, _ in harts], [0, 1])
        self.assertEqual(harts[0][1]["pc"], 0x802082a8)
        self.assertEqual(harts[0][1]["x1/ra"], 0x8020b2e6)
        self.assertEqual(harts[0][1]["x8/s0"], 0x80297d60)
        self.assertTrue(harts[0][1]["mstatus"] & 2)       # SIE on
        self.assertFalse(harts[1][1]["mstatus"] & 2)
        self.assertNotIn("x8/s0", harts[1][1])

    def test_symbolise_without_tool(self):
        out = symbols.symbolise(["0000000080201234"], "k.elf", addr2line=str(self.tmp / "nope"))
        self.assertEqual(len(out), 1)
        self.assertTrue(out[0].startswith("??"))


class KallsymsTableTests(unittest.TestCase):
    """scripts/kallsyms.py: what goes into the kernel's symbol table."""

    NM = textwrap.dedent("""\
        0000000080200000 T __text_start
        0000000080200000 T _start
        0000000080200010 t secondary_wait
        0000000080200020 0000000000000010 t helper
        0000000080200020 0000000000000010 T __helper_alias
        0000000080200020 0000000000000010 T helper_alias
        0000000080200034 0000000000000008 W weak_fn
        000000008020003c 0000000000000004 T last
        0000000080201000 T __text_end
        0000000080201000 0000000000000010 R some_table
        0000000080300000 0000000000000010 B some_bss
        """)

    def test_text_symbols_sizes_and_alias_order(self):
        start, end, table = kallsyms.text_symbols(kallsyms.parse_nm(self.NM.splitlines()))
        self.assertEqual((start, end), (0x80200000, 0x80201000))
        self.assertEqual(table, [
            # Unsized: up to the next address; _start wins over __text_start.
            (0x0, 0x10, "T", "_start"), (0x0, 0x10, "T", "__text_start"),
            (0x10, 0x10, "t", "secondary_wait"),
            # Aliases: global before local, fewer underscores first.
            (0x20, 0x10, "T", "helper_alias"), (0x20, 0x10, "T", "__helper_alias"),
            (0x20, 0x10, "t", "helper"),
            (0x34, 0x8, "W", "weak_fn"), (0x3c, 0x4, "T", "last"),
        ])

    def test_emit_is_one_blob_of_u32_and_names(self):
        out = io.StringIO()
        kallsyms.emit(out, 0x80200000, 0x80201000, [(0x0, 0x10, "T", "a"), (0x10, 0x4, "t", "bc")])
        text = out.getvalue()
        self.assertIn("kallsyms_num:\n\t.word 0x2\n", text)
        self.assertIn("kallsyms_name_idx:\n\t.word 0x0\n\t.word 0x3\n", text)
        self.assertIn('kallsyms_names:\n\t.asciz "Ta"\n\t.asciz "tbc"\n', text)
        self.assertIn(".rodata", text)  # never text: pass 2 must not move a function

    def test_no_text_markers_is_an_error(self):
        with self.assertRaises(ValueError):
            kallsyms.text_symbols(kallsyms.parse_nm(["0000000080200000 T _start"]))


class MatrixTests(unittest.TestCase):
    def test_standard_matrix(self):
        groups = matrix.expand(matrix.MATRIX)
        names = [c.name for g in groups for c in g]
        self.assertEqual(len(names), 28)
        for n in ["smp1-dynamic-plain", "smp32-dynamic-plain", "smp4-jump-aia",
                  "smp4-dynamic-aclint", "smp8-jump-aclint", "smp8-dynamic-aia",
                  "smp8-dynamic-plain-lottery-r10", "smp128-dynamic-plain",
                  "smp4-dynamic-aclint-ipisbi", "smp4-jump-plain-nosstc",
                  "smp4-dynamic-plain-singlestep", "smp4-dynamic-plain-tcg-single",
                  "smp4-dynamic-aclint-icount"]:
            self.assertIn(n, names)
        modes = {c.name: c.tcg for g in groups for c in g}
        self.assertEqual(modes["smp4-dynamic-plain-singlestep"], "singlestep")
        self.assertEqual(modes["smp4-dynamic-aclint-icount"], "icount")
        big, = [c for g in groups for c in g if c.smp == 128]
        self.assertEqual((big.mem, big.effective_timeout), ("512M", 600))
        self.assertEqual(sum(1 for g in groups if len(g) == 10), 1)

    def test_only_exact(self):
        rows = matrix.select(matrix.MATRIX, matrix.parse_only("SMP=4,FW=jump,IRQ=aia"))
        self.assertEqual([c.name for g in matrix.expand(rows) for c in g], ["smp4-jump-aia"])
        rows = matrix.select(matrix.MATRIX, matrix.parse_only("smp=8,fw=dynamic,irq=plain"))
        self.assertEqual([c.name for g in matrix.expand(rows) for c in g], ["smp8-dynamic-plain"])
        rows = matrix.select(matrix.MATRIX, matrix.parse_only("SMP=16,FW=jump,IRQ=plain"))
        self.assertEqual([c.name for g in matrix.expand(rows) for c in g], ["smp16-jump-plain"])

    def test_only_partial_and_empty_values(self):
        rows = matrix.select(matrix.MATRIX, matrix.parse_only("SMP=4,FW=,IRQ="))
        # FW x IRQ, the ipi=sbi and no-sstc variants, the three TCG modes
        self.assertEqual(len(rows), 11)
        with self.assertRaises(ValueError):
            matrix.parse_only("SMP=4,CPU=x")
        with self.assertRaises(ValueError):
            matrix.parse_only("IRQ=gic")

    def test_summary_last_line(self):
        cfg = runner.Config(smp=1)
        log = ktap.parse_log(PASSING_LOG)
        r = runner.RunResult(cfg, "k", Path("x"), OK, log, verdict.judge(log, OK, 60), [])
        lines = matrix.summary([[cfg]], {cfg.name: r}, extra_passed=10, extra_failed=2, elapsed=1)
        self.assertEqual(lines[-1], "13 passed, 2 failed")


def _alive(pid: int) -> bool:
    """True if pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def main() -> int:
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
