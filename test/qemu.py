#!/usr/bin/env python3
"""Boot the Hartstop test image under QEMU and judge the KTAP it prints:
one configuration, from the command line (test/runner.py does the work).

    python3 test/qemu.py --image build/hartstop-test.elf --smp 4 \\
        --fw dynamic --irq plain [--mem 256M] [--append 'test=sched* seed=5'] \\
        [--timeout 120] [--icount | --tcg singlestep|single|icount] \\
        [--repeat K] [--quiet] [--log-dir DIR] [--print-cmd]
"""

import argparse
import dataclasses
import shlex
import sys
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proc import install_sigterm_handler, kill_all  # noqa: E402 (sibling modules)
from runner import (DEFAULT_LOG_DIR, DEFAULT_MEM, FW_BIOS, IRQ_MACHINE, TCG_MODES,  # noqa: E402
                    Config, RunResult, build_cmd, format_details, format_run_line,
                    lottery_line, run_config, tally_line)


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
                           echo=not args.quiet)
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
