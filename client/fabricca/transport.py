"""HTTP(S) exchange with a Fabric CA server and the answer envelope it uses.

Every answer is JSON ``{"result": ..., "errors": [{"code", "message"}],
"messages": [], "success": bool}``; an error answer also has an HTTP status
of 400 or above. One connection is opened per request, so a client can be
shared between threads.
"""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import AuthenticationError, CAError, ServerMessage

API_PREFIX = "/api/v1"


def tls_context(tls_cert: Path | bytes | None) -> ssl.SSLContext:
    """A client TLS context trusting ``tls_cert`` (PEM file or bytes), else the system roots.

    ``tls_cert`` may be the server's own certificate (``tls-cert.pem``, which
    the CA issues itself), a root or an intermediate: like Go's TLS client, any
    certificate given is a trust anchor (OpenSSL's partial-chain flag). Host
    names are checked against the server certificate. Raises ``OSError``
    if the file cannot be read and ``ssl.SSLError`` if it holds no certificate.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if tls_cert is not None:
        pem = tls_cert.read_bytes() if isinstance(tls_cert, Path) else tls_cert
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        context.load_verify_locations(cadata=pem.decode("ascii"))
    return context


class Transport:
    """Sends requests to ``<url>/api/v1/<endpoint>`` and unwraps the answers.

    ``url`` is ``https://host:port`` (or ``http://`` for a CA without TLS).
    Raises ``ValueError`` for any other URL, otherwise as :func:`tls_context`.
    """

    def __init__(self, url: str, *, tls_cert: Path | bytes | None, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http(s)://host:port URL, got {url!r}")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError("the CA URL must not carry credentials, a query or a fragment")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base_path = parts.path.rstrip("/") + API_PREFIX
        self.timeout = timeout
        self._context = tls_context(tls_cert) if parts.scheme == "https" else None

    def path(self, endpoint: str) -> str:
        """Request URI of an endpoint: what the token signs."""
        return f"{self.base_path}/{endpoint}"

    def _connection(self) -> http.client.HTTPConnection:
        if self._context is not None:
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout, context=self._context
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(
        self,
        operation: str,
        method: str,
        uri: str,
        body: bytes,
        headers: Mapping[str, str],
        error: type[CAError] = CAError,
    ) -> Any:
        """Send one request and return the ``result`` of a successful answer.

        Raises :class:`AuthenticationError` for HTTP 401, ``error`` for any other
        error answer, and :class:`CAError` when no valid answer arrives
        (connection refused, TLS failure, timeout, not JSON).
        """
        all_headers = {"Content-Type": "application/json", "Accept": "application/json"}
        all_headers.update(headers)
        conn = self._connection()
        try:
            conn.request(method, uri, body=body, headers=all_headers)
            response = conn.getresponse()
            status = response.status
            raw = response.read()
        except (OSError, http.client.HTTPException) as err:
            where = f"{self.scheme}://{self.host}:{self.port}"
            raise CAError(operation, f"{where}: {type(err).__name__}: {err}") from err
        finally:
            conn.close()
        return parse_answer(operation, status, raw, error)


def parse_answer(operation: str, status: int, raw: bytes, error: type[CAError]) -> Any:
    """Unwrap an answer envelope; raises as :meth:`Transport.request`."""
    try:
        envelope = json.loads(raw) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        envelope = None
    if not isinstance(envelope, dict):
        text = raw[:200].decode("utf-8", "replace").strip()
        cls = AuthenticationError if status == 401 else error if status >= 400 else CAError
        raise cls(operation, f"answer is not a Fabric CA JSON envelope: {text!r}", status=status)
    messages = tuple(
        ServerMessage(int(e.get("code", 0)), str(e.get("message", "")))
        for e in envelope.get("errors") or []
        if isinstance(e, dict)
    )
    if status == 401:
        raise AuthenticationError(operation, status=status, errors=messages)
    if status >= 400 or messages or not envelope.get("success", False):
        raise error(operation, status=status, errors=messages)
    return envelope.get("result")


__all__ = ["API_PREFIX", "Transport", "parse_answer", "tls_context"]
