"""The bill's QR code: the verification link, as SVG (pages) and PNG (the PDF)."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import segno


def verify_link(base_url: str, code: str, number: str, check: str) -> str:
    """``<base>/verify?c=<code>&n=<number>&k=<check code>``: the link printed as QR."""
    return f"{base_url.rstrip('/')}/verify?{urlencode({'c': code, 'n': number, 'k': check})}"


def svg(link: str) -> str:
    """An inline SVG of ``link`` (error correction M), with a title for screen readers."""
    out = io.BytesIO()
    segno.make(link, error="m").save(
        out, kind="svg", scale=4, xmldecl=False, svgns=True, title="QR", svgclass="qr"
    )
    return out.getvalue().decode()


def png(link: str) -> bytes:
    """A PNG of ``link`` for the PDF."""
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=6)
    return out.getvalue()
