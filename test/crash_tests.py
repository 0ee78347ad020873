#!/usr/bin/env python3
"""End-to-end checks of the crash paths, on the real test image.

Each case boots QEMU and expects the kernel to fail loudly: a clear
message on the console, exit status 3 (EXIT_PANIC, through the sifive,test
device even before the DT was read) and, where there is a backtrace, one
that addr2line can symbolise into our own functions.

    python3 test/crash_tests.py --image build/hartstop-test.elf

Prints ok / not ok per case and a closing "N passed, N failed" line.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import qemu  # noqa: E402


def corrupt_dtb(workdir: Path) -> Path:
    """A QEMU DTB without its /memory node: OpenSBI boots, we must refuse."""
    dtb = workdir / "nomem.dtb"
    subprocess.run([qemu.QEMU_BIN, "-machine", f"virt,dumpdtb={dtb}", "-smp", "2", "-m", "256M",
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
    config = qemu.Config(smp=2, append=append, timeout=60)
    cmd = qemu.build_cmd(config, image)
    if extra == "dtb":
        cmd += ["-dtb", str(corrupt_dtb(workdir))]
    log = workdir / (name.replace(" ", "_") + ".log")
    outcome = qemu.run_command(cmd, log, config.effective_timeout)
    text = log.read_text(errors="replace")
    parsed = qemu.parse_log(text)
    problems = []
    if outcome.timed_out:
        problems.append("hung")
    elif outcome.exit_code != 3:
        problems.append(f"exit status {outcome.exit_code}, want 3")
    if expect not in text:
        problems.append(f"no {expect!r} on the console")
    if func:
        frames = qemu.symbolise([addr for _, addr in parsed.frames], image)
        if not any(f.startswith(func) or f" {func} " in f or f.split(" ")[0] == func
                   for f in frames):
            problems.append(f"backtrace does not name {func}(): {frames[:4]}")
    return problems


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--image", required=True)
    args = p.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n, (name, append, extra, expect, func) in enumerate(CASES, 1):
            problems = run_case(args.image, Path(tmp), name, append, extra, expect, func)
            if problems:
                failed += 1
                print(f"not ok {n} - {name}: {'; '.join(problems)}")
            else:
                passed += 1
                print(f"ok {n} - {name}")
    print(qemu.tally_line(passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
