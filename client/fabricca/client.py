"""CAClient: enroll, reenroll, register and revoke identities, get the CRL, at a Fabric CA.

Typical use::

    from pathlib import Path
    from fabricca import CAClient

    ca = CAClient("https://localhost:7054", tls_cert=Path("tls-cert.pem"), ca_name="ca-org1")
    admin = ca.enroll("admin", bootstrap_secret)
    secret = ca.register(admin, name="alice", attrs={"role": "issuer"}, max_enrollments=1)
    alice = ca.enroll("alice", secret)
    ca.revoke(admin, name="alice")
    crl = ca.gen_crl(admin)

Enroll authenticates with the enrollment secret (HTTP basic auth); the other
calls with a token signed by an enrolled identity (see :mod:`fabricca.token`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from .attributes import Attribute, AttributeRequest, to_attributes
from .cainfo import CAInfo, decode_b64_field
from .csr import build_csr, generate_key
from .enrollment import Enrollment, SigningIdentity
from .errors import CAError, EnrollmentError, RegistrationError, RevocationError
from .revocation import REVOCATION_REASONS, RevokeResult
from .token import create_token
from .transport import Transport


class CAClient:
    """Client of one CA of a Fabric CA server.

    ``url`` is ``https://host:port``; ``tls_cert`` the PEM (file or bytes) of the
    CA's TLS certificate or of the root that issued it (``None``: the system
    roots); ``ca_name`` selects a CA of a multi-CA server (``None``: its
    default CA); ``timeout`` is in seconds per request.

    Raises ``ValueError`` for a malformed URL, ``OSError`` if ``tls_cert``
    cannot be read and ``ssl.SSLError`` if it holds no certificate.
    """

    def __init__(
        self,
        url: str,
        *,
        tls_cert: Path | bytes | None,
        ca_name: str | None = None,
        timeout: float = 10,
    ) -> None:
        self.url = url
        self.ca_name = ca_name
        self._transport = Transport(url, tls_cert=tls_cert, timeout=timeout)

    # -- plumbing -----------------------------------------------------------
    def _body(self, fields: Mapping[str, Any]) -> bytes:
        body = dict(fields)
        if self.ca_name:
            body["caname"] = self.ca_name
        return json.dumps(body, separators=(",", ":")).encode()

    def _post(
        self,
        operation: str,
        endpoint: str,
        fields: Mapping[str, Any],
        *,
        error: type[CAError],
        identity: SigningIdentity | None = None,
        basic_auth: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        uri = self._transport.path(endpoint)
        body = self._body(fields)
        headers: dict[str, str] = {}
        if identity is not None:
            try:
                headers["Authorization"] = create_token(identity, "POST", uri, body)
            except ValueError as err:
                raise error(operation, f"cannot sign the request: {err}") from err
        elif basic_auth is not None:
            user_pass = f"{basic_auth[0]}:{basic_auth[1]}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(user_pass).decode("ascii")
        result = self._transport.request(operation, "POST", uri, body, headers, error)
        if not isinstance(result, dict):
            raise error(operation, f"unexpected result {result!r}")
        return result

    @staticmethod
    def _sign_request(
        csr_pem: bytes,
        hosts: list[str],
        attr_reqs: Sequence[AttributeRequest],
        profile: str | None,
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {"certificate_request": csr_pem.decode("ascii")}
        # An empty list would make the CA drop the CSR's SANs; leave it out then.
        if hosts:
            fields["hosts"] = hosts
        if profile:
            fields["profile"] = profile
        if attr_reqs:
            fields["attr_reqs"] = [a.to_json() for a in attr_reqs]
        return fields

    @staticmethod
    def _enrollment(
        operation: str,
        key: ec.EllipticCurvePrivateKey,
        result: dict[str, Any],
        error: type[CAError],
    ) -> Enrollment:
        try:
            cert = decode_b64_field(result, "Cert")
            server_info = result.get("ServerInfo") or {}
            chain = (
                decode_b64_field(server_info, "CAChain") if isinstance(server_info, dict) else b""
            )
        except ValueError as err:
            raise error(operation, f"malformed answer: {err}") from err
        if not cert:
            raise error(operation, "the answer holds no certificate")
        return Enrollment(key=key, certificate=cert, ca_chain=chain)

    # -- calls --------------------------------------------------------------
    def info(self) -> CAInfo:
        """Name, CA chain and version of the CA (no authentication).

        Raises :class:`CAError` if the request fails or the answer is malformed.
        """
        result = self._post("cainfo", "cainfo", {}, error=CAError)
        try:
            return CAInfo.from_result(result)
        except ValueError as err:
            raise CAError("cainfo", f"malformed answer: {err}") from err

    def enroll(
        self,
        enrollment_id: str,
        secret: str,
        *,
        csr_hosts: Iterable[str] = (),
        attr_reqs: Sequence[AttributeRequest] = (),
        profile: str | None = None,
        key_curve: str = "P-256",
    ) -> Enrollment:
        """Generate a key pair and get a certificate for it, authenticating with the secret.

        ``csr_hosts`` become SANs (IP addresses as IP SANs); ``attr_reqs`` name the
        attributes to put into the certificate (default: the identity's ``ecert``
        ones); ``profile`` picks a signing profile (``"tls"`` for TLS certificates).

        Raises ``ValueError`` for an empty ID or one with ``:``, an unknown curve
        or an empty host; :class:`AuthenticationError` for a wrong secret, an
        unknown or revoked identity or one out of enrollments;
        :class:`EnrollmentError` for other refusals; :class:`CAError` on transport failure.
        """
        if ":" in enrollment_id:
            raise ValueError("an enrollment ID used with a secret cannot contain ':'")
        hosts = list(csr_hosts)
        key = generate_key(key_curve)
        csr = build_csr(key, enrollment_id, hosts)
        fields = self._sign_request(csr, hosts, attr_reqs, profile)
        result = self._post(
            "enroll", "enroll", fields, error=EnrollmentError, basic_auth=(enrollment_id, secret)
        )
        return self._enrollment("enroll", key, result, EnrollmentError)

    def reenroll(
        self,
        identity: SigningIdentity,
        *,
        csr_hosts: Iterable[str] = (),
        attr_reqs: Sequence[AttributeRequest] = (),
        profile: str | None = None,
        key_curve: str = "P-256",
        reuse_key: bool = False,
    ) -> Enrollment:
        """Get a new certificate for an enrolled identity (same subject), signed in as it.

        A new key pair is generated unless ``reuse_key``. Other arguments as
        :meth:`enroll`. Raises ``ValueError`` as :meth:`enroll` or if the identity's
        certificate does not parse; :class:`AuthenticationError` if the certificate
        is revoked, expired or from another CA; :class:`EnrollmentError` for other
        refusals; :class:`CAError` on transport failure.
        """
        cert = Enrollment(key=identity.key, certificate=identity.certificate)
        key = identity.key if reuse_key else generate_key(key_curve)
        hosts = list(csr_hosts)
        csr = build_csr(key, cert.enrollment_id, hosts)
        fields = self._sign_request(csr, hosts, attr_reqs, profile)
        result = self._post(
            "reenroll", "reenroll", fields, error=EnrollmentError, identity=identity
        )
        return self._enrollment("reenroll", key, result, EnrollmentError)

    def register(
        self,
        registrar: SigningIdentity,
        *,
        name: str,
        type: str = "client",
        secret: str | None = None,
        affiliation: str = "",
        max_enrollments: int | None = None,
        attrs: Mapping[str, str] | Sequence[Attribute] = (),
        ecert: bool = True,
    ) -> str:
        """Register a new identity as ``registrar`` and return its enrollment secret.

        ``type`` is ``client``, ``peer``, ``orderer``, ``admin`` or ``user``;
        ``secret`` ``None`` lets the CA generate one; ``affiliation`` ``""`` means
        the registrar's own, ``"."`` the root; ``max_enrollments`` ``None`` the
        CA's default (``-1``: unlimited). A mapping of ``attrs`` gets the
        ``ecert`` flag on each attribute.

        Raises ``ValueError`` for an empty name; :class:`AuthenticationError` if
        the registrar's certificate is not accepted; :class:`RegistrationError`
        for refusals (409 for a name already registered, 403 when the registrar
        may not register this type, affiliation or attribute); :class:`CAError`
        on transport failure.
        """
        if not name:
            raise ValueError("the identity name must not be empty")
        fields: dict[str, Any] = {"id": name, "type": type, "affiliation": affiliation}
        if secret is not None:
            fields["secret"] = secret
        if max_enrollments is not None:
            fields["max_enrollments"] = max_enrollments
        attributes = to_attributes(attrs, ecert=ecert)
        if attributes:
            fields["attrs"] = [a.to_json() for a in attributes]
        result = self._post(
            "register", "register", fields, error=RegistrationError, identity=registrar
        )
        value = result.get("secret")
        if not isinstance(value, str) or not value:
            raise RegistrationError("register", "the answer holds no secret")
        return value

    def revoke(
        self,
        registrar: SigningIdentity,
        *,
        name: str | None = None,
        serial: str | None = None,
        aki: str | None = None,
        reason: str = "",
        gen_crl: bool = False,
    ) -> RevokeResult:
        """Revoke an identity (``name``: all its certificates, and it may not enroll again)
        or one certificate (``serial`` and ``aki``, hex as :attr:`Enrollment.serial`
        and :attr:`Enrollment.aki`). ``gen_crl`` asks for the new CRL.

        Raises ``ValueError`` unless ``name`` or both ``serial`` and ``aki`` are
        given, or for a reason not in :data:`REVOCATION_REASONS`;
        :class:`AuthenticationError` if the caller's certificate is not accepted;
        :class:`RevocationError` for refusals (404 unknown or already revoked,
        403 caller lacks ``hf.Revoker`` or affiliation); :class:`CAError` on
        transport failure.
        """
        if not name and not (serial and aki):
            raise ValueError("revoke needs a name, or a serial and an AKI")
        if reason and reason.lower() not in REVOCATION_REASONS:
            raise ValueError(f"unknown revocation reason {reason!r}")
        fields: dict[str, Any] = {}
        if name:
            fields["id"] = name
        if serial and aki:
            fields["serial"] = serial
            fields["aki"] = aki
        if reason:
            fields["reason"] = reason.lower()
        if gen_crl:
            fields["gencrl"] = True
        result = self._post("revoke", "revoke", fields, error=RevocationError, identity=registrar)
        try:
            return RevokeResult.from_result(result)
        except ValueError as err:
            raise RevocationError("revoke", f"malformed answer: {err}") from err

    def gen_crl(self, registrar: SigningIdentity) -> bytes:
        """The CA's current certificate revocation list (PEM), signed by the CA.

        Put it into the org's MSP (``revocation_list`` in the channel configuration)
        for the channel's peers and orderers to refuse the revoked certificates.

        Raises :class:`AuthenticationError` if the caller's certificate is not
        accepted; :class:`RevocationError` for refusals (403 when the caller lacks
        ``hf.GenCRL``) or an answer without a CRL; :class:`CAError` on transport failure.
        """
        result = self._post("gencrl", "gencrl", {}, error=RevocationError, identity=registrar)
        try:
            crl = decode_b64_field(result, "CRL")
        except ValueError as err:
            raise RevocationError("gencrl", f"malformed answer: {err}") from err
        if not crl:
            raise RevocationError("gencrl", "the answer holds no CRL")
        return crl


__all__ = ["CAClient"]
