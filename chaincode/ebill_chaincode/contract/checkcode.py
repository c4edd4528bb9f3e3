"""The 6-character check code given at issuance and needed to verify a bill.

The issuer's system generates the code (random, 6 characters of the alphabet 0-9A-Z
without I and O: 34^6, about 1.5e9 codes) and passes it as transient ``checkCode``;
the code itself is never an argument or in a block. The public record keeps only

    checkCodeHash = "scrypt$<log2 N>$<r>$<p>$<salt hex>$<hash hex>"

with a per-bill salt derived from the issuing transaction's id (unique per bill, the
same on every endorser). With N = 2^15, r = 8, p = 1 (32 MiB) one guess costs about
85 ms on one core here, so trying every code of one bill takes about four core-years;
VerifyBill recomputes one hash (about 85 ms of one endorser's time) per call.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from ..shim.errors import InvalidArgument

ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 6
LOG2_N, R, P = 15, 8, 1
_MAXMEM = 64 * 1024 * 1024
_STORED = re.compile(
    r"scrypt\$([0-9]{1,2})\$([0-9]{1,2})\$([0-9]{1,2})\$([0-9a-f]{32})\$([0-9a-f]{64})"
)


def normalize_check_code(text: str) -> str | None:
    """Upper-cased code if it is well-formed, else None."""
    code = text.strip().upper()
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def parse_check_code(text: str, name: str) -> str:
    """The normalised code; InvalidArgument naming ``name`` if malformed (the value is
    not repeated)."""
    code = normalize_check_code(text)
    if code is None:
        raise InvalidArgument(f"{name}: must be 6 characters of 0-9 and A-Z without I and O")
    return code


def _scrypt(code: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        code.encode("ascii"), salt=salt, n=1 << log2_n, r=r, p=p, maxmem=_MAXMEM, dklen=32
    )


def hash_check_code(code: str, tx_id: str, bill_code: str, bill_number: str) -> str:
    """The stored form of ``code`` for the bill issued by ``tx_id``."""
    material = "\x00".join(("checkCode", tx_id, bill_code, bill_number)).encode("utf-8")
    salt = hashlib.sha256(material).digest()[:16]
    digest = _scrypt(code, salt, LOG2_N, R, P)
    return f"scrypt${LOG2_N}${R}${P}${salt.hex()}${digest.hex()}"


def check_code_matches(code: str, stored: str) -> bool:
    """Does ``code`` give the stored hash? False for a malformed stored value."""
    match = _STORED.fullmatch(stored)
    if match is None:
        return False
    log2_n, r, p = int(match[1]), int(match[2]), int(match[3])
    if not (10 <= log2_n <= 20 and 1 <= r <= 16 and 1 <= p <= 4):
        return False
    digest = _scrypt(code, bytes.fromhex(match[4]), log2_n, r, p)
    return hmac.compare_digest(digest.hex(), match[5])
