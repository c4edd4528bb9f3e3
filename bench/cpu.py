"""CPU seconds per process kind of the network, from /proc/<pid>/stat deltas.

Kinds: ``peers``, ``orderers``, ``chaincode`` (every chaincode server: e-bill, Go kv,
Python kv), ``client`` (this process, all threads). The CAs are left out (idle during a
run). A sample is user + system time in clock ticks, read before and after a row.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

KINDS = ("peers", "orderers", "chaincode", "client")
_TICK = os.sysconf("SC_CLK_TCK")


def kind_of(name: str) -> str | None:
    """The kind of the network process ``name`` (``peer0-finance``...), None for others."""
    if name.startswith("peer"):
        return "peers"
    if name.startswith("orderer"):
        return "orderers"
    if name.startswith("chaincode"):
        return "chaincode"
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (its threads included); 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


@dataclass(frozen=True)
class Sample:
    """CPU seconds per kind at one moment."""

    seconds: Mapping[str, float]

    def minus(self, earlier: Sample) -> dict[str, float]:
        """CPU seconds per kind spent between ``earlier`` and this sample."""
        return {k: self.seconds.get(k, 0.0) - earlier.seconds.get(k, 0.0) for k in KINDS}


class Meter:
    """Samples the CPU of the network's processes (``{name: pid}``) and of this process."""

    def __init__(self, processes: Mapping[str, int]) -> None:
        self.pids: dict[str, list[int]] = {k: [] for k in KINDS}
        for name, pid in processes.items():
            kind = kind_of(name)
            if kind is not None:
                self.pids[kind].append(pid)
        self.pids["client"] = [os.getpid()]

    def sample(self) -> Sample:
        """CPU seconds per kind now."""
        return Sample({k: sum(cpu_seconds(p) for p in pids) for k, pids in self.pids.items()})


def load_line(before: tuple[float, float, float], after: tuple[float, float, float]) -> str:
    """The machine's load average before and after a run, for a bench's last line."""
    return (
        "load average (1/5/15 min) before: "
        + " ".join(f"{x:.2f}" for x in before)
        + ", after: "
        + " ".join(f"{x:.2f}" for x in after)
    )
