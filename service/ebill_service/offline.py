"""Offline signing: a business system that holds its own Fabric key signs; the service
never sees that key.

The flow is fabric-gateway's: (1) the service builds the proposal for the client's
identity (its certificate, from the org's wallet description; no key is loaded) and
answers its bytes and digest; (2) the client signs the digest and sends the proposal
bytes back with the signature; the service has the org's peer endorse it and answers the
prepared transaction's bytes and digest; (3) the client signs that digest, the service
submits the transaction and waits for its commit status (asked with the service's own
identity: any channel member may ask).

The service keeps, per transaction id, only the client, the stage and a SHA-256 of the
bytes it handed out: bytes sent back must be exactly those (so a client can neither act
as another identity nor smuggle in another proposal), and a proposal's transient data
(a payer's details, handed back to the very client that sent them) is never stored.
A retried submit of a submitted transaction answers its commit status again: the chain
sees the transaction once.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from cryptography.hazmat.primitives.asymmetric import ed25519

import fabricgw
from ebill.connection import open_channel
from ebill.errors import EbillError, domain_error

from .problems import ServiceProblem
from .store import Store


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: What a peer answers for a proposal or envelope whose signature it does not accept.
_SIGNATURE_REFUSED = ("error validating proposal", "access denied", "signature", "creator")


def _signature_refused(error: fabricgw.GatewayError) -> bool:
    """Whether the peers refused the caller's signature (not the contract, not a node down)."""
    texts = [str(d.message) for d in getattr(error, "details", None) or []] or [str(error)]
    return bool(texts) and all(any(k in t for k in _SIGNATURE_REFUSED) for t in texts)


def _refusal(error: fabricgw.GatewayError, function: str, transaction_id: str) -> Exception:
    """The contract's refusal as its domain error; a refused signature as a 422 problem."""
    mapped = domain_error(error, function=function, transaction_id=transaction_id)
    if type(mapped) is not EbillError and not _signature_refused(error):
        return mapped
    return ServiceProblem(
        422,
        "signature-refused",
        "Signed message refused",
        f"signature: the peer refused the signed message of {function} ({mapped})",
        transactionId=transaction_id,
    )


class OfflineSigning:
    """Prepare, endorse and submit transactions signed by their clients."""

    def __init__(self, store: Store, description: Callable[[], Any], org: str) -> None:
        self.store = store
        self._description = description
        self._org = org
        self._channel: grpc.Channel | None = None
        self._lock = threading.Lock()

    def _gateway(self, user: str) -> tuple[fabricgw.Gateway, dict[str, Any]]:
        """A Gateway for ``user``'s certificate with no signer, over the org's peer."""
        description = self._description()
        org = description["orgs"][self._org]
        with self._lock:
            if self._channel is None:
                self._channel = open_channel(org["peer"], Path(org["tls_ca"]))
            channel = self._channel
        cert = Path(org["users"][user]["cert"]).read_bytes()
        identity = fabricgw.Identity.from_pem(org["msp_id"], cert)
        ed = isinstance(identity.certificate().public_key(), ed25519.Ed25519PublicKey)
        gateway = fabricgw.connect(
            channel, identity=identity, hash=fabricgw.NONE if ed else fabricgw.SHA256
        )
        return gateway, description

    def _contract(self, user: str) -> fabricgw.Contract:
        gateway, description = self._gateway(user)
        network = gateway.get_network(description["channel"])
        return network.get_contract(description["chaincode"])

    def prepare(
        self,
        client_id: str,
        user: str,
        function: str,
        args: list[str],
        transient: dict[str, str],
        endorsing_organizations: list[str] | None,
    ) -> dict[str, Any]:
        """The unsigned proposal (bytes, digest, transaction id) of ``function(args)``."""
        proposal = self._contract(user).new_proposal(
            function,
            arguments=args,
            transient=transient or None,
            endorsing_organizations=endorsing_organizations or None,
        )
        data = proposal.bytes()
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO offline (session_id, client_id, stage, function, data,"
                " transaction_id, created_at) VALUES (?, ?, 'proposal', ?, ?, ?, ?)",
                (
                    proposal.transaction_id,
                    client_id,
                    function,
                    _digest(data),
                    proposal.transaction_id,
                    time.time(),
                ),
            )
        return {
            "transactionId": proposal.transaction_id,
            "bytes": data,
            "digest": proposal.digest(),
        }

    def _session(self, client_id: str, transaction_id: str) -> Any:
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT * FROM offline WHERE session_id=? AND client_id=?",
                (transaction_id, client_id),
            ).fetchone()
        if row is None:
            raise ServiceProblem(
                404, "not-found", "Not found", f"no offline transaction {transaction_id}"
            )
        return row

    def _check(self, row: Any, stage: str, data: bytes, what: str) -> None:
        if row["stage"] != stage or row["data"] != _digest(data):
            raise ServiceProblem(
                422,
                "validation",
                "Not the bytes prepared",
                f"{what}: send back exactly the bytes this service answered for"
                f" transaction {row['session_id']} (stage {row['stage']})",
            )

    def endorse(
        self, client_id: str, user: str, transaction_id: str, data: bytes, signature: bytes
    ) -> dict[str, Any]:
        """Endorse the signed proposal; the unsigned transaction (bytes, digest, result)."""
        row = self._session(client_id, transaction_id)
        self._check(row, "proposal", data, "proposal")
        gateway, _ = self._gateway(user)
        proposal = gateway.new_signed_proposal(data, signature)
        try:
            transaction = proposal.endorse()
        except fabricgw.GatewayError as error:
            raise _refusal(error, row["function"], transaction_id) from None
        prepared = transaction.bytes()
        with self.store.transaction() as db:
            db.execute(
                "UPDATE offline SET stage='transaction', data=? WHERE session_id=?",
                (_digest(prepared), transaction_id),
            )
        return {
            "transactionId": transaction_id,
            "bytes": prepared,
            "digest": transaction.digest(),
            "result": transaction.result,
        }

    def submit(
        self,
        client_id: str,
        user: str,
        transaction_id: str,
        data: bytes,
        signature: bytes,
        status_of: Callable[[str], fabricgw.Status],
    ) -> dict[str, Any]:
        """Submit the signed transaction and wait for its commit; its status.

        ``status_of(transaction_id)`` asks the commit status with the service's own
        identity. A retry of a submitted transaction only asks the status again.
        """
        row = self._session(client_id, transaction_id)
        if row["stage"] != "submitted":
            self._check(row, "transaction", data, "transaction")
            gateway, _ = self._gateway(user)
            transaction = gateway.new_signed_transaction(data, signature)
            try:
                transaction.submit()
            except fabricgw.GatewayError as error:
                raise domain_error(
                    error, function=row["function"], transaction_id=transaction_id
                ) from None
            with self.store.transaction() as db:
                db.execute(
                    "UPDATE offline SET stage='submitted' WHERE session_id=?", (transaction_id,)
                )
        elif row["data"] != _digest(data):
            self._check(row, "transaction", data, "transaction")
        try:
            status = status_of(transaction_id)
        except fabricgw.GatewayError as error:
            raise _refusal(error, row["function"], transaction_id) from None
        return {
            "transactionId": transaction_id,
            "blockNumber": status.block_number,
            "valid": status.successful,
            "code": status.code_name,
        }

    def close(self) -> None:
        with self._lock:
            if self._channel is not None:
                self._channel.close()
                self._channel = None
