"""An org admin's Gateway connection for the network's own probes (readiness).

The network package knows no party client: this opens, with :mod:`fabricgw` alone, a
TLS gRPC channel to an org's peer and a Gateway signed by one of the identities that
``network.json`` lists for the org (the admins the network enrolled).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from cryptography.hazmat.primitives.asymmetric import ed25519

import fabricgw


@dataclass
class AdminGateway:
    """A Gateway over its own gRPC channel; ``close()`` closes both."""

    org: str
    msp_id: str
    gateway: fabricgw.Gateway
    channel: grpc.Channel
    contract: fabricgw.Contract

    def close(self) -> None:
        """Close the Gateway and its channel."""
        self.gateway.close()
        self.channel.close()

    def __enter__(self) -> AdminGateway:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_admin_gateway(
    description: dict[str, Any],
    org: str,
    *,
    user: str = "admin0",
    endorse_timeout: float = fabricgw.DEFAULT_TIMEOUTS.endorse,
    submit_timeout: float = fabricgw.DEFAULT_TIMEOUTS.submit,
) -> AdminGateway:
    """Connect as ``user`` of ``org`` (from ``network.json``'s ``description``) to the
    org's own peer, for the network's chaincode on its channel. Makes no call yet.

    Raises KeyError naming the org or user that ``description`` does not list.
    """
    orgs = description["orgs"]
    if org not in orgs:
        raise KeyError(f"unknown org {org!r}; known: {', '.join(orgs)}")
    member = orgs[org]
    if user not in member["users"]:
        raise KeyError(f"unknown user {user!r} of {org}; known: {', '.join(member['users'])}")
    files = member["users"][user]
    credentials = grpc.ssl_channel_credentials(
        root_certificates=Path(member["tls_ca"]).read_bytes()
    )
    channel = grpc.secure_channel(member["peer"], credentials, options=fabricgw.channel_options())
    key = fabricgw.load_private_key_file(files["key"])
    gateway = fabricgw.connect(
        channel,
        identity=fabricgw.Identity.from_pem(member["msp_id"], Path(files["cert"]).read_bytes()),
        signer=fabricgw.new_private_key_signer(key),
        # Fabric verifies Ed25519 signatures over the whole message, ECDSA over its SHA-256.
        hash=fabricgw.NONE if isinstance(key, ed25519.Ed25519PrivateKey) else fabricgw.SHA256,
        endorse_timeout=endorse_timeout,
        submit_timeout=submit_timeout,
    )
    contract = gateway.get_network(description["channel"]).get_contract(description["chaincode"])
    return AdminGateway(org, member["msp_id"], gateway, channel, contract)
