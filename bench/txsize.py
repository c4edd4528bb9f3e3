"""Bytes per transaction, read back from the ledger through qscc.

One bill issued the two-step way and one batch of :data:`~bench.issuance.BATCH_SIZE`
bills, each transaction fetched with ``qscc GetTransactionByID`` from the finance
peer: the envelope is what is signed, ordered and stored in a block on every node.
Beside it: the IssueBill answer (the response payload, stored once in the envelope)
and the bill's whole public record (ReadBill), which IssueBill answered before it
answered only the key, status and tx id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from fabric_protos.peer import transaction_pb2

import fabricgw
from ebill.connection import Connection
from ebill.samples import SampleBill
from fabricgw.commit import check_committed

from .heights import BlockHeight
from .issuance import DEPOSIT_ENDORSERS, ISSUE_ENDORSERS, BatchIssuance, Issuance


def envelope_bytes(conn: Connection, tx_id: str) -> int:
    """The size of transaction ``tx_id``'s envelope as stored (finance peer's ledger)."""
    qscc = conn.gateway.get_network(conn.channel_name).get_contract("qscc")
    raw = qscc.evaluate(
        "GetTransactionByID",
        arguments=[conn.channel_name, tx_id],
        target_organizations=["FinanceMSP"],
    )
    processed = transaction_pb2.ProcessedTransaction()  # type: ignore[attr-defined]
    processed.ParseFromString(raw)
    return len(processed.transactionEnvelope.SerializeToString())


@dataclass(frozen=True)
class Sizes:
    deposit: int
    issue: int
    issue_answer: int
    record: int
    batch_deposit: int
    batch_issue: int
    batch_answer: int
    batch_size: int

    def lines(self) -> list[str]:
        per_bill = (self.batch_deposit + self.batch_issue) / self.batch_size
        return [
            f"bytes per transaction (qscc, envelope): DepositBillPrivate {self.deposit},"
            f" IssueBill {self.issue} (its answer {self.issue_answer} B; the whole record,"
            f" which IssueBill answered before, is {self.record} B): one bill"
            f" {self.deposit + self.issue} B",
            f"batch of {self.batch_size}: DepositBillsPrivate {self.batch_deposit},"
            f" IssueBills {self.batch_issue} (answer {self.batch_answer} B):"
            f" {per_bill:.0f} B per bill",
        ]


def _submit(
    contract: fabricgw.Contract,
    name: str,
    args: Sequence[str],
    transient: dict[str, bytes],
    endorsers: list[str],
) -> tuple[bytes, fabricgw.Status]:
    result, commit = contract.submit_async(
        name, *args, transient=transient, endorsing_organizations=endorsers
    )
    status = commit.status()
    check_committed(status)
    return result, status


def measure(
    hospital: Connection, one: SampleBill, batch: Sequence[SampleBill], finance: BlockHeight
) -> Sizes:
    """Issue ``one`` and ``batch``; the sizes of their transactions."""
    contract = hospital.contract
    single = Issuance.of(one)
    _, dep = _submit(
        contract,
        "DepositBillPrivate",
        [single.code, single.number],
        single.deposit_transient,
        DEPOSIT_ENDORSERS,
    )
    finance.wait(dep.block_number)
    answer, iss = _submit(
        contract, "IssueBill", [single.public], single.issue_transient, ISSUE_ENDORSERS
    )
    record = contract.evaluate("ReadBill", arguments=[single.code, single.number])
    many = BatchIssuance.of(batch)
    _, bdep = _submit(
        contract, "DepositBillsPrivate", [], many.deposit_transient, DEPOSIT_ENDORSERS
    )
    finance.wait(bdep.block_number)
    banswer, biss = _submit(
        contract, "IssueBills", [many.publics], many.issue_transient, ISSUE_ENDORSERS
    )
    finance.wait(biss.block_number)
    assert len(json.loads(banswer)["bills"]) == many.size
    return Sizes(
        envelope_bytes(hospital, dep.transaction_id),
        envelope_bytes(hospital, iss.transaction_id),
        len(answer),
        len(record),
        envelope_bytes(hospital, bdep.transaction_id),
        envelope_bytes(hospital, biss.transaction_id),
        len(banswer),
        many.size,
    )
