"""The 6-character check code given at issuance and needed to verify a bill.

The issuer's system generates the code (random, 6 characters of the alphabet 0-9A-Z
without I and O: 34^6, about 1.5e9 codes) and hashes it itself (:func:`hash_check_code`,
a fresh random 16-byte salt per bill); it passes only the hash, as transient
``checkCodeHash``. The code itself never reaches the chain. The public record keeps

    checkCodeHash = "scrypt$<log2 N>$<r>$<p>$<salt hex>$<hash hex>"

Issuance computes no scrypt: the endorsers check the hash's form only
(:func:`parse_check_code_hash`: exactly this contract's N, r, p, a 16-byte salt that
looks random, a 32-byte digest). With N = 2^15, r = 8, p = 1 (32 MiB) one guess costs
about 85 ms on one core, so trying every code of one bill takes about four core-years;
VerifyBill recomputes one hash per call, which is what rate-limits guessing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from ..shim.errors import InvalidArgument
from ..shim.handler import run_blocking

ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 6
LOG2_N, R, P = 15, 8, 1
SALT_BYTES = 16
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


def hash_check_code(code: str, salt: bytes | None = None) -> str:
    """The stored form of ``code`` (the issuer's side): scrypt with this contract's
    parameters and ``salt`` (default: 16 fresh random bytes from ``secrets``).
    ValueError if ``code`` is not a well-formed check code."""
    normal = normalize_check_code(code)
    if normal is None:
        raise ValueError("check code: must be 6 characters of 0-9 and A-Z without I and O")
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = _scrypt(normal, salt, LOG2_N, R, P)
    return f"scrypt${LOG2_N}${R}${P}${salt.hex()}${digest.hex()}"


def parse_check_code_hash(text: str, name: str) -> str:
    """The stored form if ``text`` is one this contract accepts, else InvalidArgument
    naming ``name``: ``scrypt$15$8$1$<32 hex salt>$<64 hex digest>`` with exactly the
    contract's parameters (no weaker hash is stored) and a salt that looks random (at
    least 8 distinct byte values: 16 random bytes practically always have). Cheap: no
    scrypt is computed."""
    match = _STORED.fullmatch(text)
    if match is None:
        raise InvalidArgument(
            f"{name}: must be scrypt${LOG2_N}${R}${P}$<{SALT_BYTES * 2} hex salt>$<64 hex"
            " digest> (lower-case hex)"
        )
    if (int(match[1]), int(match[2]), int(match[3])) != (LOG2_N, R, P):
        raise InvalidArgument(f"{name}: must use scrypt N=2^{LOG2_N}, r={R}, p={P}")
    if len(set(bytes.fromhex(match[4]))) < SALT_BYTES // 2:
        raise InvalidArgument(f"{name}: the salt must be random bytes (too few distinct values)")
    return text


def check_code_matches(code: str, stored: str) -> bool:
    """Does ``code`` give the stored hash? False for a malformed stored value. The scrypt
    runs in a worker thread of the chaincode server (:func:`run_blocking`), so the other
    transactions go on meanwhile."""
    match = _STORED.fullmatch(stored)
    if match is None:
        return False
    log2_n, r, p = int(match[1]), int(match[2]), int(match[3])
    if not (10 <= log2_n <= 20 and 1 <= r <= 16 and 1 <= p <= 4):
        return False
    digest = run_blocking(_scrypt, code, bytes.fromhex(match[4]), log2_n, r, p)
    return hmac.compare_digest(digest.hex(), match[5])
