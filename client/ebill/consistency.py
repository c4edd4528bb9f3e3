"""Submitting so that the next call sees the effect on any peer.

The one place that knows how far a peer has got (``wait_for_block``) and how to
retry a stale endorsement (``endorse``); ``submit`` waits eagerly after each
commit, :class:`ebill.sync.BlockSync` lazily before the next call.

Peers commit a block one after another. A commit status comes from the gateway's
own peer; a call right after it, endorsed by another org's peer, may find that
peer one block behind: it refuses (the bill it reads is not there yet) or answers
differently from the first peer ("ProposalResponsePayloads do not match"). So a
submit here waits until every org's peer has the block, and a stale endorsement,
which submitted nothing, is endorsed again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from fabric_protos.common import ledger_pb2 as _ledger_pb2

import fabricgw
from ebill_chaincode.contract import vocabulary
from fabricgw.commit import check_committed

from .connection import Connection

ledger_pb2: Any = _ledger_pb2  # generated code without type information

#: The orgs of the e-bill channel, one peer each.
PEER_MSP_IDS = vocabulary.MSP_IDS
STALE_ENDORSEMENT = "ProposalResponsePayloads do not match"


def endorse(
    new_proposal: Callable[[], fabricgw.Proposal], *, retries: int = 8
) -> fabricgw.Transaction:
    """Endorse a proposal from ``new_proposal()``; a stale endorsement is tried again
    with a fresh proposal (nothing was submitted), up to ``retries`` times.

    Raises fabricgw.EndorseError for any other refusal, or after the last try.
    """
    for attempt in range(retries):
        try:
            return new_proposal().endorse()
        except fabricgw.EndorseError as err:
            if STALE_ENDORSEMENT not in str(err):
                raise
            time.sleep(0.05 * (attempt + 1))
    return new_proposal().endorse()


def submit(
    conn: Connection,
    function: str,
    *args: str | bytes,
    transient: dict[str, bytes] | None = None,
    endorsing_organizations: Sequence[str] | None = None,
    peers: Sequence[str] = PEER_MSP_IDS,
) -> bytes:
    """Submit ``function``, wait for its commit on every peer of ``peers``, return its answer.

    Raises fabricgw's EndorseError, SubmitError or CommitStatusError when that
    step fails, CommitError when the transaction commits invalid, TimeoutError
    when a peer does not reach the block within 30 s.
    """
    transaction = endorse(
        lambda: conn.contract.new_proposal(
            function,
            arguments=args,
            transient=transient,
            endorsing_organizations=endorsing_organizations,
        )
    )
    status = transaction.submit().status()
    check_committed(status)
    wait_for_block(conn, status.block_number, peers=peers)
    return transaction.result


def height(conn: Connection, msp_id: str) -> int:
    """The channel's block height on ``msp_id``'s peer, from the system chaincode qscc."""
    qscc = conn.gateway.get_network(conn.channel_name).get_contract("qscc")
    raw = qscc.evaluate(
        "GetChainInfo", arguments=[conn.channel_name], target_organizations=[msp_id]
    )
    info = ledger_pb2.BlockchainInfo()
    info.ParseFromString(raw)
    return int(info.height)


def wait_for_block(
    conn: Connection,
    block_number: int,
    *,
    peers: Sequence[str] = PEER_MSP_IDS,
    timeout: float = 30.0,
) -> None:
    """Return once the peer of every org in ``peers`` has ``block_number``; else TimeoutError."""
    deadline = time.monotonic() + timeout
    for msp_id in peers:
        while height(conn, msp_id) <= block_number:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the peer of {msp_id} has not reached block {block_number}")
            time.sleep(0.02)
