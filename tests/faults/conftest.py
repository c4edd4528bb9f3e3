"""Fault tests (``make faults``): nodes killed under a load of issuances, on networks of
their own (never the session network of tests/network), each started once per module on
EBILL_TEST_BASE_PORT + 200 (Raft) or + 1200 (BFT) and removed at its end.

Every test here is marked ``faults`` and ``network``. At the end of the run the
scenarios' table is printed and written to EBILL_FAULTS_REPORT (default
``faults-report.md`` in pytest's base temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from report import ROWS, markdown


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test collected from this folder ``faults`` and ``network``."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.faults)
            item.add_marker(pytest.mark.network)


def _report_path(config: pytest.Config) -> Path:
    if os.environ.get("EBILL_FAULTS_REPORT"):
        return Path(os.environ["EBILL_FAULTS_REPORT"])
    factory: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]
    return factory.getbasetemp() / "faults-report.md"


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    """Print the scenarios' table and write it to the report file."""
    if not ROWS:
        return
    text = markdown(ROWS)
    path = _report_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    terminalreporter.section("fault scenarios")
    terminalreporter.write(text)
    terminalreporter.write_line(f"(written to {path})")
