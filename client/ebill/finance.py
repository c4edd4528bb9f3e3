"""The finance department: registers units, grants and reconciles stock, supervises."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ebill_chaincode.contract import interface as api
from ebill_chaincode.contract import vocabulary

from .capabilities import BillArchiver, BillReader, SupervisionReads, UnitReads
from .models import Bill, StockBatch, Unit
from .spool import read_spool

#: Entries per RecordAnomalies transaction (the contract takes at most 100).
ANCHOR_BATCH = 50


@dataclass(frozen=True)
class Anchored:
    """What one anchoring did: ids newly recorded, ids already on the chain, and the
    spool offset read up to (pass it back to read only what is new)."""

    recorded: list[str]
    known: list[str]
    next_offset: int


SECTORS = vocabulary.SECTORS


class FinanceClient(BillArchiver, BillReader, SupervisionReads, UnitReads):
    """Finance (role finance, FinanceMSP): every write it owns, and every read."""

    def register_unit(self, unit_code: str, name: str, sector: str, region: str) -> Unit:
        """RegisterUnit; the active unit record.

        Raises AlreadyExists (registered before), InvalidInput, NotAuthorised.
        """
        unit = {"unitCode": unit_code, "name": name, "sector": sector, "region": region}
        return Unit.from_json(
            self._submit(api.REGISTER_UNIT.name, json.dumps(unit, ensure_ascii=False))
        )

    def suspend_unit(self, unit_code: str, reason: str) -> Unit:
        """SuspendUnit: no issuing, no stock. Raises NotFound, Conflict (already suspended)."""
        return Unit.from_json(self._submit(api.SUSPEND_UNIT.name, unit_code, reason))

    def resume_unit(self, unit_code: str) -> Unit:
        """ResumeUnit. Raises NotFound, Conflict (not suspended)."""
        return Unit.from_json(self._submit(api.RESUME_UNIT.name, unit_code))

    def approve_stock(self, batch_id: str) -> StockBatch:
        """ApproveStock of a pending application.

        Raises NotFound, StockConflict (not pending, overlapping range), UnitSuspended.
        """
        return StockBatch.from_json(self._submit(api.APPROVE_STOCK.name, batch_id))

    def reject_stock(self, batch_id: str, reason: str) -> StockBatch:
        """RejectStock of a pending application. Raises NotFound, StockConflict."""
        return StockBatch.from_json(self._submit(api.REJECT_STOCK.name, batch_id, reason))

    def reconcile_stock(self, batch_id: str) -> StockBatch:
        """ReconcileStock: close an approved batch with the counts of its used numbers.

        Raises NotFound, StockConflict (not approved).
        """
        return StockBatch.from_json(self._submit(api.RECONCILE_STOCK.name, batch_id))

    def unlock_bill(self, bill_code: str, bill_number: str) -> Bill:
        """UnlockBill: release a stale lock. Raises NotFound, BillNotLocked."""
        return Bill.from_json(self._submit(api.UNLOCK_BILL.name, bill_code, bill_number))

    def anchor_anomalies(self, spool: Path, offset: int = 0) -> Anchored:
        """RecordAnomalies for the spooled anomalies from ``offset`` on, in batches.

        Idempotent: anomalies already on the chain are counted as known. Raises
        InvalidInput (a damaged entry), NotAuthorised, InternalError (a damaged spool).
        """
        read = read_spool(spool, offset)
        recorded: list[str] = []
        known: list[str] = []
        for start in range(0, len(read.entries), ANCHOR_BATCH):
            batch = read.entries[start : start + ANCHOR_BATCH]
            answer = self._submit(api.RECORD_ANOMALIES.name, json.dumps(batch, ensure_ascii=False))
            recorded += [str(i) for i in answer.get("recorded", [])]
            known += [str(i) for i in answer.get("known", [])]
        return Anchored(recorded, known, read.next_offset)
