"""Running one emulator process: its console into a log file, a timeout,
a cap on the log's size, and killing whole process groups on the way out.
"""

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List, Optional

from qmp import HartState, read_harts

# A kernel stuck printing in a loop must not fill the disk before the
# timeout fires: past this size the run is stopped as a console flood.
MAX_LOG_BYTES = 64 * 1024 * 1024
POLL_SECONDS = 0.25


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


def install_sigterm_handler() -> None:
    """Turn SIGTERM (e.g. a CI timeout) into KeyboardInterrupt so cleanup runs."""
    def handler(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, handler)
