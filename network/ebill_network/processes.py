"""Native processes of the network: start detached, record pids, stop, and poll.

Each process gets a pid file under ``run/`` and a log under ``logs/``; a process
started by one command (``make network-up``) is stopped by another
(``make network-down``) through those files.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class NetworkError(RuntimeError):
    """A step of bringing the network up or down failed; the message says which and why."""


class InvalidOrg(NetworkError):
    """``add-org`` was given a bad or taken org name, role or unit; nothing was changed."""


class IdentityRefused(NetworkError):
    """An org's CA refused to register or revoke an identity; ``status`` is its HTTP
    status (404: unknown identity, 409 or 400: name taken) when it answered."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def run(
    argv: Sequence[str | Path],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
    what: str = "",
) -> str:
    """Run a command to completion and return its stdout; raise NetworkError with its output."""
    merged = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [str(a) for a in argv],
        env=merged,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        label = what or Path(str(argv[0])).name
        output = (proc.stderr.strip() or proc.stdout.strip())[-4000:]
        raise NetworkError(f"{label} failed (exit {proc.returncode}): {output}")
    return proc.stdout


class ProcessManager:
    """Starts and stops the network's long-running processes by name."""

    def __init__(self, run_dir: Path, logs_dir: Path) -> None:
        self.run_dir = run_dir
        self.logs_dir = logs_dir

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    def start(
        self,
        name: str,
        argv: Sequence[str | Path],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> int:
        """Start ``argv`` in its own session (it outlives this Python process); return its pid."""
        if self.pid(name) is not None:
            raise NetworkError(f"{name} is already running (pid {self.pid(name)})")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_file(name), "ab") as log:
            proc = subprocess.Popen(
                [str(a) for a in argv],
                env={**os.environ, **(env or {})},
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # The start time tells our process from a later one that reuses its pid.
        self.pid_file(name).write_text(f"{proc.pid} {_start_time(proc.pid)}\n")
        return proc.pid

    def rename(self, old: str, new: str) -> None:
        """Record the running process ``old`` under the name ``new`` (its log keeps its name)."""
        self.pid_file(old).rename(self.pid_file(new))

    def pid(self, name: str) -> int | None:
        """The pid of a running process of that name, or None."""
        path = self.pid_file(name)
        if not path.exists():
            return None
        pid_text, started = path.read_text().split()
        pid = int(pid_text)
        if _start_time(pid) != started:
            path.unlink(missing_ok=True)
            return None
        return pid

    def names(self) -> list[str]:
        if not self.run_dir.exists():
            return []
        return sorted(p.stem for p in self.run_dir.glob("*.pid"))

    def running(self) -> dict[str, int]:
        """Every recorded process still alive, by name."""
        out: dict[str, int] = {}
        for name in self.names():
            pid = self.pid(name)
            if pid is not None:
                out[name] = pid
        return out

    def stop(self, name: str, *, timeout: float = 15) -> None:
        """SIGTERM the process group, then SIGKILL it if it is still there after ``timeout``."""
        pid = self.pid(name)
        if pid is None:
            return
        started = _start_time(pid)
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _running(pid, started):
            time.sleep(0.1)
        if _running(pid, started):
            _signal_group(pid, signal.SIGKILL)
            while _running(pid, started):
                time.sleep(0.05)
        self.pid_file(name).unlink(missing_ok=True)

    def stop_all(self) -> None:
        for name in self.names():
            self.stop(name)

    def check_alive(self, name: str) -> None:
        """Raise NetworkError with the tail of its log if the process has died."""
        if self.pid(name) is None:
            raise NetworkError(
                f"{name} exited; last lines of {self.log_file(name)}:\n{self.log_tail(name)}"
            )

    def wait_listening(self, name: str, host: str, port: int, *, timeout: float = 60) -> None:
        """Wait until process ``name`` accepts connections on host:port; fail fast if it dies.

        Raises NetworkError naming the process, its log file and its last log lines.
        """
        try:
            wait_for(
                f"{name} to listen on {host}:{port}",
                lambda: port_open(host, port),
                timeout=timeout,
                check=lambda: self.check_alive(name),
            )
        except NetworkError as exc:
            if str(exc).startswith(f"{name} exited"):
                raise
            raise NetworkError(
                f"{exc}; last lines of {self.log_file(name)}:\n{self.log_tail(name)}"
            ) from None

    def log_tail(self, name: str, lines: int = 25) -> str:
        path = self.log_file(name)
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name, or None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot ("" when it is gone or a zombie)."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] == "Z":
        return ""
    return fields[19]


def _running(pid: int, started: str | None = None) -> bool:
    """True while any thread of the process lives (``started``: only if it is still
    the process that started then, not a later one reusing its pid).

    The main thread of a multi-threaded program (Go's peer, orderer, CA) can be a
    zombie while its other threads still exit and still hold its sockets: the
    process is gone only when every thread is a zombie or gone.
    """
    fields = _stat_fields(pid)
    if fields is None or (started is not None and fields[19] != started):
        return False
    if fields[0] != "Z":
        return True
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    for task in tasks:
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            return True
    return False


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


def wait_for(
    what: str,
    probe: Callable[[], T | None],
    *,
    timeout: float = 60,
    interval: float = 0.2,
    check: Callable[[], None] | None = None,
) -> T:
    """Poll ``probe`` until it returns something other than None or False.

    ``check`` runs between polls and may raise (for instance when a process died).
    Raises NetworkError naming ``what`` and the last probe error on timeout.
    """
    deadline = time.monotonic() + timeout
    last: str = "condition not met"
    while True:
        try:
            value = probe()
            if value is not None and value is not False:
                return value
        except Exception as exc:  # noqa: BLE001 - a failing probe is retried until timeout
            last = f"{type(exc).__name__}: {exc}"
        if check is not None:
            check()
        if time.monotonic() >= deadline:
            raise NetworkError(f"timed out after {timeout:.0f}s waiting for {what}: {last}")
        time.sleep(interval)


def port_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0
