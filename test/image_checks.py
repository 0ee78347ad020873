#!/usr/bin/env python3
"""End-to-end checks of the images that the KTAP suites cannot make.

Crash paths, on the test image: each case expects the kernel to fail
loudly: a clear message on the console, exit status 3 (EXIT_PANIC, through
the sifive,test device even before the DT was read) and, where there is a
backtrace, one that addr2line can symbolise into our own functions and
that the kernel itself already symbolised (kallsyms: "crash+0x8a/0x8a").

Console input, on the default image: a line typed on QEMU's stdin reaches
the shell through the UART receive interrupt (PLIC, and APLIC+IMSIC).

    python3 test/image_checks.py --image build/hartstop-test.elf \
        --default-image build/hartstop.elf

Prints ok / not ok per case and a closing "N passed, N failed" line.
"""

import argparse
import os
import re
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ktap  # noqa: E402 (sibling module)
import proc  # noqa: E402 (sibling module)
import runner  # noqa: E402 (sibling module)
import symbols  # noqa: E402 (sibling module)


def corrupt_dtb(workdir: Path) -> Path:
    """A QEMU DTB without its /memory node: OpenSBI boots, we must refuse."""
    dtb = workdir / "nomem.dtb"
    subprocess.run([runner.QEMU_BIN, "-machine", f"virt,dumpdtb={dtb}", "-smp", "2", "-m", "256M",
                    "-nographic"], check=True, capture_output=True)
    subprocess.run(["fdtput", "-r", str(dtb), "/memory@80000000"], check=True)
    return dtb


CASES = [
    # name, boot arguments, extra QEMU args (filled in), text the console must show,
    # a function the symbolised backtrace must name (or None)
    ("panic", "crash=panic", None, "Kernel panic on cpu", "crash"),
    ("unhandled fault", "crash=fault", None, "Unhandled exception on cpu", "crash"),
    ("stack overflow", "crash=overflow", None, "Kernel stack overflow on cpu", "deep"),
    ("corrupt device tree", "", "dtb", "device tree at", None),
]


def run_case(image: str, workdir: Path, name: str, append: str, extra, expect: str, func):
    config = runner.Config(smp=2, append=append, timeout=60)
    cmd = runner.build_cmd(config, image)
    if extra == "dtb":
        cmd += ["-dtb", str(corrupt_dtb(workdir))]
    log = workdir / (name.replace(" ", "_") + ".log")
    outcome = proc.run_command(cmd, log, config.effective_timeout)
    text = log.read_text(errors="replace")
    parsed = ktap.parse_log(text)
    problems = []
    if outcome.timed_out:
        problems.append("hung")
    elif outcome.exit_code != 3:
        problems.append(f"exit status {outcome.exit_code}, want 3")
    if expect not in text:
        problems.append(f"no {expect!r} on the console")
    if func:
        frames = symbols.symbolise([addr for _, addr in parsed.frames], image)
        if not any(f.startswith(func) or f" {func} " in f or f.split(" ")[0] == func
                   for f in frames):
            problems.append(f"backtrace does not name {func}(): {frames[:4]}")
        # The kernel names its frames itself (kallsyms), without addr2line:
        # "#N 0x<addr>[ (pc)] func+0xoff/0xsize".
        own = [line.strip() for line in text.splitlines() if ktap.RE_FRAME.search(line)]
        named = re.compile(rf" {re.escape(func)}\+0x[0-9a-f]+/0x[0-9a-f]+$")
        if not any(named.search(line) for line in own):
            problems.append(f"the kernel's own backtrace does not name {func}(): {own[:4]}")
    return problems


def console_input(image: str, irq: str, timeout: float = 90.0):
    """Type `help` at the default image's shell; its answer must come back."""
    cmd = runner.build_cmd(runner.Config(smp=2, irq=irq), image)
    child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True)
    seen, sent, deadline = b"", False, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([child.stdout], [], [], 0.5)
            if ready:
                chunk = os.read(child.stdout.fileno(), 65536)
                if not chunk:
                    break
                seen += chunk
            if not sent and b"hartstop> " in seen:
                child.stdin.write(b"help\r")
                child.stdin.flush()
                sent = True
            if b"reboot through SBI" in seen:
                return []
        return ["no shell prompt" if not sent else "the shell never answered"]
    finally:
        proc._kill_group(child)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--image", required=True, help="the test image (crash cases)")
    p.add_argument("--default-image", help="the default image (console input cases)")
    args = p.parse_args()
    passed = failed = 0
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        checks = [(name, lambda c=c: run_case(args.image, Path(tmp), *c)) for c in CASES
                  for name in [c[0]]]
        if args.default_image:
            for irq in ("plain", "aia"):
                checks.append((f"console input ({irq})",
                               lambda irq=irq: console_input(args.default_image, irq)))
        for name, check in checks:
            n += 1
            problems = check()
            if problems:
                failed += 1
                print(f"not ok {n} - {name}: {'; '.join(problems)}")
            else:
                passed += 1
                print(f"ok {n} - {name}")
    print(runner.tally_line(passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
