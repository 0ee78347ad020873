"""Addresses to "function at file:line", with the toolchain's addr2line."""

import subprocess
from typing import List

from ktap import RE_FRAME

ADDR2LINE = "riscv64-unknown-elf-addr2line"


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


def symbolise_report(lines: List[str], image: str, addr2line: str = ADDR2LINE) -> List[str]:
    """Append "func at file:line" to every backtrace frame line of a report."""
    hits = [(i, RE_FRAME.search(line)) for i, line in enumerate(lines)]
    hits = [(i, m) for i, m in hits if m]
    addrs = [m.group(2) if m.group(3) else f"{int(m.group(2), 16) - 1:016x}" for _, m in hits]
    out = list(lines)
    for (i, _), sym in zip(hits, symbolise(addrs, image, addr2line)):
        out[i] = f"{lines[i]}  {sym}"
    return out


