"""Readiness: the network is ready when clients can really transact.

Polls, never sleeps a fixed time: (1) every org's gateway endorses a proposal
with endorsers of every org (its discovery has found every peer and the
chaincode), then (2) a transaction submitted through the orderers commits (the
orderers refuse transactions for a few seconds after a join or restart).
"""

from __future__ import annotations

from typing import Any

from ._gateway import AdminGateway, open_admin_gateway
from .processes import wait_for


def wait_gateways_ready(description: dict[str, Any], *, timeout: float = 120) -> None:
    """Return when every gateway endorses with every org and a Ping transaction commits.

    Raises NetworkError naming the first condition not met within ``timeout``.
    """
    orgs = description["orgs"]
    msp_ids = [org["msp_id"] for org in orgs.values()]
    connections: list[AdminGateway] = []
    try:
        for key in orgs:
            connections.append(
                open_admin_gateway(description, key, endorse_timeout=10, submit_timeout=10)
            )
        for conn in connections:

            def endorsed(conn: AdminGateway = conn) -> bool:
                proposal = conn.contract.new_proposal("Ping", endorsing_organizations=msp_ids)
                proposal.endorse()
                return True

            wait_for(
                f"the gateway of {conn.org} to endorse with {', '.join(msp_ids)}",
                endorsed,
                timeout=timeout,
                interval=0.5,
            )

        def committed() -> bool:
            connections[0].contract.submit_transaction("Ping", commit_status_timeout=30)
            return True

        wait_for("a Ping transaction to commit", committed, timeout=timeout, interval=0.5)
    finally:
        for conn in connections:
            conn.close()
