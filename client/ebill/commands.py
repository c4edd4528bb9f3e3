"""The handlers of ``ebill``'s subcommands: each runs one operation on a party client.

A handler takes a :class:`Context` (parsed arguments, the opener of party clients)
and returns an :class:`Output` (JSON-able data, readable text, exit code); it raises
:class:`~ebill.errors.EbillError` or :class:`~ebill.exitcodes.UsageError`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

from . import views
from .capabilities import BillReader, PrivateReader, SupervisionReads, UnitReads
from .clock import issue_date_now
from .connection import load_description
from .errors import (
    AlreadyExists,
    EbillError,
    InvalidInput,
    NetworkUnavailable,
    NotAuthorised,
    OutOfStock,
)
from .exitcodes import EXIT_CONFLICT, EXIT_OK, EXIT_UNAVAILABLE, UsageError, exit_code
from .finance import FinanceClient
from .models import Totals
from .money import fen
from .netops import LocalNetwork, nodes_table
from .party import PartyClient
from .payer import PayerClient
from .progress import Progress
from .reimburser import ReimburserClient
from .samples import OUTPATIENT_CODE, TUITION_CODE, SampleBill, outpatient_bill, tuition_bill
from .spool import spool_path
from .table import render
from .unit import UnitClient

P = TypeVar("P", bound=PartyClient)
Opener = Callable[[Path, str, str], PartyClient]
"""``opener(network_file, org, user)``: the party client of that user."""

FINANCE = "finance/finance1"
HOSPITAL = "units/hospital1"
PAYER = "finance/platform1"
MEDINS = "insurance/medins1"
AUDITOR = "audit/auditor1"


@dataclass
class Output:
    """What a command shows: JSON-able ``data``, its readable ``text``, an exit code."""

    data: Any
    text: str
    code: int = EXIT_OK


@dataclass
class Context:
    """One command run: its arguments, how to open parties, where progress goes."""

    args: argparse.Namespace
    opener: Opener
    err: TextIO
    opened: list[PartyClient] = field(default_factory=list)

    @property
    def identity(self) -> tuple[str, str]:
        text = self.args.as_ or self.args.default_as
        org, slash, user = text.partition("/")
        if not slash or not org or not user:
            raise UsageError(f"--as {text!r}: give ORG/USER, e.g. units/hospital1")
        return org, user

    def party(self) -> PartyClient:
        org, user = self.identity
        party = self.opener(Path(self.args.network), org, user)
        self.opened.append(party)
        return party

    def client(self, cls: type[P], who: str) -> P:
        """The caller's client, if it is a ``cls``; else NotAuthorised naming ``who``."""
        party = self.party()
        if not isinstance(party, cls):
            org, user = self.identity
            raise NotAuthorised(
                f"{self.args.command_name} is for {who}; {org}/{user} is a"
                f" {type(party).__name__.removesuffix('Client').lower()}"
            )
        return party

    def close(self) -> None:
        for party in self.opened:
            party.close()


def _limited(items: Iterator[Any], limit: int) -> list[Any]:
    return list(itertools.islice(items, limit or None))


def _amount(text: str) -> int:
    try:
        return fen(text)
    except ValueError as error:
        raise UsageError(str(error)) from None


# -- units ----------------------------------------------------------------------------


def units_register(ctx: Context) -> Output:
    a = ctx.args
    finance = ctx.client(FinanceClient, "finance")
    try:
        unit = finance.register_unit(a.unit, a.name, a.sector, a.region)
        note = f"registered unit {unit.unit_code}"
    except AlreadyExists:
        if not a.exist_ok:
            raise
        unit = finance.read_unit(a.unit)
        note = f"unit {unit.unit_code} was already registered"
    return Output(unit, f"{note}\n{views.unit_detail(unit)}")


def units_suspend(ctx: Context) -> Output:
    unit = ctx.client(FinanceClient, "finance").suspend_unit(ctx.args.unit, ctx.args.reason)
    return Output(unit, views.unit_detail(unit))


def units_resume(ctx: Context) -> Output:
    unit = ctx.client(FinanceClient, "finance").resume_unit(ctx.args.unit)
    return Output(unit, views.unit_detail(unit))


def units_show(ctx: Context) -> Output:
    unit = ctx.client(UnitReads, "finance, supervisors and the unit's staff").read_unit(
        ctx.args.unit
    )
    return Output(unit, views.unit_detail(unit))


