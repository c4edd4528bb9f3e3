"""Connections of e-bill parties to the network: one Gateway per user, on its peer's channel.

The network scripts describe the running network in ``network.json`` (peer
addresses, TLS roots, each enrolled user's certificate and key); a party connects
as one of those users to its own org's peer, or to another org's peer with ``via``.
The other orgs' peers are the Gateway's fallback endpoints: a signed transaction
whose Submit failed, and commit status requests, go to them when the own peer is
down (never a proposal, which may carry personal transient data; see
:mod:`fabricgw.retry`). Channels use :data:`fabricgw.CHANNEL_OPTIONS`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from cryptography.hazmat.primitives.asymmetric import ed25519

import fabricgw
from fabricca.attributes import certificate_attributes

#: The SDK's channel options (message size, keepalive, bounded reconnect backoff).
CHANNEL_OPTIONS = fabricgw.CHANNEL_OPTIONS


def load_description(path: Path) -> dict[str, Any]:
    """Read ``network.json``; FileNotFoundError says to start the network first."""
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: start the network first (make network-up)")
    data = json.loads(path.read_text())
    assert isinstance(data, dict)
    return data


def open_channel(address: str, tls_ca: Path) -> grpc.Channel:
    """A TLS gRPC channel to a peer whose certificate is signed by ``tls_ca``."""
    creds = grpc.ssl_channel_credentials(root_certificates=tls_ca.read_bytes())
    return grpc.secure_channel(address, creds, options=fabricgw.channel_options())


@dataclass
class Connection:
    """A user connected to a peer's Gateway; closes its channel on ``close()``."""

    org: str
    user: str
    msp_id: str
    gateway: fabricgw.Gateway
    channel: grpc.Channel
    channel_name: str
    chaincode_name: str
    attributes: dict[str, str] = field(default_factory=dict)
    """The Fabric CA attributes of the user's certificate (role, unit, reimburser, ...)."""
    fallback_channels: list[grpc.Channel] = field(default_factory=list)
    """Channels to the other orgs' peers, the Gateway's fallback endpoints."""

    @property
    def network(self) -> fabricgw.Network:
        """The e-bill channel (e.g. ``get_commit_status`` of a transaction id)."""
        return self.gateway.get_network(self.channel_name)

    @property
    def contract(self) -> fabricgw.Contract:
        """The e-bill contract on the e-bill channel."""
        return self.gateway.get_network(self.channel_name).get_contract(self.chaincode_name)

    def close(self) -> None:
        self.gateway.close()
        self.channel.close()
        for channel in self.fallback_channels:
            channel.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def connect(
    description: dict[str, Any],
    org: str,
    user: str,
    *,
    via: str | None = None,
    fallbacks: Sequence[str] | None = None,
    evaluate_timeout: float = fabricgw.DEFAULT_TIMEOUTS.evaluate,
    endorse_timeout: float = fabricgw.DEFAULT_TIMEOUTS.endorse,
    submit_timeout: float = fabricgw.DEFAULT_TIMEOUTS.submit,
    commit_status_timeout: float = fabricgw.DEFAULT_TIMEOUTS.commit_status,
) -> Connection:
    """Connect as ``user`` of ``org`` to the Gateway of ``via``'s peer (default: own org's).

    ``fallbacks``: the orgs whose peers are the fallback gateway endpoints, in order
    (default: every other org of the network; ``()`` none). Raises KeyError naming the
    unknown org or user.
    """
    orgs = description["orgs"]
    if org not in orgs:
        raise KeyError(f"unknown org {org!r}; known: {', '.join(orgs)}")
    member = orgs[org]
    if user not in member["users"]:
        raise KeyError(f"unknown user {user!r} of {org}; known: {', '.join(member['users'])}")
    files = member["users"][user]
    cert = Path(files["cert"]).read_bytes()
    gateway_org = via or org
    if gateway_org not in orgs:
        raise KeyError(f"unknown org {gateway_org!r}; known: {', '.join(orgs)}")
    others = [key for key in orgs if key != gateway_org] if fallbacks is None else list(fallbacks)
    for key in others:
        if key not in orgs:
            raise KeyError(f"unknown org {key!r}; known: {', '.join(orgs)}")
    target = orgs[gateway_org]
    channel = open_channel(target["peer"], Path(target["tls_ca"]))
    fallback_channels = [
        open_channel(orgs[key]["peer"], Path(orgs[key]["tls_ca"])) for key in others
    ]
    key = fabricgw.load_private_key_file(files["key"])
    gateway = fabricgw.connect(
        channel,
        identity=fabricgw.Identity.from_pem(member["msp_id"], cert),
        signer=fabricgw.new_private_key_signer(key),
        # Fabric verifies Ed25519 signatures over the whole message, ECDSA over its SHA-256.
        hash=fabricgw.NONE if isinstance(key, ed25519.Ed25519PrivateKey) else fabricgw.SHA256,
        evaluate_timeout=evaluate_timeout,
        endorse_timeout=endorse_timeout,
        submit_timeout=submit_timeout,
        commit_status_timeout=commit_status_timeout,
        fallback_channels=fallback_channels,
    )
    return Connection(
        org=org,
        user=user,
        msp_id=member["msp_id"],
        gateway=gateway,
        channel=channel,
        channel_name=description["channel"],
        chaincode_name=description["chaincode"],
        attributes=certificate_attributes(cert),
        fallback_channels=fallback_channels,
    )
