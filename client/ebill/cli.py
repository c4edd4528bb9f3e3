"""``ebill``: the e-bill parties' operations from a shell, over the party clients.

Each subcommand acts as one enrolled user (``--as ORG/USER``; each command has a
default, shown in its help), prints a readable table or, with ``--json``, the
chaincode's JSON, and exits with a code scripts can rely on (see
:data:`~ebill.exitcodes.EXIT_CODES`). :func:`main` takes the opener of party clients
as a parameter so tests can run every command on fakes. The handlers are in
:mod:`ebill.commands`.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TextIO

from ebill_chaincode.contract import vocabulary

from . import commands as c
from . import views
from .commands import (
    AUDITOR,
    FINANCE,
    HOSPITAL,
    MEDINS,
    PAYER,
    Context,
    Handler,
    Opener,
    Output,
)
from .errors import EbillError
from .exitcodes import EXIT_CODES, EXIT_USAGE, UsageError, exit_code
from .finance import SECTORS
from .netops import default_network_file
from .parties import open_party
from .party import PartyClient

# -- the parser -----------------------------------------------------------------------


def _default_network() -> str:
    return str(default_network_file())


def _epilog() -> str:
    codes = "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())
    return (
        "exit codes:\n" + codes + "\n\n"
        "identities (--as ORG/USER): finance/finance1, finance/platform1,\n"
        "  units/hospital1 (HN0101), units/school1 (HN0201), units/clerk1,\n"
        "  insurance/medins1 (MEDINS-HN), insurance/insurer1 (PICC-HN), audit/auditor1.\n"
        "Each command has a default identity, shown in its help. Amounts are in yuan\n"
        "(161.10); dates YYYY-MM-DD."
    )


def _global_options(parser: argparse.ArgumentParser, *, here: bool) -> None:
    """--network, --as, --json: on the main parser, and again after the subcommand
    (there without defaults, so they override only when given)."""
    unset: dict[str, Any] = {} if here else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--network",
        help="network.json (default: $EBILL_DATA_DIR/network.json)",
        **({"default": None} if here else unset),
    )
    parser.add_argument("--as", dest="as_", metavar="ORG/USER", help="act as this user", **unset)
    parser.add_argument(
        "--json",
        action="store_true",
        help="print JSON for machines",
        **unset,
    )


def _command(
    group: Any, name: str, handler: Handler, default_as: str, help_text: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(
        name, help=help_text, description=f"{help_text} (default --as {default_as})"
    )
    _global_options(parser, here=False)
    parser.set_defaults(handler=handler, default_as=default_as)
    return parser


def _bill_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code", help="bill code, 8 digits")
    parser.add_argument("number", help="bill number, 10 digits")


def _span_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="from_", default="2000-01-01", help="first day")
    parser.add_argument("--to", default="2099-12-31", help="last day")


def _limit_arg(parser: argparse.ArgumentParser, default: int = 100) -> None:
    parser.add_argument(
        "--limit", type=int, default=default, help=f"at most N records, 0 = all (default {default})"
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = argparse.ArgumentParser(
        prog="ebill",
        description="Fiscal e-bills on the chain: units, stock, bills, reimbursement, supervision.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_options(parser, here=True)
    groups = parser.add_subparsers(dest="group", metavar="GROUP", required=True)

    units = groups.add_parser("units", help="issuing units (finance)").add_subparsers(
        dest="command", metavar="COMMAND", required=True
    )
    p = _command(units, "register", c.units_register, FINANCE, "register an issuing unit")
    p.add_argument("unit", help="unit code, e.g. HN0101")
    p.add_argument("name", help="registered name")
    p.add_argument("--sector", choices=SECTORS, required=True)
    p.add_argument("--region", required=True, help="2 digits, e.g. 46 (Hainan)")
    p.add_argument("--exist-ok", action="store_true", help="already registered is fine")
    p = _command(units, "suspend", c.units_suspend, FINANCE, "suspend a unit")
    p.add_argument("unit")
    p.add_argument("--reason", required=True)
    p = _command(units, "resume", c.units_resume, FINANCE, "resume a suspended unit")
    p.add_argument("unit")
    p = _command(units, "show", c.units_show, FINANCE, "show a unit")
    p.add_argument("unit")
    _limit_arg(_command(units, "list", c.units_list, FINANCE, "list the units"))

    stock = groups.add_parser("stock", help="bill stock: apply, approve, reconcile")
    stock_cmds = stock.add_subparsers(dest="command", metavar="COMMAND", required=True)
    p = _command(stock_cmds, "apply", c.stock_apply, HOSPITAL, "apply for a range of numbers")
    p.add_argument("--code", required=True, help="bill code, 8 digits")
    p.add_argument("--start", required=True, help="first number, 10 digits")
    p.add_argument("--count", type=int, required=True, help="how many numbers")
    p.add_argument("--unit", help="unit code (default: the caller's)")
    for name, handler, text in (
        ("approve", c.stock_approve, "approve a pending application"),
        ("reconcile", c.stock_reconcile, "close an approved batch with its counts"),
        ("show", c.stock_show, "show a batch"),
    ):
        _command(stock_cmds, name, handler, FINANCE, text).add_argument("batch", help="batch id")
    p = _command(stock_cmds, "reject", c.stock_reject, FINANCE, "reject a pending application")
    p.add_argument("batch")
    p.add_argument("--reason", required=True)
    p = _command(stock_cmds, "list", c.stock_list, FINANCE, "list a unit's batches")
    p.add_argument("unit")
    _limit_arg(p)

    bill = groups.add_parser("bill", help="bills: issue, verify, show, red-letter, history")
    bill_cmds = bill.add_subparsers(dest="command", metavar="COMMAND", required=True)
    p = _command(bill_cmds, "sample", c.bill_sample, HOSPITAL, "print a sample issue file")
    p.add_argument("number", help="bill number, 10 digits")
    p.add_argument("--kind", choices=("outpatient", "tuition"), default="outpatient")
    p.add_argument("--unit", help="unit code (default: the sample's)")
    p.add_argument("--unit-name", help="the unit's registered name")
    p = _command(bill_cmds, "issue", c.bill_issue, HOSPITAL, "issue a bill from a JSON file")
    p.add_argument("file", help='{"bill": {...}, "payer": {...}, "medical": {...}}, - = stdin')
    p.add_argument("--salt", help="payer salt in hex (default: 16 random bytes)")
    p = _command(bill_cmds, "issue-many", c.bill_issue_many, HOSPITAL, "issue N sample bills")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--code", help="bill code (default: by the unit's sector)")
    p.add_argument("--start", help="first number (default: next unused of the open batch)")
    p.add_argument("--workers", type=int, default=4, help="parallel submissions (default 4)")
    p = _command(bill_cmds, "verify", c.bill_verify, MEDINS, "verify with the check code")
    _bill_args(p)
    p.add_argument("check_code", help="6 characters")
    p.add_argument("--amount", help="total in yuan, checked if given")
    p.add_argument("--date", help="issue date YYYY-MM-DD, checked if given")
    p = _command(bill_cmds, "show", c.bill_show, AUDITOR, "show a bill's public record")
    _bill_args(p)
    p.add_argument("--salt", help="for a payer: the bill's salt in hex (--as platform1)")
    p.add_argument("--payer", help="with --salt: the payer as TYPE:ID (sent as transient)")
    _bill_args(_command(bill_cmds, "private", c.bill_private, HOSPITAL, "show the private part"))
    p = _command(bill_cmds, "red-letter", c.bill_red_letter, HOSPITAL, "void with a red bill")
    _bill_args(p)
    p.add_argument("red_number", help="the red bill's number, from the unit's stock")
    p.add_argument("--reason", required=True)
    _bill_args(_command(bill_cmds, "archive", c.bill_archive, HOSPITAL, "archive a bill"))
    _bill_args(_command(bill_cmds, "history", c.bill_history, AUDITOR, "every change of a bill"))

    payer = groups.add_parser("payer", help="the payer: authorise reimbursers, own bills")
    payer_cmds = payer.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, handler, text in (
        ("authorise", c.payer_authorise, "let a reimburser use the bill"),
        ("revoke", c.payer_revoke, "withdraw an unused authorisation"),
    ):
        p = _command(payer_cmds, name, handler, PAYER, text)
        _bill_args(p)
        p.add_argument("reimburser", help="reimburser id, e.g. MEDINS-HN or PICC-HN")
        p.add_argument("--salt", required=True, help="the bill's salt in hex (sent as transient)")
        p.add_argument("--payer", required=True, help="TYPE:ID, e.g. person:4601... (transient)")
    p = _command(payer_cmds, "bills", c.payer_bills, PAYER, "the payer's bills issued with a salt")
    p.add_argument("--salt", required=True)
    p.add_argument("--payer", required=True, help="TYPE:ID, e.g. person:4601... (transient)")
    _limit_arg(p)

    reimburse = groups.add_parser("reimburse", help="reimbursers: lock, claim, unlock")
    r_cmds = reimburse.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _bill_args(_command(r_cmds, "lock", c.reimburse_lock, MEDINS, "lock a bill for a claim"))
    _bill_args(
        _command(r_cmds, "unlock", c.reimburse_unlock, MEDINS, "release the lock (or finance)")
    )
    for name, handler, text in (
        ("claim", c.reimburse_claim, "close the claim on the locked bill"),
        ("run", c.reimburse_run, "lock, claim, and unlock if the claim fails"),
    ):
        p = _command(r_cmds, name, handler, MEDINS, text)
        _bill_args(p)
        p.add_argument("amount", help="amount in yuan, e.g. 161.10")
        p.add_argument("--voucher", required=True, help="the reimbursement voucher number")

    supervise = groups.add_parser("supervise", help="supervisors: lists, totals, anomalies")
    s_cmds = supervise.add_subparsers(dest="command", metavar="COMMAND", required=True)
    p = _command(s_cmds, "list", c.supervise_list, AUDITOR, "bills by unit, payer, status, period")
    p.add_argument("--unit")
    p.add_argument("--payer", help="payer hash")
    p.add_argument(
        "--status",
        choices=vocabulary.BILL_STATUSES,
    )
    p.add_argument("--period", help="month YYYYMM")
    _span_args(p)
    _limit_arg(p)
    p = _command(s_cmds, "totals", c.supervise_totals, AUDITOR, "totals per unit (all pages)")
    p.add_argument("--unit", action="append", default=[], help="unit code (repeat; default all)")
    _span_args(p)
    p = _command(s_cmds, "anomalies", c.supervise_anomalies, AUDITOR, "the anomaly log")
    _span_args(p)
    p.add_argument("--type", default="", help="one anomaly type, e.g. repeated-claim")
    _limit_arg(p)

    anomalies = groups.add_parser("anomalies", help="finance: anchor the anomaly spool")
    a_cmds = anomalies.add_subparsers(dest="command", metavar="COMMAND", required=True)
    p = _command(
        a_cmds, "anchor", c.anomalies_anchor, FINANCE, "record spooled anomalies on the chain"
    )
    p.add_argument("--spool", help="the spool file (default: anomaly_spool of network.json)")
    p.add_argument("--follow", action="store_true", help="keep anchoring new lines")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between polls (--follow)")

    net = groups.add_parser("network", help="the local network")
    net_cmds = net.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _command(net_cmds, "status", c.network_status, FINANCE, "processes and chaincode")
    _command(net_cmds, "up", c.network_up, FINANCE, "start the network, showing each step")
    _command(net_cmds, "down", c.network_down, FINANCE, "stop the network, keep its data")
    _command(net_cmds, "clean", c.network_clean, FINANCE, "stop the network, delete its data")
    p = _command(
        net_cmds, "restart", c.network_restart, FINANCE, "restart one node until it is healthy"
    )
    p.add_argument("node", metavar="NODE", help="as status lists it: peer0-finance, orderer1")
    p = _command(
        net_cmds, "revoke", c.network_revoke, FINANCE, "revoke an identity; the peers refuse it"
    )
    p.add_argument(
        "org", metavar="ORG", help="the identity's org: finance, units, insurance, audit"
    )
    p.add_argument("user", metavar="USER", help="its enrollment id, e.g. clerk1")
    p.add_argument("--reason", default="", help="RFC 5280 reason, e.g. keycompromise")
    _plugin_groups(groups)
    return parser


PLUGIN_GROUP = "ebill.commands"


def _plugin_groups(groups: Any) -> None:
    """Groups other packages add (entry points of group ``ebill.commands``, each a
    ``register(groups, command)`` function), so that ebill imports none of them."""
    for entry in sorted(importlib.metadata.entry_points(group=PLUGIN_GROUP), key=str):
        entry.load()(groups, _command)


def _report(error: BaseException, args: argparse.Namespace | None, err: TextIO) -> int:
    code = exit_code(error)
    if isinstance(error, EbillError):
        name, text = type(error).__name__, error.one_line()
    else:
        name, text = "UsageError", f"{error}; see ebill --help"
    if args is not None and args.json:
        payload: dict[str, Any] = {"error": name, "message": str(error), "exitCode": code}
        if isinstance(error, EbillError):
            payload.update(
                kind=error.kind,
                code=error.code,
                hint=error.hint,
                transactionId=error.transaction_id,
                anomalyId=error.anomaly_id,
                anomalyType=error.anomaly_type,
            )
        err.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        err.write(f"ebill: {name}: {text}\n")
    return code


def _default_opener(network: Path, org: str, user: str) -> PartyClient:
    return open_party(network, org, user)


def _plugin(name: str) -> Callable[[list[str]], int] | None:
    """A program another installed package adds (entry point group ``ebill.programs``,
    e.g. ``ebill serve`` from the service), so the client never imports those layers."""
    for entry in entry_points(group="ebill.programs"):
        if entry.name == name:
            command: Callable[[list[str]], int] = entry.load()
            return command
    return None


def main(
    argv: Sequence[str] | None = None,
    *,
    opener: Opener = _default_opener,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run one command; its exit code (see EXIT_CODES)."""
    out = out or sys.stdout
    err = err or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    plugin = _plugin(argv[0]) if argv else None
    if plugin is not None:
        return int(plugin(argv[1:]))
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    args.command_name = f"{args.group} {args.command}"
    if args.network is None:
        args.network = _default_network()
    ctx = Context(args, opener, err)
    try:
        result: Output = args.handler(ctx)
    except (EbillError, UsageError) as error:
        return _report(error, args, err)
    finally:
        ctx.close()
    if args.json:
        out.write(json.dumps(views.to_json(result.data), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(result.text + "\n")
    return result.code


if __name__ == "__main__":
    sys.exit(main())
