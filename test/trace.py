#!/usr/bin/env python3
"""make trace: a picture of one stop_machine(), hart by hart.

    python3 test/trace.py --image build/hartstop-bench.elf [--smp 8] [--irq aclint]
        [--out build/trace] [--log FILE]

Boots the bench image with bench_only=trace (kernel/apps/bench.c,
bench_trace()): one typical stop_machine() per waiting rule (stop_wait=
spin, adaptive, wfi) and one batch of stop_one_cpu_nowait() works spread
over the harts, each traced by the kernel's stop trace (stop_trace.h) and
printed as STOPTRACE lines. --log reads an existing console log instead
of booting.

Writes, in --out:
  stop_trace.json   Chrome trace-event JSON (open it in https://ui.perfetto.dev
                    or chrome://tracing): one process per traced call, one
                    thread per hart; states, wfi halts, stopper works and fn
                    as spans, queueing and acks as instants
  stop_machine.png  the spin and adaptive rendezvous side by side, one row
                    per hart (gnuplot)
  nowait_spread.png the nowait batch
The JSON is checked before it is written (check_events()): every span has
a start and a non-negative duration, every hart's spans are ordered.
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ktap  # noqa: E402 (sibling module)
import proc  # noqa: E402 (sibling module)
import runner  # noqa: E402 (sibling module)

RE_EV = re.compile(r"STOPTRACE label=(\S+) cpu=(\d+) ts=(\d+) ev=(\w+) arg=(-?\d+)")
RE_HZ = re.compile(r"STOPTRACE_TIMEBASE label=(\S+) hz=(\d+)")
RE_CALL = re.compile(r"STOPTRACE_CALL label=(\S+) harts=(\d+) ns=(\d+)")
STATES = ["NONE", "PREPARE", "DISABLE_IRQ", "RUN", "EXIT"]
# Span events: start -> end, the name the span gets.
SPANS = {"wfi": ("wfi_end", "wfi (halted)"), "fn": ("fn_end", "fn"),
         "work": ("work_end", "stopper work")}


def parse(text):
    """{label: {"hz": int, "ns": int, "events": [(cpu, ts, ev, arg)]}} from a console log."""
    calls = {}
    for line in ktap.split_lines(text):
        m = RE_EV.search(line)
        if m:
            label, cpu, ts, ev, arg = m.groups()
            calls.setdefault(label, {"events": []})["events"].append(
                (int(cpu), int(ts), ev, int(arg)))
            continue
        m = RE_HZ.search(line)
        if m:
            calls.setdefault(m.group(1), {"events": []})["hz"] = int(m.group(2))
            continue
        m = RE_CALL.search(line)
        if m:
            calls.setdefault(m.group(1), {"events": []})["ns"] = int(m.group(3))
    return calls


def spans(call):
    """Per hart, the spans (kind, name, start_us, end_us) and instants (name, us)."""
    hz = call.get("hz", 10_000_000)
    evs = call["events"]
    t0 = min(ts for _, ts, _, _ in evs)
    us = lambda ts: (ts - t0) * 1e6 / hz  # noqa: E731
    out = {}
    for cpu in sorted({c for c, _, _, _ in evs}):
        mine = sorted((e for e in evs if e[0] == cpu), key=lambda e: e[1])
        sp, inst, open_ = [], [], {}
        state, state_at = None, None
        for _, ts, ev, arg in mine:
            t = us(ts)
            if ev == "state":
                if state is not None:
                    sp.append(("state", STATES[state], state_at, t))
                state, state_at = arg, t
            elif ev in SPANS:
                open_[ev] = t
            elif ev in {end for end, _ in SPANS.values()}:
                start = next(s for s, (e, _) in SPANS.items() if e == ev)
                if start in open_:
                    sp.append((start, SPANS[start][1], open_.pop(start), t))
                if ev == "work_end" and state is not None:
                    sp.append(("state", STATES[state], state_at, t))
                    state = None
            elif ev == "ack":
                inst.append((f"ack {STATES[arg]}", t))
            elif ev == "queue":
                inst.append((f"queue work -> cpu{arg}", t))
        out[cpu] = (sp, inst)
    return out


def chrome_events(calls):
    """The Chrome trace-event list: pid per call, tid per hart, times in us."""
    events = []
    for pid, (label, call) in enumerate(sorted(calls.items()), start=1):
        events.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                       "args": {"name": f"{label} ({call.get('ns', 0) / 1e3:.1f} us)"}})
        for cpu, (sp, inst) in spans(call).items():
            events.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": cpu,
                           "args": {"name": f"cpu{cpu}"}})
            for kind, name, a, b in sorted(sp, key=lambda s: (s[2], -s[3])):
                events.append({"ph": "X", "name": name, "cat": kind, "pid": pid, "tid": cpu,
                               "ts": round(a, 3), "dur": round(b - a, 3)})
            for name, t in inst:
                events.append({"ph": "i", "s": "t", "name": name, "cat": "instant", "pid": pid,
                               "tid": cpu, "ts": round(t, 3)})
    return events


def check_events(events):
    """What Perfetto needs of the file: the problems found (empty: fine)."""
    problems = []
    for i, e in enumerate(events):
        for key in ("ph", "name", "pid", "tid"):
            if key not in e:
                problems.append(f"event {i}: no {key}")
        if e.get("ph") == "X" and (e.get("dur", -1) < 0 or "ts" not in e):
            problems.append(f"event {i}: span without ts or with negative dur")
        if e.get("ph") == "i" and "ts" not in e:
            problems.append(f"event {i}: instant without ts")
    json.loads(json.dumps({"traceEvents": events}))  # serialisable as given
    return problems


def gnuplot_timeline(out, calls, labels, name, title):
    """One PNG, a panel per label side by side: a row per hart, states as
    coloured bars, wfi halts as dark bars inside them, fn as a red one."""
    gnuplot = shutil.which("gnuplot")
    labels = [lb for lb in labels if lb in calls]
    if not gnuplot or not labels:
        return None
    colour = {"PREPARE": "#9ecae1", "DISABLE_IRQ": "#fdae6b", "RUN": "#a1d99b",
              "EXIT": "#dadaeb", "stopper work": "#e0e0e0", "wfi (halted)": "#252525",
              "fn": "#de2d26"}
    width = 760 * len(labels)
    script = [f"set terminal png size {width},{160 + 46 * 9} noenhanced",
              f"set output '{out / (name + '.png')}'",
              f"set multiplot layout 1,{len(labels)} title '{title}'"]
    for label in labels:
        call = calls[label]
        sp = spans(call)
        dat = out / f"{label}.dat"
        with open(dat, "w") as f:
            order = {"work": 0, "state": 1, "wfi": 2, "fn": 3}  # later ones drawn on top
            for cpu, (spn, _) in sp.items():
                for kind, nm, a, b in sorted(spn, key=lambda s: order[s[0]]):
                    h = {"state": 0.38, "work": 0.45, "wfi": 0.16, "fn": 0.3}[kind]
                    f.write(f"{(a + b) / 2} {cpu} {a} {b} {cpu - h} {cpu + h} "
                            f"0x{colour[nm][1:]}\n")
        cpus = sorted(sp)
        script += ["reset", "set style fill solid 1.0 noborder",
                   f"set title '{label}: {call.get('ns', 0) / 1e3:.0f} us'",
                   "set xlabel 'microseconds from the first event'",
                   f"set yrange [{max(cpus) + 0.8}:{min(cpus) - 0.8}]",
                   "set ytics (" + ", ".join(f"'cpu{c}' {c}" for c in cpus) + ")",
                   "set key outside bottom horizontal",
                   f"plot '{dat}' using 1:2:3:4:5:6:7 with boxxyerror lc rgb variable notitle, "
                   + ", ".join(f"NaN with boxes lc rgb '{c}' title '{n}'"
                               for n, c in colour.items())]
    script.append("unset multiplot")
    res = subprocess.run([gnuplot], input="\n".join(script) + "\n", text=True,
                         capture_output=True)
    if res.returncode != 0:
        print("trace: gnuplot failed:", res.stderr.strip()[:400])
        return None
    return out / (name + ".png")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--image", default="build/hartstop-bench.elf")
    p.add_argument("--smp", type=int, default=8)
    p.add_argument("--irq", default="aclint")
    p.add_argument("--out", default="build/trace")
    p.add_argument("--log", help="parse this console log instead of booting")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.log:
        text = Path(args.log).read_text(errors="replace")
    else:
        config = runner.Config(smp=args.smp, irq=args.irq, append="bench_only=trace",
                               timeout=300 + 20 * args.smp, label="trace")
        log = out / f"trace-smp{args.smp}.log"
        outcome = proc.run_command(runner.build_cmd(config, args.image), log,
                                   config.effective_timeout)
        text = log.read_text(errors="replace")
        if outcome.exit_code != 0 or "BENCH_END errors=0" not in text:
            print(f"trace: the boot failed (see {log})")
            return 1
    calls = parse(text)
    if not calls:
        print("trace: no STOPTRACE lines")
        return 1
    events = chrome_events(calls)
    problems = check_events(events)
    for pr in problems[:10]:
        print("trace: bad event:", pr)
    if problems:
        return 1
    with open(out / "stop_trace.json", "w") as f:
        json.dump({"traceEvents": events, "displayTimeUnit": "ns"}, f)
    print(f"trace: {len(events)} events of {len(calls)} calls -> {out / 'stop_trace.json'}")
    for label, call in sorted(calls.items()):
        print(f"trace: {label}: {call.get('ns', 0) / 1e3:.1f} us, {len(call['events'])} events")
    smp = max(c for call in calls.values() for c, _, _, _ in call["events"]) + 1
    for png in (gnuplot_timeline(out, calls, ["stop_machine_spin", "stop_machine_adaptive"],
                                 "stop_machine", f"one stop_machine() at {smp} harts, "
                                 "stop_wait=spin | stop_wait=adaptive"),
                gnuplot_timeline(out, calls, ["nowait_spread"], "nowait_spread",
                                 f"64 stop_one_cpu_nowait() works spread over {smp} harts")):
        if png:
            print(f"trace: -> {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
