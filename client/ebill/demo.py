"""``python -m ebill.demo``: the life of fiscal e-bills on the running network, step by step.

Finance registers a hospital and a school and grants them stock; the hospital issues
bills to a payer; the payer authorises the medical-insurance centre and a commercial
insurer, who share one bill's reimbursement; a second claim on the closed bill is
refused (an error with a code) and finance anchors the anomaly its chaincode spooled;
the school voids a bill with a red bill; the
supervisor traces a bill's history, the anomaly log and the totals per unit; anyone
verifies a bill with its check code. Every line names who acted.

Re-runnable on the same network: units already registered are fine, each run
reconciles the units' open batches and is granted a fresh range of numbers, so
bill numbers are new every run.

At the end it writes ``demo-bills.json`` (0600) beside ``network.json``: the payer's
type, id and bill key (the salt the hospital hands over with the receipts) and the
references of this run's bills, which ``ebill-portal demo`` needs to show them.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .clock import issue_date_now, today_in_china
from .connection import load_description
from .errors import AlreadyExists, EbillError, NetworkUnavailable
from .finance import FinanceClient
from .models import Bill, IssuedBill, StockBatch
from .money import yuan
from .netops import default_network_file
from .parties import open_client
from .party import PartyClient
from .payer import PayerClient
from .reimburser import ReimburserClient
from .samples import (
    HOSPITAL_UNIT,
    OUTPATIENT_CODE,
    PAYER1,
    PAYER2,
    SCHOOL_UNIT,
    TUITION_CODE,
    SampleBill,
    outpatient_bill,
    tuition_bill,
)
from .spool import spool_path
from .supervisor import SupervisorClient
from .sync import BlockSync
from .table import render
from .unit import UnitClient
from .views import history_table, totals_table

P = TypeVar("P", bound=PartyClient)
BATCH_SIZE = 1000
#: What the demo leaves for the portal, beside network.json.
BILLS_FILE = "demo-bills.json"


def who(party: PartyClient) -> str:
    """``hospital1 (UnitsMSP, issuer HN0101)``: the acting user, its org and role."""
    conn = party.connection
    attrs = conn.attributes
    role = attrs.get("role", "no role")
    detail = attrs.get("unit") or attrs.get("reimburser") or ""
    return f"{conn.user} ({conn.msp_id}, {role}{' ' + detail if detail else ''})"


class Story:
    """The narrator: numbered steps, and one line per action naming the actor."""

    def __init__(self) -> None:
        self.number = 0

    def step(self, title: str) -> None:
        self.number += 1
        print(f"\n== {self.number}. {title}")

    def did(self, party: PartyClient, text: str) -> None:
        print(f"   {who(party)}: {text}")

    def note(self, text: str) -> None:
        print(f"      {text}")

    def block(self, text: str) -> None:
        print(textwrap.indent(text, "      "))


T = TypeVar("T")


def timed(action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def register(story: Story, finance: FinanceClient, unit: dict[str, str]) -> None:
    code = unit["unitCode"]
    try:
        record = finance.register_unit(code, unit["name"], unit["sector"], unit["region"])
        story.did(finance, f"RegisterUnit {code} {record.name}: {record.status}")
    except AlreadyExists:
        record = finance.read_unit(code)
        story.did(finance, f"RegisterUnit {code} {record.name}: already registered, fine")
    if record.status == "suspended":
        finance.resume_unit(code)
        story.note(f"{code} was suspended: resumed")


def grant_stock(
    story: Story, finance: FinanceClient, unit: UnitClient, bill_code: str
) -> StockBatch:
    """Settle the unit's open batch of ``bill_code`` and grant a fresh range after all."""
    batches = [b for b in finance.iter_stock(unit.unit_code) if b.bill_code == bill_code]
    for batch in batches:
        if batch.status == "pending":
            finance.reject_stock(batch.batch_id, "superseded by a new application")
            story.did(finance, f"RejectStock {batch.batch_id[:10]}: a stale pending application")
        elif batch.status == "approved":
            closed = finance.reconcile_stock(batch.batch_id)
            rec = closed.reconciliation
            counts = (
                f"{rec.issued} numbers used (red bills among them: {rec.red_bills}),"
                f" {rec.unused:,} unused"
                if rec
                else ""
            )
            story.did(
                finance,
                f"ReconcileStock of last run's batch {batch.start_number}-{batch.end_number}:"
                f" {counts}",
            )
    last = max((int(b.end_number) for b in batches), default=0)
    start = f"{last + 1:010d}"
    applied = unit.apply_stock(bill_code, start, BATCH_SIZE)
    story.did(
        unit,
        f"ApplyStock {bill_code} numbers {applied.start_number}-{applied.end_number}:"
        f" {applied.status} (batch {applied.batch_id[:10]}...)",
    )
    approved = finance.approve_stock(applied.batch_id)
    story.did(finance, f"ApproveStock {approved.batch_id[:10]}...: {approved.status}")
    return approved


