"""How much of a unit's stock is used: its batches (ListStock) beside the numbers it issued.

A reconciled batch carries the counts finance recorded (issued, unused). For an open
(approved) batch the portal counts the unit's bills (ListBillsByUnit, every page up to
``max_pages``) whose code and number fall in the batch's range; when the unit has more
bills than that, the count is marked incomplete (a lower bound).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .api import ServiceAPI

PAGE = 200


@dataclass(frozen=True)
class Use:
    """A batch with the numbers used and left (``complete`` False: at least ``used``)."""

    batch: dict[str, Any]
    used: int | None
    complete: bool = True

    @property
    def left(self) -> int | None:
        return None if self.used is None else int(self.batch["count"]) - self.used


def batches(api: ServiceAPI, unit_code: str, max_pages: int = 20) -> list[dict[str, Any]]:
    """Every stock batch of the unit (up to ``max_pages`` pages of 200)."""
    records: list[dict[str, Any]] = []
    bookmark = ""
    for _ in range(max_pages):
        page = api.get(f"/v1/units/{unit_code}/stock", pageSize=PAGE, bookmark=bookmark)
        records.extend(page["records"])
        bookmark = page["bookmark"]
        if not bookmark or len(page["records"]) < PAGE:
            break
    return records


def _in(batch: dict[str, Any], bill: dict[str, Any]) -> bool:
    return bool(
        bill["billCode"] == batch["billCode"]
        and batch["startNumber"] <= bill["billNumber"] <= batch["endNumber"]
    )


def usage(
    api: ServiceAPI, unit_code: str, records: list[dict[str, Any]], max_pages: int = 50
) -> list[Use]:
    """Each batch with its use: pending and rejected batches have none (``used`` None)."""
    open_batches = [b for b in records if b["status"] == "approved"]
    counts = dict.fromkeys((b["batchId"] for b in open_batches), 0)
    complete = True
    if open_batches:
        bookmark, pages = "", 0
        while True:
            page = api.get(f"/v1/units/{unit_code}/bills", pageSize=PAGE, bookmark=bookmark)
            for bill in page["records"]:
                for batch in open_batches:
                    if _in(batch, bill):
                        counts[batch["batchId"]] += 1
            bookmark, pages = page["bookmark"], pages + 1
            if not bookmark or len(page["records"]) < PAGE:
                break
            if pages >= max_pages:
                complete = False
                break
    result = []
    for batch in records:
        if batch["status"] == "approved":
            result.append(Use(batch, counts[batch["batchId"]], complete))
        elif batch["status"] == "reconciled" and "reconciliation" in batch:
            result.append(Use(batch, int(batch["reconciliation"]["issued"])))
        else:
            result.append(Use(batch, None))
    return result
