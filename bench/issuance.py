"""Two-step issuance as a raw Gateway client does it, for the bench's three clients.

1. ``DepositBillPrivate(code, number)``, endorsed by UnitsMSP alone: the whole bill,
   payer, salt and medical part as transient data (only the units peer receives it).
2. ``IssueBill(public JSON)``, endorsed by FinanceMSP + UnitsMSP, with the check code
   as transient data, once the finance peer has the deposit's block (it checks the
   deposit by its hash).

The same steps as ``ebill.unit.UnitClient.issue_bill`` (which adds retries and
domain errors); every rule of the contract runs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import fabricgw
from ebill.samples import SampleBill
from ebill.unit import new_check_code
from fabricgw.commit import check_committed

from .heights import BlockHeight

DEPOSIT_ENDORSERS = ["UnitsMSP"]
# The gateway protects transient data: a proposal carrying it is endorsed only by
# orgs in the collection's distribution policy unless the client names the
# endorsers. Finance endorses every transaction, so IssueBill names finance and the
# issuing unit's org, as every IssueBill client must.
ISSUE_ENDORSERS = ["FinanceMSP", "UnitsMSP"]


@dataclass(frozen=True)
class Issuance:
    """One bill's two calls, prepared before anything is timed."""

    code: str
    number: str
    deposit_transient: dict[str, bytes]
    public: str
    check_code: bytes

    @classmethod
    def of(cls, sample: SampleBill) -> Issuance:
        bill = json.dumps(sample.bill, ensure_ascii=False).encode()
        return cls(
            sample.code,
            sample.number,
            {**sample.transient(), "bill": bill},
            json.dumps(sample.public(), ensure_ascii=False),
            new_check_code().encode(),
        )

    def node_calls(self) -> dict[str, Any]:
        """The two calls for ``bench/node/bench.js`` (transient data in base64)."""

        def b64(data: dict[str, bytes]) -> dict[str, str]:
            return {k: base64.b64encode(v).decode() for k, v in data.items()}

        return {
            "deposit": {
                "function": "DepositBillPrivate",
                "args": [self.code, self.number],
                "transient": b64(self.deposit_transient),
                "endorsingOrganizations": DEPOSIT_ENDORSERS,
            },
            "issue": {
                "function": "IssueBill",
                "args": [self.public],
                "transient": b64({"checkCode": self.check_code}),
                "endorsingOrganizations": ISSUE_ENDORSERS,
            },
        }


def issue_job(
    contract: fabricgw.Contract, bill: Issuance, finance: BlockHeight
) -> Callable[[], object]:
    """The bill's issuance through the sync SDK; raises fabricgw errors."""

    def job() -> bytes:
        _, commit = contract.submit_async(
            "DepositBillPrivate",
            bill.code,
            bill.number,
            transient=bill.deposit_transient,
            endorsing_organizations=DEPOSIT_ENDORSERS,
        )
        status = commit.status()
        check_committed(status)
        finance.wait(status.block_number)
        return contract.submit(
            "IssueBill",
            arguments=[bill.public],
            transient={"checkCode": bill.check_code},
            endorsing_organizations=ISSUE_ENDORSERS,
        )

    return job


def issue_job_async(
    contract: fabricgw.aio.AsyncContract, bill: Issuance, finance: BlockHeight
) -> Callable[[], Awaitable[object]]:
    """The bill's issuance through :mod:`fabricgw.aio`; raises fabricgw errors."""

    async def job() -> bytes:
        _, commit = await contract.submit_async(
            "DepositBillPrivate",
            bill.code,
            bill.number,
            transient=bill.deposit_transient,
            endorsing_organizations=DEPOSIT_ENDORSERS,
        )
        status = await commit.status()
        check_committed(status)
        await finance.wait_async(status.block_number)
        return await contract.submit(
            "IssueBill",
            arguments=[bill.public],
            transient={"checkCode": bill.check_code},
            endorsing_organizations=ISSUE_ENDORSERS,
        )

    return job
