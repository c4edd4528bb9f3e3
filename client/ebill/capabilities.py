"""Calls several parties share, as mixins of :class:`~ebill.party.PartyClient`.

Which party has which mixin follows the contract's access table (``access.RULES``):
finance and supervisors read everything; unit staff read their own unit; authorised
reimbursers read the bills they may use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ebill_chaincode.contract import interface as api

from .models import (
    Anomaly,
    Bill,
    BillPrivate,
    HistoryEntry,
    Page,
    StockBatch,
    Totals,
    Unit,
)
from .party import PAGE_SIZE, PartyClient
from .sealed import ReplyKey

Day = str | dt.date
"""A day as YYYY-MM-DD, YYYYMMDD or a date."""
FIRST_DAY = "2000-01-01"
LAST_DAY = "2099-12-31"


def day_text(day: Day) -> str:
    """A day as the contract's YYYY-MM-DD argument."""
    return day.isoformat() if isinstance(day, dt.date) else day


class BillReader(PartyClient):
    """ReadBill: finance, supervisors, the issuing unit, the reimbursers the payer authorised."""

    def read_bill(self, bill_code: str, bill_number: str) -> Bill:
        """The bill's public record. Raises NotFound, NotAuthorised (not a party of it)."""
        return Bill.from_json(self._evaluate(api.READ_BILL.name, bill_code, bill_number))


class PrivateReader(PartyClient):
    """ReadBillPrivate: supervisors, the issuing unit, reimbursers authorised now."""

    def read_bill_private(self, bill_code: str, bill_number: str) -> BillPrivate:
        """The payer, the medical extension, the salt, the line items and staff names.

        The answer is sealed to a fresh key of this call (transient replyKey) and
        opened here. Raises NotFound (no bill, or no private part on this peer),
        NotAuthorised, InternalError (an answer not sealed to the key).
        """
        key = ReplyKey()
        answer = self._evaluate(
            api.READ_BILL_PRIVATE.name, bill_code, bill_number, transient=key.transient()
        )
        return BillPrivate.from_json(key.open(answer, api.READ_BILL_PRIVATE.name))


class BillArchiver(PartyClient):
    """ArchiveBill: finance, or the issuing unit for its own bills."""

    def archive_bill(self, bill_code: str, bill_number: str) -> Bill:
        """Archive a finished bill; the archived record.

        Raises NotFound, NotAuthorised, BillLocked, BillArchived, TooEarlyToArchive.
        """
        return Bill.from_json(self._submit(api.ARCHIVE_BILL.name, bill_code, bill_number))


class UnitReads(PartyClient):
    """A unit's record, stock, bills and totals (unit staff: their own unit only)."""

    def read_unit(self, unit_code: str) -> Unit:
        """The unit record. Raises NotFound, NotAuthorised."""
        return Unit.from_json(self._evaluate(api.READ_UNIT.name, unit_code))

    def read_stock(self, batch_id: str) -> StockBatch:
        """A stock batch. Raises NotFound, NotAuthorised, InvalidInput."""
        return StockBatch.from_json(self._evaluate(api.READ_STOCK.name, batch_id))

    def list_stock(
        self, unit_code: str, *, page_size: int = PAGE_SIZE, bookmark: str = ""
    ) -> Page[StockBatch]:
        """One page of the unit's batches by bill code and start number.

        Raises NotAuthorised, InvalidInput.
        """
        answer = self._evaluate(api.LIST_STOCK.name, unit_code, str(page_size), bookmark)
        return Page.from_json(answer, StockBatch.from_json)

    def iter_stock(self, unit_code: str, *, page_size: int = PAGE_SIZE) -> Iterator[StockBatch]:
        """Every batch of the unit, following bookmarks. Raises as :meth:`list_stock`."""
        return self._pages(lambda b: self.list_stock(unit_code, page_size=page_size, bookmark=b))

    def list_bills_by_unit(
        self,
        unit_code: str,
        from_date: Day = FIRST_DAY,
        to_date: Day = LAST_DAY,
        *,
        page_size: int = PAGE_SIZE,
        bookmark: str = "",
    ) -> Page[Bill]:
        """One page of the unit's bills issued in [from_date, to_date], by date (summaries).

        Raises NotAuthorised, InvalidInput.
        """
        answer = self._evaluate(
            api.LIST_BILLS_BY_UNIT.name,
            unit_code,
            day_text(from_date),
            day_text(to_date),
            str(page_size),
            bookmark,
        )
        return Page.from_json(answer, Bill.from_json)

    def iter_bills_by_unit(
        self,
        unit_code: str,
        from_date: Day = FIRST_DAY,
        to_date: Day = LAST_DAY,
        *,
        page_size: int = PAGE_SIZE,
    ) -> Iterator[Bill]:
        """Every bill of the unit in the span, following bookmarks."""
        return self._pages(
            lambda b: self.list_bills_by_unit(
                unit_code, from_date, to_date, page_size=page_size, bookmark=b
            )
        )

    def totals_page(
        self,
        unit_code: str,
        from_date: Day = FIRST_DAY,
        to_date: Day = LAST_DAY,
        *,
        page_size: int = 200,
        bookmark: str = "",
    ) -> tuple[Totals, str]:
        """TotalsByUnit over ONE page of the unit's bills, and the next bookmark."""
        answer = self._evaluate(
            api.TOTALS_BY_UNIT.name,
            unit_code,
            day_text(from_date),
            day_text(to_date),
            str(page_size),
            bookmark,
        )
        return Totals.from_json(answer), str(answer.get("bookmark", ""))

    def unit_totals(
        self, unit_code: str, from_date: Day = FIRST_DAY, to_date: Day = LAST_DAY
    ) -> Totals:
        """The unit's totals in the span, summed over all pages.

        Raises NotAuthorised, InvalidInput.
        """
        total, bookmark = Totals(), ""
        while True:
            page, following = self.totals_page(unit_code, from_date, to_date, bookmark=bookmark)
            total += page
            if not following or following == bookmark:
                return total
            bookmark = following


