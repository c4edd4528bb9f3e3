"""The service bench's figures: percentiles, a measured series, and its markdown table.

Pure functions of numbers (no network), so a unit test covers them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

SDK = "SDK"
HTTP = "HTTP"


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p`` percentile (0..100) of ``values`` by linear interpolation between the
    closest ranks. Raises ValueError for no values or ``p`` outside 0..100."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"p: between 0 and 100, got {p}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Series:
    """One measured row: calls of ``operation`` by ``path`` with ``in_flight`` at once.

    ``latencies`` are the seconds of each successful call; ``seconds`` the wall time
    of all of them (summed over the rounds); ``errors`` the failed calls.
    """

    operation: str
    path: str
    in_flight: int
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0
    first_error: str = ""
    bench_cpu: float = 0.0  # CPU seconds of the bench process over the calls
    service_cpu: float = 0.0  # CPU seconds of the service process over the calls

    def cpu_ms(self, seconds: float) -> float | None:
        """``seconds`` of CPU per call, in milliseconds (None without calls)."""
        return seconds / self.count * 1000 if self.count else None

    @property
    def count(self) -> int:
        return len(self.latencies) + self.errors

    def p(self, q: float) -> float | None:
        """The ``q`` percentile latency in milliseconds (None without a success)."""
        return percentile(self.latencies, q) * 1000 if self.latencies else None

    @property
    def throughput(self) -> float | None:
        """Successful calls per wall second (None before any)."""
        return len(self.latencies) / self.seconds if self.seconds > 0 and self.latencies else None


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b``, or None when either is missing or ``b`` is 0."""
    return a / b if a is not None and b else None


def difference(a: float | None, b: float | None) -> float | None:
    """``a - b``, or None when either is missing."""
    return a - b if a is not None and b is not None else None


def fmt(value: float | None, digits: int = 1) -> str:
    """A number with ``digits`` decimals, or "-" for None."""
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 1) -> str:
    """A GitHub markdown table; the first ``left`` columns left-aligned, the others right.

    Raises ValueError if a row has not as many cells as the header.
    """
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"row {list(row)}: {len(row)} cells, the header has {len(header)}")
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join(":---" if i < left else "---:" for i in range(len(header))) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


COMPARISON_HEADER = (
    "operation",
    "in flight",
    "path",
    "n",
    "err",
    "p50 ms",
    "p95 ms",
    "calls/s",
    "added p50 ms",
    "added p95 ms",
    "HTTP/SDK calls/s",
    "bench CPU ms/call",
    "service CPU ms/call",
)


def comparison_rows(pairs: Sequence[tuple[Series, Series]]) -> list[list[str]]:
    """Two rows per (SDK, HTTP) pair; the HTTP row carries the added latency (HTTP minus
    SDK, p50 and p95) and the throughput ratio HTTP/SDK."""
    rows: list[list[str]] = []
    for sdk, http in pairs:
        for s in (sdk, http):
            is_http = s is http
            rows.append(
                [
                    s.operation,
                    str(s.in_flight),
                    s.path,
                    str(s.count),
                    str(s.errors),
                    fmt(s.p(50)),
                    fmt(s.p(95)),
                    fmt(s.throughput),
                    fmt(difference(http.p(50), sdk.p(50))) if is_http else "",
                    fmt(difference(http.p(95), sdk.p(95))) if is_http else "",
                    fmt(ratio(http.throughput, sdk.throughput), 2) if is_http else "",
                    fmt(s.cpu_ms(s.bench_cpu)),
                    fmt(s.cpu_ms(s.service_cpu)) if is_http else "",
                ]
            )
    return rows


@dataclass(frozen=True)
class Lag:
    """Blocks the projector was behind the peer, sampled every ``interval`` seconds."""

    samples: tuple[int, ...]
    interval: float

    @property
    def max(self) -> int | None:
        return max(self.samples) if self.samples else None

    @property
    def p95(self) -> float | None:
        return percentile(self.samples, 95) if self.samples else None


__all__ = [
    "COMPARISON_HEADER",
    "HTTP",
    "SDK",
    "Lag",
    "Series",
    "comparison_rows",
    "difference",
    "fmt",
    "markdown",
    "percentile",
    "ratio",
]