def units_list(ctx: Context) -> Output:
    reader = ctx.client(SupervisionReads, "finance and supervisors")
    units = _limited(reader.iter_units(), ctx.args.limit)
    return Output(units, views.unit_table(units))


# -- stock ----------------------------------------------------------------------------


def stock_apply(ctx: Context) -> Output:
    a = ctx.args
    unit = ctx.client(UnitClient, "a unit's issuer")
    batch = unit.apply_stock(a.code, a.start, a.count, unit_code=a.unit)
    return Output(batch, f"applied (finance approves next)\n{views.stock_detail(batch)}")


def stock_approve(ctx: Context) -> Output:
    batch = ctx.client(FinanceClient, "finance").approve_stock(ctx.args.batch)
    return Output(batch, views.stock_detail(batch))


def stock_reject(ctx: Context) -> Output:
    batch = ctx.client(FinanceClient, "finance").reject_stock(ctx.args.batch, ctx.args.reason)
    return Output(batch, views.stock_detail(batch))


def stock_reconcile(ctx: Context) -> Output:
    batch = ctx.client(FinanceClient, "finance").reconcile_stock(ctx.args.batch)
    return Output(batch, views.stock_detail(batch))


def stock_show(ctx: Context) -> Output:
    reader = ctx.client(UnitReads, "finance, supervisors and the unit's staff")
    batch = reader.read_stock(ctx.args.batch)
    return Output(batch, views.stock_detail(batch))


def stock_list(ctx: Context) -> Output:
    reader = ctx.client(UnitReads, "finance, supervisors and the unit's staff")
    batches = _limited(reader.iter_stock(ctx.args.unit), ctx.args.limit)
    return Output(batches, views.stock_table(batches))


# -- bills ----------------------------------------------------------------------------


def _sample(kind: str, number: str, unit: tuple[str, str] | None) -> SampleBill:
    make = outpatient_bill if kind == "outpatient" else tuition_bill
    sample = make(number) if unit is None else make(number, unit=unit)
    sample.bill["issueDate"] = issue_date_now()
    return sample


def bill_sample(ctx: Context) -> Output:
    a = ctx.args
    unit = (a.unit, a.unit_name) if a.unit else None
    if a.unit and not a.unit_name:
        raise UsageError("--unit needs --unit-name too (the registered name)")
    sample = _sample(a.kind, a.number, unit)
    data = {"bill": sample.bill, "payer": sample.payer, "medical": sample.medical}
    return Output(data, json.dumps(data, ensure_ascii=False, indent=2))


