"""Personal data: the payer hash, the transient issuance data, the private record.

Issuance takes the personal part of a bill as TRANSIENT data (kept out of the
transaction and the blocks):

===========  ========  ===========================================================
transient    required  content
===========  ========  ===========================================================
payer        yes       JSON {"type": "person"|"company", "id": ..., "name": ...}
payerSalt    yes       16 to 64 random bytes, chosen by the issuer's system
medical      no        JSON medical extension (its paid amounts sum to totalAmount)
===========  ========  ===========================================================

It is stored in the private data collection ``billPrivate`` (members UnitsMSP,
InsuranceMSP, AuditMSP) under the bill's key, as {payer, medical, salt (hex)}. The
finance department endorses issuance without being a member: issuance only *writes*
the collection, which a non-member peer can do; nothing an update function does reads
it. The public record keeps only

    payerHash = hex sha256(salt || payerType || U+0000 || payerId)

and the indexes use payerHash, never the payer id.

A payer proves a bill is theirs by giving the salt (the issuer hands it over with the
bill): the contract recomputes the hash from the salt and the payerType/payerId
attributes of the caller's certificate. The salt is accepted as the argument
``saltHex`` or, better for submitted transactions, as transient ``payerSalt``:
arguments of a submitted transaction are written to the block, and a published salt
lets anyone test candidate ID numbers against the hash.

ListBillsByPayer groups bills by payerHash, so it finds all of a payer's bills only
when the payer's salt is the same on every bill (a personal salt the platform gives
the payer, presented when paying); with a fresh salt per bill every hash lists one
bill and the bills of one payer cannot be linked to each other. The contract works
either way; the choice is the platform's.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from ..shim.errors import InvalidArgument
from ..shim.stub import Stub
from .model import MedicalInfo, Payer, decode_json

COLLECTION = "billPrivate"
TRANSIENT_PAYER = "payer"
TRANSIENT_MEDICAL = "medical"
TRANSIENT_SALT = "payerSalt"
MIN_SALT_BYTES = 16
MAX_SALT_BYTES = 64


def payer_hash(salt: bytes, payer_type: str, payer_id: str) -> str:
    """hex sha256(salt || payerType || U+0000 || payerId)."""
    material = salt + payer_type.encode("utf-8") + b"\x00" + payer_id.encode("utf-8")
    return hashlib.sha256(material).hexdigest()


def _check_salt(salt: bytes, name: str) -> bytes:
    if not MIN_SALT_BYTES <= len(salt) <= MAX_SALT_BYTES:
        raise InvalidArgument(f"{name}: must be {MIN_SALT_BYTES} to {MAX_SALT_BYTES} bytes")
    return salt


def salt_given(stub: Stub, salt_hex: str) -> bytes | None:
    """The salt a payer gives: argument saltHex, else transient payerSalt, else None."""
    if salt_hex:
        if not re.fullmatch(r"(?:[0-9a-fA-F]{2})+", salt_hex):
            raise InvalidArgument("saltHex: must be hex digits, two per byte")
        return _check_salt(bytes.fromhex(salt_hex), "saltHex")
    salt = stub.transient.get(TRANSIENT_SALT)
    return None if salt is None else _check_salt(salt, f"transient {TRANSIENT_SALT}")


def _transient_json(stub: Stub, name: str) -> Any:
    raw = stub.transient[name]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidArgument(f"transient {name}: must be UTF-8 JSON") from None
    return decode_json(text, f"transient {name}")


@dataclass(frozen=True)
class PrivatePart:
    """The personal part of a bill, from the issuance's transient data."""

    payer: Payer
    medical: MedicalInfo | None
    salt: bytes

    @classmethod
    def from_transient(cls, stub: Stub, total_amount: int) -> PrivatePart:
        unknown = sorted(set(stub.transient) - {TRANSIENT_PAYER, TRANSIENT_SALT, TRANSIENT_MEDICAL})
        if unknown:
            shown = ", ".join(repr(name[:40]) for name in unknown[:5])
            raise InvalidArgument(f"transient {shown}: unknown transient data")
        for name in (TRANSIENT_PAYER, TRANSIENT_SALT):
            if name not in stub.transient:
                raise InvalidArgument(f"transient {name}: required")
        payer = Payer.parse(_transient_json(stub, TRANSIENT_PAYER), "payer")
        salt = _check_salt(stub.transient[TRANSIENT_SALT], f"transient {TRANSIENT_SALT}")
        medical = None
        if TRANSIENT_MEDICAL in stub.transient:
            medical = MedicalInfo.parse(_transient_json(stub, TRANSIENT_MEDICAL), "medical")
            if medical.paid_total != total_amount:
                raise InvalidArgument(
                    f"medical: fundPaid + personalAccountPaid + ownPaid = {medical.paid_total}"
                    f" fen but totalAmount is {total_amount}"
                )
        return cls(payer, medical, salt)

    @property
    def payer_hash(self) -> str:
        return payer_hash(self.salt, self.payer.type, self.payer.id)

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {"payer": self.payer.to_json(), "salt": self.salt.hex()}
        if self.medical is not None:
            result["medical"] = self.medical.to_json()
        return result