class SupervisionReads(PartyClient):
    """Finance and supervisors: histories, lists by index, the anomaly log."""

    def bill_history(self, bill_code: str, bill_number: str) -> list[HistoryEntry]:
        """Every committed change of the bill, oldest first. Raises NotFound, NotAuthorised."""
        answer = self._evaluate(api.BILL_HISTORY.name, bill_code, bill_number)
        return [HistoryEntry.from_json(entry) for entry in answer.get("history", ())]

    def list_units(self, *, page_size: int = PAGE_SIZE, bookmark: str = "") -> Page[Unit]:
        """One page of units by unit code. Raises NotAuthorised."""
        answer = self._evaluate(api.LIST_UNITS.name, str(page_size), bookmark)
        return Page.from_json(answer, Unit.from_json)

    def iter_units(self, *, page_size: int = PAGE_SIZE) -> Iterator[Unit]:
        """Every registered unit."""
        return self._pages(lambda b: self.list_units(page_size=page_size, bookmark=b))

    def list_bills_by_status(
        self, status: str, *, page_size: int = PAGE_SIZE, bookmark: str = ""
    ) -> Page[Bill]:
        """One page of the bills in ``status`` (summaries). Raises InvalidInput."""
        answer = self._evaluate(api.LIST_BILLS_BY_STATUS.name, status, str(page_size), bookmark)
        return Page.from_json(answer, Bill.from_json)

    def iter_bills_by_status(self, status: str, *, page_size: int = PAGE_SIZE) -> Iterator[Bill]:
        """Every bill in ``status``."""
        return self._pages(
            lambda b: self.list_bills_by_status(status, page_size=page_size, bookmark=b)
        )

    def list_bills_by_period(
        self, period: str, *, page_size: int = PAGE_SIZE, bookmark: str = ""
    ) -> Page[Bill]:
        """One page of the bills issued in month ``period`` (YYYYMM). Raises InvalidInput."""
        answer = self._evaluate(api.LIST_BILLS_BY_PERIOD.name, period, str(page_size), bookmark)
        return Page.from_json(answer, Bill.from_json)

    def iter_bills_by_period(self, period: str, *, page_size: int = PAGE_SIZE) -> Iterator[Bill]:
        """Every bill issued in the month."""
        return self._pages(
            lambda b: self.list_bills_by_period(period, page_size=page_size, bookmark=b)
        )

    def list_bills_by_payer(
        self, payer_hash: str, *, page_size: int = PAGE_SIZE, bookmark: str = ""
    ) -> Page[Bill]:
        """One page of the bills of a payerHash. Raises InvalidInput."""
        answer = self._evaluate(api.LIST_BILLS_BY_PAYER.name, payer_hash, str(page_size), bookmark)
        return Page.from_json(answer, Bill.from_json)

    def iter_bills_by_payer(self, payer_hash: str, *, page_size: int = PAGE_SIZE) -> Iterator[Bill]:
        """Every bill of the payerHash."""
        return self._pages(
            lambda b: self.list_bills_by_payer(payer_hash, page_size=page_size, bookmark=b)
        )

    def list_anomalies(
        self,
        from_date: Day = FIRST_DAY,
        to_date: Day = LAST_DAY,
        *,
        anomaly_type: str = "",
        page_size: int = PAGE_SIZE,
        bookmark: str = "",
    ) -> Page[Anomaly]:
        """One page of the anomaly log (days in China time), optionally of one type.

        Raises InvalidInput (bad dates or type), NotAuthorised.
        """
        answer = self._evaluate(
            api.LIST_ANOMALIES.name,
            day_text(from_date),
            day_text(to_date),
            str(page_size),
            bookmark,
            anomaly_type,
        )
        return Page.from_json(answer, Anomaly.from_json)

    def iter_anomalies(
        self,
        from_date: Day = FIRST_DAY,
        to_date: Day = LAST_DAY,
        *,
        anomaly_type: str = "",
        page_size: int = PAGE_SIZE,
    ) -> Iterator[Anomaly]:
        """Every anomaly in the span (and type)."""
        return self._pages(
            lambda b: self.list_anomalies(
                from_date, to_date, anomaly_type=anomaly_type, page_size=page_size, bookmark=b
            )
        )
