"""The fault run's table: one row per scenario, printed at the end and written to a file.

The file is ``EBILL_FAULTS_REPORT`` if set, else ``faults-report.md`` in pytest's
base temporary folder; the terminal summary names it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Row:
    """What one scenario showed. Times are measured, never asserted.

    ``recovery_s``: seconds from the fault to the end of the first issuance that
    started after it and was acknowledged; ``after_restore_s``: the same from the
    moment the restore step (restart, SIGCONT, ``up``) returned. None: none succeeded.
    """

    scenario: str
    acknowledged: int = 0
    lost: int = 0
    unknown: int = 0
    unknown_committed: int = 0
    failed: int = 0
    recovery_s: float | None = None
    after_restore_s: float | None = None
    converged: bool = False
    height: int = 0
    note: str = ""


ROWS: list[Row] = []

HEADER = (
    "| scenario | acknowledged | lost | unknown -> committed | failed | recovery s "
    "| after restore s | converged (height) | note |"
)


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def markdown(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = [HEADER, "|" + "---|" * 9]
    for r in rows:
        lines.append(
            f"| {r.scenario} | {r.acknowledged} | {r.lost} | {r.unknown} -> "
            f"{r.unknown_committed} | {r.failed} | {_s(r.recovery_s)} | "
            f"{_s(r.after_restore_s)} | {'yes' if r.converged else 'NO'} ({r.height}) "
            f"| {r.note} |"
        )
    return "\n".join(lines) + "\n"
