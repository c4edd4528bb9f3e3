"""``ebill index ...``: the read model's subcommands, added to the ``ebill`` command.

``ebill`` finds this module through the entry point group ``ebill.commands`` (see
:func:`ebill.cli.build_parser`), so the party clients never import the read model.

* ``sync``: apply the blocks the model has not seen (``--follow``: keep following);
* ``rebuild``: drop the model and project again from block 0;
* ``verify``: compare the model with the ledger; exit 8 and list every difference;
* ``totals``: a supervision total for a period from the daily aggregates.

The database is ``--db URL``, else ``$EBILL_INDEX_URL``, else the SQLite file
``index-<org>.sqlite`` beside network.json. The projector reads blocks as the
``--as`` user (default the auditor, a member of the private collection).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ebill.commands import AUDITOR, Context, Output
from ebill.connection import load_description
from ebill.errors import InvalidInput, NetworkUnavailable
from ebill.exitcodes import EXIT_DIFFERENT
from ebill.parties import open_connection
from ebill.supervisor import SupervisorClient

from . import queries
from .projector import DEFAULT_BATCH, Projector
from .source import PeerSource
from .store import Store, default_url
from .verify import verify

Command = Callable[..., argparse.ArgumentParser]


def register(groups: Any, command: Command) -> None:
    """Add the ``index`` group to ``ebill``'s parser (``command`` makes a subcommand)."""
    index = groups.add_parser("index", help="the off-chain read model: sync, rebuild, verify")
    cmds = index.add_subparsers(dest="command", metavar="COMMAND", required=True)
    p = command(cmds, "sync", index_sync, AUDITOR, "apply the blocks the model has not seen")
    _db(p)
    p.add_argument("--follow", action="store_true", help="keep following new blocks")
    p = command(cmds, "rebuild", index_rebuild, AUDITOR, "rebuild the model from block 0")
    _db(p)
    p = command(cmds, "verify", index_verify, AUDITOR, "compare the model with the ledger")
    _db(p)
    p.add_argument("--sample", type=int, default=20, help="bills compared whole (default 20)")
    p = command(cmds, "totals", index_totals, AUDITOR, "totals of a period from the model")
    _db(p)
    p.add_argument("--scope", choices=queries.SCOPES, default="all")
    p.add_argument("--key", default="*", help="unit code, sector or region (with --scope)")
    p.add_argument("--from", dest="from_", default="2000-01-01", help="first day")
    p.add_argument("--to", default="2099-12-31", help="last day")


def _db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database URL (default: $EBILL_INDEX_URL or a SQLite file)")
    parser.add_argument(
        "--batch", type=int, default=DEFAULT_BATCH, help="transactions per database commit"
    )


def _store(ctx: Context) -> Store:
    org, _ = ctx.identity
    url = ctx.args.db or default_url(Path(ctx.args.network).parent, org)
    return Store.open(url)


def _projector(ctx: Context, store: Store) -> tuple[Projector, Callable[[], None]]:
    network = Path(ctx.args.network)
    if not network.exists():
        raise NetworkUnavailable(f"no network description at {network}")
    description = load_description(network)
    org, user = ctx.identity
    conn = open_connection(description, org, user)
    projector = Projector(
        store,
        PeerSource(conn),
        chaincode=description["chaincode"],
        channel=description["channel"],
        batch=ctx.args.batch,
    )
    return projector, conn.close


def _caught_up(ctx: Context, *, fresh: bool, follow: bool = False) -> Output:
    store = _store(ctx)
    try:
        if fresh:
            store.reset()
        projector, close = _projector(ctx, store)
        try:
            done = projector.run() if follow else projector.catch_up()
        finally:
            close()
        position = store.position()
    finally:
        store.close()
    data = {
        "blocks": done.blocks,
        "transactions": done.transactions,
        "seconds": round(done.seconds, 3),
        "transactionsPerSecond": round(done.rate, 1),
        "checkpoint": None if position is None else [position.block_number, position.tx_index],
    }
    text = (
        f"applied {done.transactions} transactions of {done.blocks} blocks in"
        f" {done.seconds:.2f}s ({done.rate:.0f}/s); checkpoint {data['checkpoint']}"
    )
    return Output(data, text)


def index_sync(ctx: Context) -> Output:
    return _caught_up(ctx, fresh=False, follow=ctx.args.follow)


def index_rebuild(ctx: Context) -> Output:
    return _caught_up(ctx, fresh=True)


def index_verify(ctx: Context) -> Output:
    store = _store(ctx)
    try:
        ledger = ctx.client(SupervisorClient, "supervisors")
        report = verify(store, ledger, sample=ctx.args.sample)
    finally:
        store.close()
    data = {"ok": report.ok, "differences": report.differences, "compared": report.compared}
    compared = ", ".join(f"{n} {what}" for what, n in sorted(report.compared.items()))
    if report.ok:
        return Output(data, f"the model matches the ledger ({compared})")
    lines = [f"{len(report.differences)} differences ({compared}):", *report.differences]
    return Output(data, "\n".join(lines), EXIT_DIFFERENT)


def index_totals(ctx: Context) -> Output:
    a = ctx.args
    store = _store(ctx)
    try:
        figures = queries.totals(store, a.scope, a.key, a.from_, a.to)
    except queries.QueryError as error:
        raise InvalidInput(str(error)) from None
    finally:
        store.close()
    data = figures.to_json()
    return Output(data, "\n".join(f"{name:14} {value}" for name, value in data.items()))
