"""Connections of e-bill parties to the network: one gRPC channel and one Gateway per user.

The network scripts describe the running network in ``network.json`` (peer
addresses, TLS roots, each enrolled user's certificate and key); a party connects
as one of those users to its own org's peer, or to another org's peer with ``via``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from cryptography.hazmat.primitives.asymmetric import ed25519

import fabricgw
from fabricca.attributes import certificate_attributes

CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 100 * 1024 * 1024),
    ("grpc.max_send_message_length", 100 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 60_000),
]


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
    return grpc.secure_channel(address, creds, options=CHANNEL_OPTIONS)


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

    @property
    def contract(self) -> fabricgw.Contract:
        """The e-bill contract on the e-bill channel."""
        return self.gateway.get_network(self.channel_name).get_contract(self.chaincode_name)

    def close(self) -> None:
        self.gateway.close()
        self.channel.close()

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
    evaluate_timeout: float = fabricgw.DEFAULT_TIMEOUTS.evaluate,
    endorse_timeout: float = fabricgw.DEFAULT_TIMEOUTS.endorse,
    submit_timeout: float = fabricgw.DEFAULT_TIMEOUTS.submit,
    commit_status_timeout: float = fabricgw.DEFAULT_TIMEOUTS.commit_status,
) -> Connection:
    """Connect as ``user`` of ``org`` to the Gateway of ``via``'s peer (default: own org's).

    Raises KeyError naming the unknown org or user.
    """
    orgs = description["orgs"]
    if org not in orgs:
        raise KeyError(f"unknown org {org!r}; known: {', '.join(orgs)}")
    member = orgs[org]
    if user not in member["users"]:
        raise KeyError(f"unknown user {user!r} of {org}; known: {', '.join(member['users'])}")
    files = member["users"][user]
    cert = Path(files["cert"]).read_bytes()
    target = orgs[via or org]
    channel = open_channel(target["peer"], Path(target["tls_ca"]))
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
    )
