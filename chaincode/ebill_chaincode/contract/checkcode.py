"""The 6-character check code given at issuance and needed to verify a bill.

Derived, not random, so that every endorser computes the same code:
sha256(tx id, bill code, bill number) read as a big integer and written in base 34
over the alphabet 0-9A-Z without I and O (easy to read aloud and to retype).
"""

from __future__ import annotations

import hashlib

ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 6


def derive_check_code(tx_id: str, bill_code: str, bill_number: str) -> str:
    """The check code of the bill issued by transaction ``tx_id``."""
    material = "\x00".join((tx_id, bill_code, bill_number)).encode("utf-8")
    number = int.from_bytes(hashlib.sha256(material).digest(), "big")
    chars = []
    for _ in range(LENGTH):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def normalize_check_code(text: str) -> str | None:
    """Upper-cased code if it is well-formed, else None."""
    code = text.strip().upper()
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code
