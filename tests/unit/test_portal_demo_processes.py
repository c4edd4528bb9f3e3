"""The demo's background processes (``ebill_portal.background``) and its ports.

Real processes: a ``sleep`` started detached, recorded, stopped; records that name a
process that is gone, or a pid now used by another process, are not taken for it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from ebill_portal.background import Background
from ebill_portal.demo import ORGS, Layout


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def test_a_process_is_recorded_in_the_networks_format_and_stopped(tmp_path: Path) -> None:
    procs = Background(tmp_path)
    pid = procs.start("sleeper", [sys.executable, "-c", "import time; time.sleep(120)"], {})
    recorded, started = procs.pid_file("sleeper").read_text().split()
    stat = _stat(pid)
    assert int(recorded) == pid and stat is not None and stat[19] == started
    assert procs.pid("sleeper") == pid
    assert os.getpgid(pid) == pid  # its own session: the whole group is signalled
    assert procs.stop("sleeper") == pid
    stat = _stat(pid)
    assert stat is None or stat[0] == "Z"  # gone (a zombie of this test at most)
    assert not procs.pid_file("sleeper").exists()
    assert procs.pid("sleeper") is None and procs.stop("sleeper") is None


def test_a_stale_record_is_not_taken_for_a_running_process(tmp_path: Path) -> None:
    procs = Background(tmp_path)
    procs.run_dir.mkdir(parents=True)
    # this test's own pid with another start time: a pid reused by another process
    procs.pid_file("portal").write_text(f"{os.getpid()} 1\n")
    assert procs.pid("portal") is None and not procs.pid_file("portal").exists()
    procs.pid_file("portal").write_text("garbage\n")
    assert procs.pid("portal") is None


def test_a_process_that_exits_at_once_is_seen_as_gone(tmp_path: Path) -> None:
    procs = Background(tmp_path)
    procs.start("quick", [sys.executable, "-c", "print('bye')"], {})
    deadline = time.monotonic() + 30
    while procs.pid("quick") is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert procs.pid("quick") is None
    assert "bye" in procs.log_tail("quick")


def test_ports_follow_the_base_port() -> None:
    layout = Layout(Path("/tmp/x"), 13550)
    assert [layout.service_url(org) for org in ORGS] == [
        f"https://127.0.0.1:{port}" for port in (13850, 13851, 13852, 13853)
    ]
    assert layout.portal_url == "https://127.0.0.1:13860"