def issue(story: Story, unit: UnitClient, sample: SampleBill, payer_name: str) -> IssuedBill:
    sample.bill["issueDate"] = issue_date_now()
    issued, seconds = timed(lambda: unit.issue_bill(sample))
    bill = issued.bill
    story.did(
        unit,
        f"IssueBill {bill.bill_code}/{bill.bill_number} to {payer_name}:"
        f" {yuan(bill.total_amount)} yuan, {bill.status}, check code {bill.check_code}",
    )
    story.note(
        f"committed in {seconds:.2f}s: the units peer alone endorsed the deposit of payer,"
        " items and medical details into the private collection; finance endorsed only the"
        " public part; the ledger keeps payer hash"
        f" {bill.payer_hash[:12] if bill.payer_hash else ''}... and a slow hash of the"
        " check code, which the unit's own system generated"
    )
    return issued


def bill_ref(bill: Bill) -> dict[str, Any]:
    """A bill's public reference, its check code and its day (China time)."""
    return {
        "billCode": bill.bill_code,
        "billNumber": bill.bill_number,
        "checkCode": bill.check_code,
        "unitCode": bill.unit_code,
        "day": bill.issue_date[:10],
    }


def write_private(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON to ``path``, readable by its owner only (0600)."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, ensure_ascii=False, indent=2)


def run(description: dict[str, Any]) -> dict[str, Any]:
    """Tell the story; returns what the portal needs to show this run's bills."""
    story = Story()
    # The parties act in quick succession through different peers: each call waits
    # until every peer has the blocks of the calls before it (see ebill.sync).
    sync = BlockSync(description, "audit", "auditor1")

    def client(cls: type[P], org: str, user: str) -> P:
        return open_client(cls, description, org, user, sync=sync)

    finance = client(FinanceClient, "finance", "finance1")
    hospital = client(UnitClient, "units", "hospital1")
    school = client(UnitClient, "units", "school1")
    # Payers act through the finance department's platform (no personal attribute in
    # its certificate); it authenticates each person and acts for them.
    platform = client(PayerClient, "finance", "platform1")
    payer1 = platform.for_payer(PAYER1["type"], PAYER1["id"])
    payer2 = platform.for_payer(PAYER2["type"], PAYER2["id"])
    medins = client(ReimburserClient, "insurance", "medins1")
    insurer = client(ReimburserClient, "insurance", "insurer1")
    auditor = client(SupervisorClient, "audit", "auditor1")
    parties: list[PartyClient] = [finance, hospital, school, platform, medins, insurer]
    parties.append(auditor)
    try:
        parts = (finance, hospital, school, payer1, payer2, medins, insurer, auditor)
        return _story(story, spool_path(description), *parts)
    finally:
        for party in parties:
            party.close()
        sync.close()


def _story(
    story: Story,
    spool: Path,
    finance: FinanceClient,
    hospital: UnitClient,
    school: UnitClient,
    payer1: PayerClient,
    payer2: PayerClient,
    medins: ReimburserClient,
    insurer: ReimburserClient,
    auditor: SupervisorClient,
) -> dict[str, Any]:
    story.step("Finance registers the issuing units")
    register(story, finance, HOSPITAL_UNIT)
    register(story, finance, SCHOOL_UNIT)

    story.step("Finance grants them bill stock (the unit applies, finance approves)")
    h_batch = grant_stock(story, finance, hospital, OUTPATIENT_CODE)
    s_batch = grant_stock(story, finance, school, TUITION_CODE)

    story.step("The hospital issues two outpatient bills to 张三")
    first = int(h_batch.start_number)
    personal_salt = os.urandom(16)  # the platform's salt for this payer: one per person
    hospital_unit = (HOSPITAL_UNIT["unitCode"], HOSPITAL_UNIT["name"])
    samples = [
        outpatient_bill(f"{first + i:010d}", unit=hospital_unit, payer=PAYER1) for i in range(2)
    ]
    for sample in samples:
        sample.salt = personal_salt
    bill_a = issue(story, hospital, samples[0], PAYER1["name"]).bill
    bill_b = issue(story, hospital, samples[1], PAYER1["name"]).bill
    code, number = bill_a.bill_code, bill_a.bill_number
    story.note(f"the hospital hands 张三 the salt {personal_salt.hex()[:12]}... with the bills")

    story.step("张三 sees the bills and authorises two reimbursers on the first")
    own = list(payer1.iter_bills(personal_salt))
    story.did(payer1, f"ListBillsByPayer with the salt: {len(own)} bill(s)")
    rows = [[f"{b.bill_code}/{b.bill_number}", yuan(b.total_amount), b.status] for b in own]
    story.block(render(["bill", "amount", "status"], rows, right=[1]))
    for reimburser in (medins.reimburser_id, insurer.reimburser_id):
        bill = payer1.authorise_reimburser(code, number, reimburser, personal_salt)
        story.did(
            payer1,
            f"AuthoriseReimburser {reimburser} on {code}/{number}"
            f" (salt as transient data): authorised {', '.join(bill.authorised)}",
        )

    story.step("Medical insurance and a commercial insurer share the bill of 268.50 yuan")
    verified = medins.verify_bill(code, number, bill_a.check_code or "")
    story.did(
        medins,
        f"VerifyBill {code}/{number} {bill_a.check_code}: genuine={verified.genuine},"
        f" {verified.status}",
    )
    private = medins.read_bill_private(code, number)
    medical = private.medical
    fund = medical.fund_paid if medical else 16110
    story.did(
        medins,
        f"ReadBillPrivate: patient {private.payer.name}, fund to pay {yuan(fund)} yuan",
    )
    after = medins.reimburse(code, number, fund, "YB-2026-000161")
    story.did(
        medins,
        f"LockBill + ClaimBill {yuan(fund)} yuan (voucher YB-2026-000161): {after.status},"
        f" {yuan(after.reimbursed_total)} of {yuan(after.total_amount)} reimbursed",
    )
    rest = after.remaining
    after = insurer.reimburse(code, number, rest, "PICC-CLM-88120")
    story.did(
        insurer,
        f"LockBill + ClaimBill {yuan(rest)} yuan (voucher PICC-CLM-88120): {after.status},"
        f" {yuan(after.reimbursed_total)} of {yuan(after.total_amount)} reimbursed",
    )

    story.step("A second claim on the closed bill is refused and logged")
    logged: list[str] = []  # the anomaly ids of this run's refusals
    try:
        medins.reimburse(code, number, 1000, "YB-2026-000999")
        story.did(medins, "UNEXPECTED: the closed bill was reimbursed again")
    except EbillError as error:
        logged.append(error.anomaly_id or "")
        story.did(medins, f"reimburse {code}/{number} again, 10.00 yuan")
        story.note(f"-> {type(error).__name__}: {error.message}")
        story.note(f"   an error to every client, code {error.code}; finance's chaincode")
        story.note(f"   spooled anomaly {error.anomaly_type}, id {error.anomaly_id}")
    payer1.authorise_reimburser(bill_b.bill_code, bill_b.bill_number, "PICC-HN", personal_salt)
    try:
        insurer.reimburse(bill_b.bill_code, bill_b.bill_number, 30000, "PICC-CLM-88121")
    except EbillError as error:
        logged.append(error.anomaly_id or "")
        story.did(insurer, f"claim 300.00 yuan on {bill_b.bill_code}/{bill_b.bill_number}")
        story.note(f"-> {type(error).__name__}: {error.message}")
        story.note(f"   code {error.code}, spooled as anomaly {error.anomaly_type}")
        state = insurer.read_bill(bill_b.bill_code, bill_b.bill_number)
        story.note(f"   the lock was released again: the bill is {state.status}")

    anchored = finance.anchor_anomalies(spool)
    story.did(
        finance,
        f"RecordAnomalies from its chaincode's spool: {len(anchored.recorded)} anchored,"
        f" {len(anchored.known)} already on the chain (the offender never submitted them)",
    )

    story.step("The school issues a tuition bill to 李四 and voids it with a red bill")
    s_first = int(s_batch.start_number)
    school_unit = (SCHOOL_UNIT["unitCode"], SCHOOL_UNIT["name"])
    tuition = tuition_bill(f"{s_first:010d}", unit=school_unit, payer=PAYER2)
    school_bill = issue(story, school, tuition, PAYER2["name"]).bill
    voided = school.red_letter_bill(
        school_bill.bill_code, school_bill.bill_number, f"{s_first + 1:010d}", "学生退宿，全额退费"
    )
    story.did(
        school,
        f"RedLetterBill {school_bill.bill_code}/{school_bill.bill_number} with red bill"
        f" {voided.red.bill_number} ({yuan(voided.red.total_amount)} yuan): original"
        f" {voided.original.status}",
    )
    try:
        school.red_letter_bill(
            school_bill.bill_code, school_bill.bill_number, f"{s_first + 2:010d}", "again"
        )
    except EbillError as error:
        story.did(school, "red-letter it a second time")
        story.note(f"-> {type(error).__name__}: {error.message}")
    mine = payer2.read_bill(school_bill.bill_code, school_bill.bill_number, tuition.salt)
    story.did(payer2, f"ReadBill of own bill with the salt: {mine.status}")

    story.step("The supervisor traces the bill, the anomalies and the totals")
    history = auditor.bill_history(code, number)
    story.did(auditor, f"BillHistory {code}/{number}: {len(history)} changes")
    story.block(history_table(history))
    today = today_in_china()
    anomalies = list(auditor.iter_anomalies(today, today))
    story.did(auditor, f"ListAnomalies {today}: {len(anomalies)} logged today")
    for anomaly in anomalies:
        if anomaly.anomaly_id in logged:
            la = anomaly.last_action
            actor = f"{la.actor_name} ({la.org})" if la else "?"
            story.note(
                f"this run: {anomaly.type}, {anomaly.function} by {actor}"
                f" on {anomaly.bill_code}/{anomaly.bill_number}"
            )
    totals = [(u, auditor.unit_totals(u, today, today)) for u in ("HN0101", "HN0201")]
    story.did(auditor, f"TotalsByUnit for {today} (all pages summed)")
    story.block(totals_table(totals))

    story.step("Anyone verifies a bill with code + number + check code")
    for party, bill, check in (
        (insurer, bill_a, bill_a.check_code or ""),
        (insurer, bill_a, "ZZZZZZ" if bill_a.check_code != "ZZZZZZ" else "YYYYYY"),
        (medins, school_bill, school_bill.check_code or ""),
        (medins, voided.red, voided.red.check_code or ""),
    ):
        v = party.verify_bill(bill.bill_code, bill.bill_number, check)
        shown = (
            f"genuine, {v.kind} bill, {v.status}, {yuan(v.total_amount or 0)} yuan"
            if v.genuine
            else f"NOT genuine ({v.reason})"
        )
        story.did(party, f"VerifyBill {bill.bill_code}/{bill.bill_number} {check}: {shown}")
    return {
        "payer": {"type": PAYER1["type"], "id": PAYER1["id"], "billKey": personal_salt.hex()},
        "payerBills": [bill_ref(bill_a), bill_ref(bill_b)],
        "schoolBills": [bill_ref(school_bill), bill_ref(voided.red)],
    }


def main() -> int:
    path = default_network_file()
    print(f"e-bill demo on the network described in {path}")
    started = time.perf_counter()
    try:
        if not path.exists():
            raise NetworkUnavailable(f"no network description at {path}")
        shown = run(load_description(path))
        write_private(path.parent / BILLS_FILE, shown)
    except EbillError as error:
        print(f"\ndemo: stopped: {type(error).__name__}: {error.one_line()}", file=sys.stderr)
        return 7 if isinstance(error, NetworkUnavailable) else 1
    print(f"\ndemo: done in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
