"""The calendar bills are dated in: China Standard Time (UTC+08:00), as the contract uses."""

from __future__ import annotations

import datetime as dt

CHINA = dt.timezone(dt.timedelta(hours=8), "CST")


def now_in_china() -> dt.datetime:
    """The current time in China Standard Time, to the second."""
    return dt.datetime.now(CHINA).replace(microsecond=0)


def issue_date_now() -> str:
    """An ``issueDate`` for a bill issued now, e.g. ``2026-11-28T16:03:20+08:00``."""
    return now_in_china().isoformat()


def today_in_china() -> dt.date:
    """Today's date in China, the day anomalies are logged under."""
    return now_in_china().date()
