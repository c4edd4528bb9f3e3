"""Background processes recorded by pid file, as the local network records its own.

A process started here runs in its own session (its pid is its process group), logs
to ``<data>/logs/<name>.log`` and is recorded in ``<data>/run/<name>.pid`` as
``<pid> <start time>``: the start time (``/proc/<pid>/stat`` field 22) tells our
process from a later one that reuses the pid. It is the network's format, so
``ebill-network down`` stops these processes with the network's own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def _start_time(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks since boot, or None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # a zombie has exited
        return None
    return fields[19]


class Background:
    """The processes recorded in ``data/run``, with their logs in ``data/logs``."""

    def __init__(self, data: Path) -> None:
        self.run_dir = data / "run"
        self.logs_dir = data / "logs"

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    def pid(self, name: str) -> int | None:
        """The pid of the running process recorded as ``name``, or None (a stale record
        is removed)."""
        path = self.pid_file(name)
        try:
            pid_text, started = path.read_text().split()
        except (OSError, ValueError):
            return None
        pid = int(pid_text)
        if _start_time(pid) != started:
            path.unlink(missing_ok=True)
            return None
        return pid

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> int:
        """Start ``argv`` detached (it outlives this process) and record it; its pid.

        Raises RuntimeError when a process of that name runs already."""
        running = self.pid(name)
        if running is not None:
            raise RuntimeError(f"{name} is already running (pid {running})")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_file(name), "ab") as log:
            proc = subprocess.Popen(
                list(argv),
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file(name).write_text(f"{proc.pid} {_start_time(proc.pid)}\n")
        return proc.pid

    def stop(self, name: str, *, timeout: float = 15) -> int | None:
        """SIGTERM the process group of ``name``, SIGKILL it after ``timeout`` seconds;
        returns the pid it stopped (None if none ran)."""
        pid = self.pid(name)
        if pid is None:
            return None
        started = _start_time(pid)
        self._signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _start_time(pid) == started and time.monotonic() < deadline:
            time.sleep(0.1)
        if _start_time(pid) == started:
            self._signal(pid, signal.SIGKILL)
            while _start_time(pid) == started:
                time.sleep(0.05)
        self.pid_file(name).unlink(missing_ok=True)
        return pid

    def log_tail(self, name: str, lines: int = 20) -> str:
        """The last ``lines`` lines of the process's log."""
        try:
            return "\n".join(self.log_file(name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    @staticmethod
    def _signal(pid: int, sig: signal.Signals) -> None:
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            os.kill(pid, sig)
