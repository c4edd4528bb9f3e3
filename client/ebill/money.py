"""Money as the chain counts it (integer fen) and as people read it (yuan, 2 decimals)."""

from __future__ import annotations

import re
from decimal import Decimal

_YUAN = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,2})?")


def yuan(fen: int) -> str:
    """``26850`` -> ``"268.50"``, ``120000`` -> ``"1,200.00"``, ``-26850`` -> ``"-268.50"``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def fen(text: str) -> int:
    """``"161.10"`` -> ``16110``. Raises ValueError for anything but yuan with at most
    two decimals."""
    text = text.strip().replace(",", "")
    if not _YUAN.fullmatch(text):
        raise ValueError(f"{text!r} is not an amount in yuan with at most 2 decimals")
    return int(Decimal(text) * 100)
