"""A minimal QMP client, and reading a hung guest's harts through it.

When a run times out the runner stops the guest, reads every vCPU's
registers with `info registers -a` and walks each hart's frame-pointer
chain in guest memory, so a hang says where every hart is even when all
of them spin with interrupts off.
"""

import dataclasses
import json
import re
import socket
import time
from typing import List, Tuple

from symbols import ADDR2LINE, symbolise


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