def _read_issue_file(path: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InvalidInput(f"{path}: not JSON ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("bill"), dict):
        raise InvalidInput(f"{path}: expected {{'bill': {{...}}, 'payer': {{...}}, 'medical'?}}")
    if not isinstance(data.get("payer"), dict):
        raise InvalidInput(f"{path}: 'payer' (type, id, name) is required")
    return data


def _salt_arg(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise UsageError("--salt: give hex digits, two per byte") from None


def bill_issue(ctx: Context) -> Output:
    data = _read_issue_file(ctx.args.file)
    salt = _salt_arg(ctx.args.salt) or (
        _salt_arg(data["salt"]) if isinstance(data.get("salt"), str) else None
    )
    unit = ctx.client(UnitClient, "a unit's issuer")
    issued = unit.issue_bill(data["bill"], data["payer"], data.get("medical"), salt=salt)
    return Output(issued, views.issued_detail(issued))


def _first_numbers(unit: UnitClient, code: str, count: int) -> str:
    batch = unit.open_batch(code)
    if batch is None:
        raise OutOfStock(
            f"unit {unit.unit_code} has no approved batch of bill code {code}; apply for stock"
        )
    start = unit.next_free_number(batch)
    left = 0 if start is None else int(batch.end_number) - int(start) + 1
    if start is None or left < count:
        raise OutOfStock(
            f"batch {batch.batch_id} ({batch.start_number}-{batch.end_number}) has {left}"
            f" unused numbers, fewer than {count}"
        )
    return start


def bill_issue_many(ctx: Context) -> Output:
    a = ctx.args
    if a.count < 1 or a.workers < 1:
        raise UsageError("--count and --workers must be at least 1")
    unit = ctx.client(UnitClient, "a unit's issuer")
    record = unit.read_unit(unit.unit_code)
    code = a.code or (OUTPATIENT_CODE if record.sector == "medical" else TUITION_CODE)
    kind = "outpatient" if code[2:4] == "01" else "tuition"
    start = a.start or _first_numbers(unit, code, a.count)
    numbers = [f"{int(start) + i:010d}" for i in range(a.count)]

    def issue(number: str) -> Any:
        sample = _sample(kind, number, (record.unit_code, record.name))
        sample.bill["billCode"] = code
        return unit.issue_bill(sample)

    issued: list[dict[str, str]] = []
    failed: list[tuple[str, EbillError]] = []
    progress = Progress(a.count, f"issuing {code} from {start}:", ctx.err)
    with ThreadPoolExecutor(max_workers=a.workers) as pool:
        futures: dict[Future[Any], str] = {pool.submit(issue, n): n for n in numbers}
        for future in as_completed(futures):
            number = futures[future]
            try:
                bill = future.result().bill
                salt = future.result().salt_hex
                issued.append({"billNumber": number, "checkCode": bill.check_code, "salt": salt})
                progress.advance()
            except EbillError as error:
                failed.append((number, error))
                progress.advance(ok=False)
    progress.finish()
    issued.sort(key=lambda item: item["billNumber"])
    failed.sort(key=lambda item: item[0])
    data = {
        "billCode": code,
        "issued": issued,
        "failed": [{"billNumber": n, "error": e.one_line()} for n, e in failed],
    }
    lines = [f"issued {len(issued)} of {a.count} bills of {code} from {start}"]
    lines += [f"  {n}: {type(e).__name__}: {e.one_line()}" for n, e in failed[:10]]
    return Output(data, "\n".join(lines), exit_code(failed[0][1]) if failed else EXIT_OK)


def bill_verify(ctx: Context) -> Output:
    a = ctx.args
    amount = None if a.amount is None else _amount(a.amount)
    result = ctx.party().verify_bill(
        a.code, a.number, a.check_code, total_amount=amount, issue_date=a.date
    )
    return Output(result, views.verification_detail(result))


def bill_show(ctx: Context) -> Output:
    a = ctx.args
    if a.salt is not None:
        if a.as_ is None:
            a.default_as = PAYER
        bill = _payer(ctx).read_bill(a.code, a.number, a.salt)
    else:
        reader = ctx.client(BillReader, "the bill's parties (with --salt for a payer)")
        bill = reader.read_bill(a.code, a.number)
    return Output(bill, views.bill_detail(bill))


def bill_private(ctx: Context) -> Output:
    reader = ctx.client(PrivateReader, "supervisors, the unit and authorised reimbursers")
    private = reader.read_bill_private(ctx.args.code, ctx.args.number)
    return Output(private, views.private_detail(private))


def bill_red_letter(ctx: Context) -> Output:
    a = ctx.args
    unit = ctx.client(UnitClient, "the issuing unit's issuer")
    result = unit.red_letter_bill(a.code, a.number, a.red_number, a.reason)
    return Output(result, views.red_letter_detail(result))


def bill_archive(ctx: Context) -> Output:
    party = ctx.party()
    if not isinstance(party, FinanceClient | UnitClient):
        raise NotAuthorised("bill archive is for finance or the issuing unit")
    bill = party.archive_bill(ctx.args.code, ctx.args.number)
    return Output(bill, views.bill_detail(bill))


def bill_history(ctx: Context) -> Output:
    reader = ctx.client(SupervisionReads, "finance and supervisors")
    entries = reader.bill_history(ctx.args.code, ctx.args.number)
    return Output(entries, views.history_table(entries))


# -- payer ----------------------------------------------------------------------------


def _payer(ctx: Context) -> PayerClient:
    """The platform acting for the payer of ``--payer TYPE:ID``. Raises UsageError."""
    given = getattr(ctx.args, "payer", None)
    if not given or ":" not in given:
        raise UsageError("--payer: give TYPE:ID, e.g. person:460100199001011234")
    payer_type, payer_id = given.split(":", 1)
    platform = ctx.client(PayerClient, "the finance department's platform")
    return platform.for_payer(payer_type, payer_id)


def payer_authorise(ctx: Context) -> Output:
    a = ctx.args
    payer = _payer(ctx)
    bill = payer.authorise_reimburser(a.code, a.number, a.reimburser, a.salt)
    return Output(bill, f"authorised {a.reimburser}\n{views.bill_detail(bill)}")


def payer_revoke(ctx: Context) -> Output:
    a = ctx.args
    payer = _payer(ctx)
    bill = payer.revoke_authorisation(a.code, a.number, a.reimburser, a.salt)
    return Output(bill, f"revoked {a.reimburser}\n{views.bill_detail(bill)}")


def payer_bills(ctx: Context) -> Output:
    payer = _payer(ctx)
    bills = _limited(payer.iter_bills(ctx.args.salt), ctx.args.limit)
    return Output(bills, views.bill_table(bills))


# -- reimbursement --------------------------------------------------------------------


def reimburse_lock(ctx: Context) -> Output:
    bill = ctx.client(ReimburserClient, "a reimburser").lock_bill(ctx.args.code, ctx.args.number)
    return Output(bill, views.bill_detail(bill))


def reimburse_claim(ctx: Context) -> Output:
    a = ctx.args
    amount = _amount(a.amount)
    reimburser = ctx.client(ReimburserClient, "a reimburser")
    bill = reimburser.claim_bill(a.code, a.number, amount, a.voucher)
    return Output(bill, views.bill_detail(bill))


def reimburse_unlock(ctx: Context) -> Output:
    party = ctx.party()
    if not isinstance(party, ReimburserClient | FinanceClient):
        raise NotAuthorised("reimburse unlock is for the lock holder or finance")
    bill = party.unlock_bill(ctx.args.code, ctx.args.number)
    return Output(bill, views.bill_detail(bill))


def reimburse_run(ctx: Context) -> Output:
    a = ctx.args
    amount = _amount(a.amount)
    reimburser = ctx.client(ReimburserClient, "a reimburser")
    bill = reimburser.reimburse(a.code, a.number, amount, a.voucher)
    return Output(bill, views.bill_detail(bill))


# -- supervision ----------------------------------------------------------------------


def supervise_list(ctx: Context) -> Output:
    a = ctx.args
    chosen = [x for x in (a.unit, a.payer, a.status, a.period) if x]
    if len(chosen) != 1:
        raise UsageError("give exactly one of --unit, --payer, --status, --period")
    if a.unit:
        unit_reader = ctx.client(UnitReads, "finance, supervisors and the unit's staff")
        bills: Iterator[Any] = unit_reader.iter_bills_by_unit(a.unit, a.from_, a.to)
    else:
        reader = ctx.client(SupervisionReads, "finance and supervisors")
        if a.payer:
            bills = reader.iter_bills_by_payer(a.payer)
        elif a.status:
            bills = reader.iter_bills_by_status(a.status)
        else:
            bills = reader.iter_bills_by_period(a.period)
    found = _limited(bills, a.limit)
    return Output(found, views.bill_table(found))


def supervise_totals(ctx: Context) -> Output:
    a = ctx.args
    reader = ctx.client(UnitReads, "finance, supervisors and the unit's staff")
    units: Iterable[str] = a.unit
    if not units:
        if not isinstance(reader, SupervisionReads):
            raise UsageError("give --unit: only finance and supervisors list all units")
        units = [u.unit_code for u in reader.iter_units()]
    rows = [(code, reader.unit_totals(code, a.from_, a.to)) for code in units]
    data = {code: views.to_json(t) for code, t in rows}
    if len(rows) > 1:
        data["all"] = views.to_json(sum((t for _, t in rows), Totals()))
    return Output(data, views.totals_table(rows))


def anomalies_anchor(ctx: Context) -> Output:
    """Finance anchors the finance chaincode's anomaly spool (RecordAnomalies); with
    ``--follow`` it keeps polling the spool for new lines until interrupted."""
    a = ctx.args
    if a.spool is None:
        try:
            description = load_description(Path(a.network))
        except FileNotFoundError as error:
            raise NetworkUnavailable(str(error)) from None
    else:
        description = {}
    spool = spool_path(description, a.spool)
    finance = ctx.client(FinanceClient, "finance")
    recorded: list[str] = []
    known = 0
    offset = 0
    try:
        while True:
            done = finance.anchor_anomalies(spool, offset)
            recorded += done.recorded
            known += len(done.known)
            offset = done.next_offset
            if done.recorded:
                ctx.err.write(f"anchored {len(done.recorded)} anomalies\n")
            if not a.follow:
                break
            time.sleep(a.interval)  # --follow polls the spool file for new lines
    except KeyboardInterrupt:
        pass
    data = {"spool": str(spool), "recorded": recorded, "known": known}
    return Output(data, f"{len(recorded)} anomalies anchored, {known} already on the chain")


def supervise_anomalies(ctx: Context) -> Output:
    a = ctx.args
    reader = ctx.client(SupervisionReads, "finance and supervisors")
    found = _limited(reader.iter_anomalies(a.from_, a.to, anomaly_type=a.type), a.limit)
    return Output(found, views.anomaly_table(found))


def _local_network(ctx: Context, log: Callable[[str], None] | None = None) -> LocalNetwork:
    """The local network whose network.json ``--network`` names (ports from EBILL_BASE_PORT)."""
    return LocalNetwork(Path(ctx.args.network), log=log)


def _network_step(ctx: Context) -> Callable[[str], None]:
    """A progress line per bring-up step, with the seconds since the command started."""
    started = time.monotonic()

    def log(line: str) -> None:
        ctx.err.write(f"[{time.monotonic() - started:5.1f}s] {line.strip()}\n")
        ctx.err.flush()

    return log


def network_up(ctx: Context) -> Output:
    status = _local_network(ctx, _network_step(ctx)).up()
    return Output(status, f"network ready: {len(status['running'])} processes running")


def network_down(ctx: Context) -> Output:
    network = _local_network(ctx, _network_step(ctx))
    network.down()
    return Output({"stopped": True}, "network stopped; its data is kept")


def network_clean(ctx: Context) -> Output:
    network = _local_network(ctx, _network_step(ctx))
    network.clean()
    return Output({"removed": True}, "network stopped and its data removed")


def network_restart(ctx: Context) -> Output:
    """Restart one node of the local network and wait until it is healthy and caught up."""
    _local_network(ctx, _network_step(ctx)).restart(ctx.args.node)
    return Output({"node": ctx.args.node, "restarted": True}, f"{ctx.args.node} restarted")


def network_revoke(ctx: Context) -> Output:
    """Revoke ORG's USER at the org's CA and put the CRL into the org's channel MSP."""
    network = _local_network(ctx, _network_step(ctx))
    org, user = ctx.args.org, ctx.args.user
    block = network.revoke(org, user, reason=ctx.args.reason)
    data = {"org": org, "user": user, "revoked": True, "configBlock": block}
    return Output(data, f"{user} of {org} revoked; the peers refuse it from block {block}")


def tx_status(ctx: Context) -> Output:
    """Resolve a transaction whose outcome was unknown: committed (valid or not) or not yet."""
    a = ctx.args
    status = ctx.party().resolve(a.transaction_id, timeout=a.timeout)
    if status is None:
        data: dict[str, Any] = {"transactionId": a.transaction_id, "committed": False}
        text = (
            f"transaction {a.transaction_id}: no commit status within {a.timeout:g}s"
            " (not committed yet, or never ordered); ask again before retrying"
        )
        return Output(data, text, EXIT_UNAVAILABLE)
    data = {
        "transactionId": status.transaction_id,
        "committed": True,
        "valid": status.successful,
        "validationCode": status.code_name,
        "blockNumber": status.block_number,
    }
    text = f"transaction {status.transaction_id}: {status.code_name} in block {status.block_number}"
    return Output(data, text, EXIT_OK if status.successful else EXIT_CONFLICT)


def network_add_org(ctx: Context) -> Output:
    """Add an org to the running channel (its CA, users, peer; a config update signed by a
    majority of the orgs' admins; the next chaincode definition)."""
    network = _local_network(ctx, _network_step(ctx))
    a = ctx.args
    signers = [s for s in a.signers.split(",") if s] or None
    done = network.add_org(a.name, a.role, unit=a.unit, signers=signers)
    seconds = done["seconds"]["total"]
    return Output(done, f"{done['msp_id']} joined {a.name} as {a.role} in {seconds:.1f}s")


def network_status(ctx: Context) -> Output:
    status = _local_network(ctx).status()
    rows = [[name, str(p["pid"]), f"{p['rss_mib']} MiB"] for name, p in status["running"].items()]
    text = render(["process", "pid", "memory"], rows, right=[1, 2])
    if status["stopped"]:
        text += "\nstopped: " + ", ".join(status["stopped"])
    text += f"\nchaincode {status.get('package_id')} sequence {status.get('sequence')}"
    if "nodes" in status:
        text += "\n" + nodes_table(status)
    code = EXIT_UNAVAILABLE if status["stopped"] else EXIT_OK
    return Output(status, text, code)


Handler = Callable[[Context], Output]
