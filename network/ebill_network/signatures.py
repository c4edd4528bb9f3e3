"""The signatures on a channel configuration update, checked before it is submitted.

A config update envelope (``common.Envelope`` whose payload holds a
``ConfigUpdateEnvelope``) carries one ``ConfigSignature`` per admin that signed it.
Fabric checks each as ``sign(signature_header || config_update)`` by the
``SignatureHeader``'s creator, and counts it for an org when the creator is a valid
admin of that org's MSP in the channel (the orderer then evaluates the mod policies:
``/Channel/Application/Admins`` is ``MAJORITY Admins``). :func:`valid_signers` does the
same checks ahead of the orderer, so a missing or broken signature is named here
rather than as the orderer's "implicit policy evaluation failed".
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fabric_protos.common import common_pb2 as _common_pb2
from fabric_protos.common import configtx_pb2 as _configtx_pb2
from fabric_protos.msp import identities_pb2 as _identities_pb2

# The generated modules have no type stubs (as in fabricgw._protos).
common_pb2: Any = _common_pb2
configtx_pb2: Any = _configtx_pb2
identities_pb2: Any = _identities_pb2


@dataclass(frozen=True)
class Signature:
    """One signature on the update: who made it and whether it counts, with the reason."""

    msp_id: str
    subject: str
    valid: bool
    reason: str = ""


def _msp_config(config: dict[str, Any], msp_id: str) -> dict[str, Any] | None:
    """The channel MSP of an application or orderer org, or None if it is not in the channel."""
    groups = config["channel_group"]["groups"]
    for group in ("Application", "Orderer"):
        org = groups.get(group, {}).get("groups", {}).get(msp_id)
        if org is not None:
            msp: dict[str, Any] = org["values"]["MSP"]["value"]["config"]
            return msp
    return None


def _pems(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v) for v in values]


def _check_admin(cert: x509.Certificate, msp: dict[str, Any]) -> str:
    """Why ``cert`` is not a valid admin of the MSP, or ``""`` if it is."""
    roots = [x509.load_pem_x509_certificate(p) for p in _pems(msp.get("root_certs", []))]
    issuer = next((r for r in roots if r.subject == cert.issuer), None)
    if issuer is None:
        return "not issued by the org's root CA"
    public = issuer.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        return "the org's root CA key is not ECDSA"
    hash_algorithm = cert.signature_hash_algorithm
    if hash_algorithm is None:
        return "the certificate names no signature hash"
    try:
        public.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hash_algorithm))
    except InvalidSignature:
        return "the certificate's signature does not verify with the org's root CA"
    for pem in _pems(msp.get("revocation_list", [])):
        crl = x509.load_pem_x509_crl(pem)
        if crl.issuer == cert.issuer and crl.get_revoked_certificate_by_serial_number(
            cert.serial_number
        ):
            return "the certificate is revoked"
    units = [
        a.value for a in cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)
    ]
    if "admin" not in units:
        return "not an admin (no OU=admin)"
    return ""


def signatures(envelope: bytes, config: dict[str, Any]) -> list[Signature]:
    """Every signature on the config update ``envelope`` (bytes of ``common.Envelope``),
    checked against the channel ``config`` (the JSON of ``common.Config``) it updates."""
    payload = common_pb2.Payload.FromString(common_pb2.Envelope.FromString(envelope).payload)
    update = configtx_pb2.ConfigUpdateEnvelope.FromString(payload.data)
    out: list[Signature] = []
    for sig in update.signatures:
        header = common_pb2.SignatureHeader.FromString(sig.signature_header)
        creator = identities_pb2.SerializedIdentity.FromString(header.creator)
        msp_id = str(creator.mspid)
        try:
            cert = x509.load_pem_x509_certificate(bytes(creator.id_bytes))
        except ValueError:
            out.append(Signature(msp_id, "", False, "the creator is not an X.509 certificate"))
            continue
        subject = cert.subject.rfc4514_string()
        msp = _msp_config(config, msp_id)
        if msp is None:
            out.append(Signature(msp_id, subject, False, f"{msp_id} is not in the channel"))
            continue
        public = cert.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey):
            out.append(Signature(msp_id, subject, False, "the signer's key is not ECDSA"))
            continue
        try:
            data = bytes(sig.signature_header) + bytes(update.config_update)
            public.verify(bytes(sig.signature), data, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            out.append(Signature(msp_id, subject, False, "the signature does not verify"))
            continue
        reason = _check_admin(cert, msp)
        out.append(Signature(msp_id, subject, not reason, reason))
    return out


def application_orgs(config: dict[str, Any]) -> list[str]:
    """The MSP ids of the channel's application orgs."""
    return sorted(config["channel_group"]["groups"]["Application"]["groups"])


def majority(count: int) -> int:
    """How many of ``count`` sub-policies a ``MAJORITY`` implicit-meta policy needs."""
    return count // 2 + 1


def valid_signers(envelope: bytes, config: dict[str, Any]) -> set[str]:
    """The application orgs whose admins validly signed the update."""
    members = set(application_orgs(config))
    return {s.msp_id for s in signatures(envelope, config) if s.valid and s.msp_id in members}
