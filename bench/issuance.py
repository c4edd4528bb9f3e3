"""Two-step issuance as a raw Gateway client does it, for the bench's three clients.

1. ``DepositBillPrivate(code, number)``, endorsed by UnitsMSP alone: the whole bill,
   payer, salt and medical part as transient data (only the units peer receives it).
2. ``IssueBill(public JSON)``, endorsed by FinanceMSP + UnitsMSP, with the check
   code's salted scrypt hash as transient data, once the finance peer has the
   deposit's block (it checks the deposit by its hash).

Batch issuance (:class:`BatchIssuance`) does the same for 100 bills with
``DepositBillsPrivate`` and ``IssueBills``.

The same steps as ``ebill.unit.UnitClient.issue_bill`` / ``issue_bills`` (which add
retries and domain errors); every rule of the contract runs. The issuer computes the
check code's hash (about 0.1 s of CPU, on the issuer's machine in a deployment); the
bench hashes :data:`HASH_POOL` codes once before the run and hands them out in turn
(the chaincode checks only a hash's form, so the endorsers' work is the same), so that
the client's hashing does not swamp this 2-core machine; :func:`hash_cost` measures
one hash for the report.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import fabricgw
from ebill.groupcommit import GroupCommit
from ebill.samples import SampleBill
from ebill.unit import IssueRequest, PreparedBill, new_check_code
from ebill_chaincode.contract.checkcode import hash_check_code
from fabricgw.commit import check_committed

from .heights import BlockHeight

DEPOSIT_ENDORSERS = ["UnitsMSP"]
# The gateway protects transient data: a proposal carrying it is endorsed only by
# orgs in the collection's distribution policy unless the client names the
# endorsers. Finance endorses every transaction, so IssueBill names finance and the
# issuing unit's org, as every IssueBill client must.
ISSUE_ENDORSERS = ["FinanceMSP", "UnitsMSP"]
HASH_POOL = 16
BATCH_SIZE = 100


def _pool() -> Iterator[tuple[str, bytes]]:
    codes = [new_check_code() for _ in range(HASH_POOL)]
    pairs = [(code, hash_check_code(code).encode()) for code in codes]
    return itertools.cycle(pairs)


_HASHES: Iterator[tuple[str, bytes]] | None = None


def next_hash() -> tuple[str, bytes]:
    """A (check code, its stored hash) pair from the pool (hashed on first use)."""
    global _HASHES
    if _HASHES is None:
        _HASHES = _pool()
    return next(_HASHES)


def prepared(sample: SampleBill) -> PreparedBill:
    """``sample`` prepared for :class:`ebill.groupcommit.GroupCommit`, its check code and
    hash from the pool (the SDK would hash it in the caller's thread)."""
    code, code_hash = next_hash()
    request = IssueRequest.of(sample, check_code=code)
    return PreparedBill.of(request, code_hash=code_hash.decode())


def group_job(group: GroupCommit, sample: SampleBill) -> Callable[[], Awaitable[object]]:
    """One caller's bill through ``group``, :func:`prepared` now (before the clock runs);
    the job awaits that bill's own result."""
    bill = prepared(sample)
    return lambda: asyncio.wrap_future(group.submit_prepared(bill))


def hash_cost(count: int = 5) -> float:
    """CPU seconds of one check-code hash on this machine (the issuer's cost)."""
    t = time.process_time()
    for _ in range(count):
        hash_check_code(new_check_code())
    return (time.process_time() - t) / count


@dataclass(frozen=True)
class Issuance:
    """One bill's two calls, prepared before anything is timed."""

    code: str
    number: str
    deposit_transient: dict[str, bytes]
    public: str
    check_code_hash: bytes

    @classmethod
    def of(cls, sample: SampleBill) -> Issuance:
        bill = json.dumps(sample.bill, ensure_ascii=False).encode()
        return cls(
            sample.code,
            sample.number,
            {**sample.transient(), "bill": bill},
            json.dumps(sample.public(), ensure_ascii=False),
            next_hash()[1],
        )

    @property
    def issue_transient(self) -> dict[str, bytes]:
        return {"checkCodeHash": self.check_code_hash}

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
                "transient": b64(self.issue_transient),
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
            transient=bill.issue_transient,
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
            transient=bill.issue_transient,
            endorsing_organizations=ISSUE_ENDORSERS,
        )

    return job


@dataclass(frozen=True)
class BatchIssuance:
    """One batch's two calls: DepositBillsPrivate (units peer alone) and IssueBills."""

    size: int
    deposit_transient: dict[str, bytes]
    publics: str
    issue_transient: dict[str, bytes]

    @classmethod
    def of(
        cls, samples: Sequence[SampleBill], hashes: Sequence[str] | None = None
    ) -> BatchIssuance:
        """The batch of ``samples``; each bill's check-code hash from ``hashes`` (one per
        bill, for a caller that must know each bill's code) or else from the pool."""
        entries = []
        for sample in samples:
            entry: dict[str, Any] = {
                "bill": sample.bill,
                "payer": sample.payer,
                "payerSalt": sample.salt.hex(),
            }
            if sample.medical is not None:
                entry["medical"] = sample.medical
            entries.append(entry)
        if hashes is None:
            hashes = [next_hash()[1].decode() for _ in samples]
        elif len(hashes) != len(samples):
            raise ValueError(f"{len(hashes)} check-code hashes for {len(samples)} bills")
        return cls(
            len(samples),
            {"bills": json.dumps(entries, ensure_ascii=False).encode()},
            json.dumps([s.public() for s in samples], ensure_ascii=False),
            {"checkCodeHashes": json.dumps(list(hashes)).encode()},
        )


def batch_job_async(
    contract: fabricgw.aio.AsyncContract, batch: BatchIssuance, finance: BlockHeight
) -> Callable[[], Awaitable[object]]:
    """The batch's issuance through :mod:`fabricgw.aio`; raises fabricgw errors."""

    async def job() -> bytes:
        _, commit = await contract.submit_async(
            "DepositBillsPrivate",
            transient=batch.deposit_transient,
            endorsing_organizations=DEPOSIT_ENDORSERS,
        )
        status = await commit.status()
        check_committed(status)
        await finance.wait_async(status.block_number)
        return await contract.submit(
            "IssueBills",
            arguments=[batch.publics],
            transient=batch.issue_transient,
            endorsing_organizations=ISSUE_ENDORSERS,
        )

    return job
