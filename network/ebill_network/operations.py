"""The operations endpoints (``/healthz``, ``/metrics``, ``/logspec``) as the operator.

Every CA, orderer and peer serves its operations API over TLS and requires a client
certificate from the network's operations CA, which only the operator holds
(``pki/operations/operator`` in the data folder, key 0600).
"""

from __future__ import annotations

import ssl
import urllib.request

from . import pki
from .layout import Layout


def operator_context(layout: Layout) -> ssl.SSLContext:
    """A TLS context that trusts the operations CA and presents the operator's certificate."""
    ctx = ssl.create_default_context(cafile=str(pki.operations_ca(layout).cert_file))
    tls = pki.operator_tls(layout)
    ctx.load_cert_chain(str(tls / "cert.pem"), str(tls / "key.pem"))
    return ctx


def get(layout: Layout, port: int, path: str, *, timeout: float = 5) -> str:
    """GET ``path`` from the operations listener on ``port`` as the operator; the body.

    Raises ``OSError`` (``urllib.error.URLError``, ``ssl.SSLError``) if it cannot be had.
    """
    url = f"https://{layout.address(port)}{path}"
    with urllib.request.urlopen(url, timeout=timeout, context=operator_context(layout)) as resp:
        body: bytes = resp.read()
    return body.decode()
