"""A one-line progress display for long steps (bulk issuance) on a terminal or a log."""

from __future__ import annotations

import time
from typing import TextIO


class Progress:
    """``done/total  rate/s  failed`` rewritten in place on a terminal; on anything else,
    a line at most every ``every`` seconds and at the end."""

    def __init__(self, total: int, label: str, out: TextIO, *, every: float = 2.0) -> None:
        self.total = total
        self.label = label
        self.out = out
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()
        self._last = self.started
        self._every = every
        self._tty = out.isatty()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        failed = f", {self.failed} failed" if self.failed else ""
        return (
            f"{self.label} {self.done}/{self.total}  {rate:.1f}/s  {elapsed:.1f}s elapsed{failed}"
        )

    def advance(self, ok: bool = True) -> None:
        """Count one finished item and redraw when due."""
        self.done += 1
        if not ok:
            self.failed += 1
        now = time.monotonic()
        if self._tty:
            self.out.write("\r" + self.line())
            self.out.flush()
        elif now - self._last >= self._every and self.done < self.total:
            self.out.write(self.line() + "\n")
            self._last = now

    def finish(self) -> None:
        """The last line."""
        self.out.write(("\r" if self._tty else "") + self.line() + "\n")
        self.out.flush()
