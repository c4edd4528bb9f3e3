"""Personal data: the payer hash, the transient data, the private collection, sealed replies.

Nothing personal is ever an argument, an event, an error text or a certificate
attribute: arguments and the creator certificate are written to every block.

Issuance is two transactions (see :mod:`.bills`):

1. ``DepositBillPrivate`` (issuer; endorsed by the units peer alone): the whole bill
   travels as TRANSIENT data and only the private collection ``billPrivate`` is
   written. The collection has its own endorsement policy ``OR('UnitsMSP.peer')``, so
   Fabric validates a transaction that writes only the collection against that policy
   alone (``policyCheckerV20``: a collection EP checked means the chaincode EP is not),
   and the finance peer, which is not a member, never sees the personal data.
2. ``IssueBill`` (issuer; endorsed by finance and units as always) carries only the
   public part and checks, with ``GetPrivateDataHash`` (which non-members may call),
   that the deposited seal matches it.

===============  ======================================================================
transient        content
===============  ======================================================================
bill             Deposit: the full issuance JSON (public part + items, clerk, reviewer...)
payer            Deposit: {"type", "id", "name"}; payer actions: {"type", "id"}
payerSalt        16 to 64 random bytes chosen by the issuer's system (never an argument)
medical          Deposit, optional: the medical extension (paid amounts sum to the total)
checkCodeHash    IssueBill / RedLetterBill: the salted scrypt hash of the check code,
                 computed by the issuer's system (the code itself never reaches the chain)
bills            DepositBillsPrivate: JSON array of {bill, payer, payerSalt (hex), medical?}
checkCodeHashes  IssueBills: JSON array of the bills' check-code hashes, in order
replyKey         functions that answer private data: the caller's X25519 public key (32
                 bytes); the answer is encrypted to it (see :func:`seal_reply`)
===============  ======================================================================

Private keys (collection ``billPrivate``, members UnitsMSP, InsuranceMSP, AuditMSP):
``bill/code/number`` holds {payer, medical?, salt, items, clerk, reviewer?, remark?};
``billseal/code/number`` holds the canonical JSON {billCode, billNumber, unitCode,
totalAmount, payerHash}, whose hash any peer can read and IssueBill compares.

The public record keeps ``payerHash = hex sha256(salt || payerType || U+0000 ||
payerId)``. Payers act through the finance department's public platform (role
``platform``, FinanceMSP, no personal attribute): the platform authenticates the
person off-chain and passes the payer's {type, id} and the bill's salt as transient
data; the contract recomputes the hash before any payer action.

Salts: a payer's salt is random. One salt per payer (the platform's choice) lets
ListBillsByPayer find all their bills; one per bill makes bills unlinkable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..shim.contract import canonical_json
from ..shim.errors import InvalidArgument
from ..shim.stub import Stub
from .model import Bill, MedicalInfo, Payer, decode_json
from .vocabulary import (
    COLLECTION as COLLECTION,
)
from .vocabulary import (
    MAX_SALT_BYTES,
    MIN_SALT_BYTES,
    PAYER_TYPES,
    TRANSIENT_BILL,
    TRANSIENT_MEDICAL,
    TRANSIENT_PAYER,
    TRANSIENT_REPLY_KEY,
    TRANSIENT_SALT,
)
from .vocabulary import (
    TRANSIENT_BILLS as TRANSIENT_BILLS,
)
from .vocabulary import (
    TRANSIENT_CHECK_CODE_HASH as TRANSIENT_CHECK_CODE_HASH,
)
from .vocabulary import (
    TRANSIENT_CHECK_CODE_HASHES as TRANSIENT_CHECK_CODE_HASHES,
)

REPLY_ALGORITHM = "X25519-HKDF-SHA256-AES256GCM"
REPLY_INFO = b"ebill sealed reply v1"


def payer_hash(salt: bytes, payer_type: str, payer_id: str) -> str:
    """hex sha256(salt || payerType || U+0000 || payerId)."""
    material = salt + payer_type.encode("utf-8") + b"\x00" + payer_id.encode("utf-8")
    return hashlib.sha256(material).hexdigest()


def check_salt(salt: bytes, name: str) -> bytes:
    """The salt if it is 16..64 bytes and looks random; InvalidArgument naming ``name``.

    Degenerate salts (all bytes equal, or fewer distinct byte values than half the
    length, which 16 random bytes practically never have) are refused.
    """
    if not MIN_SALT_BYTES <= len(salt) <= MAX_SALT_BYTES:
        raise InvalidArgument(f"{name}: must be {MIN_SALT_BYTES} to {MAX_SALT_BYTES} bytes")
    if len(set(salt)) < len(salt) // 2:
        raise InvalidArgument(
            f"{name}: must be random bytes (too few distinct byte values, e.g. all zero)"
        )
    return salt


def salt_given(stub: Stub) -> bytes | None:
    """The salt in transient ``payerSalt``, checked, or None."""
    salt = stub.transient.get(TRANSIENT_SALT)
    return None if salt is None else check_salt(salt, f"transient {TRANSIENT_SALT}")


def _transient_json(stub: Stub, name: str) -> Any:
    raw = stub.transient[name]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidArgument(f"transient {name}: must be UTF-8 JSON") from None
    return decode_json(text, f"transient {name}")


def refuse_unknown_transient(stub: Stub, allowed: tuple[str, ...]) -> None:
    """InvalidArgument if the transient map holds a name the function does not take."""
    unknown = sorted(set(stub.transient) - set(allowed))
    if unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:5])
        raise InvalidArgument(f"transient {shown}: unknown transient data")


@dataclass(frozen=True)
class PayerClaim:
    """Who the platform says the payer is, and the salt that proves the bill is theirs."""

    payer_type: str
    payer_id: str
    salt: bytes

    def owns(self, expected_hash: str) -> bool:
        computed = payer_hash(self.salt, self.payer_type, self.payer_id)
        return hmac.compare_digest(computed, expected_hash)


def payer_claim(stub: Stub) -> PayerClaim | None:
    """The transient {payer: {type, id}, payerSalt} of a payer action, or None if absent.

    Raises InvalidArgument if only one of the two is given or either is malformed (the
    message never repeats the id).
    """
    has_payer, has_salt = TRANSIENT_PAYER in stub.transient, TRANSIENT_SALT in stub.transient
    if not has_payer and not has_salt:
        return None
    if not (has_payer and has_salt):
        missing = TRANSIENT_SALT if has_payer else TRANSIENT_PAYER
        raise InvalidArgument(f"transient {missing}: required with transient payer/payerSalt")
    value = _transient_json(stub, TRANSIENT_PAYER)
    if not isinstance(value, dict) or set(value) - {"type", "id", "name"}:
        raise InvalidArgument('transient payer: must be a JSON object {"type", "id"}')
    if value.get("type") not in PAYER_TYPES:
        raise InvalidArgument('transient payer.type: must be "person" or "company"')
    payer_id = value.get("id")
    if not isinstance(payer_id, str) or not payer_id.strip() or len(payer_id) > 64:
        raise InvalidArgument("transient payer.id: must be a non-blank string of at most 64")
    salt = check_salt(stub.transient[TRANSIENT_SALT], f"transient {TRANSIENT_SALT}")
    return PayerClaim(value["type"], payer_id, salt)


@dataclass(frozen=True)
class PrivatePart:
    """A bill as deposited: the validated full bill and its personal part."""

    bill: Bill
    payer: Payer
    medical: MedicalInfo | None
    salt: bytes

    @classmethod
    def from_transient(cls, stub: Stub) -> PrivatePart:
        """Read transient bill, payer, payerSalt, medical?; InvalidArgument on any rule."""
        refuse_unknown_transient(
            stub, (TRANSIENT_BILL, TRANSIENT_PAYER, TRANSIENT_SALT, TRANSIENT_MEDICAL)
        )
        for name in (TRANSIENT_BILL, TRANSIENT_PAYER, TRANSIENT_SALT):
            if name not in stub.transient:
                raise InvalidArgument(f"transient {name}: required")
        medical = None
        if TRANSIENT_MEDICAL in stub.transient:
            medical = _transient_json(stub, TRANSIENT_MEDICAL)
        return cls.of(
            _transient_json(stub, TRANSIENT_BILL),
            _transient_json(stub, TRANSIENT_PAYER),
            check_salt(stub.transient[TRANSIENT_SALT], f"transient {TRANSIENT_SALT}"),
            medical,
        )

    @classmethod
    def of(cls, bill_value: Any, payer_value: Any, salt: bytes, medical_value: Any) -> PrivatePart:
        """Validate decoded JSON values (and a checked salt); InvalidArgument on any rule."""
        bill = Bill.parse(bill_value)
        payer = Payer.parse(payer_value, "payer")
        medical = None
        if medical_value is not None:
            medical = MedicalInfo.parse(medical_value, "medical")
            if medical.paid_total != bill.total_amount:
                raise InvalidArgument(
                    f"medical: fundPaid + personalAccountPaid + ownPaid = {medical.paid_total}"
                    f" fen but totalAmount is {bill.total_amount}"
                )
        return cls(bill, payer, medical, salt)

    @classmethod
    def batch_from_transient(cls, stub: Stub, limit: int) -> list[PrivatePart]:
        """Transient ``bills``: a JSON array of 1..``limit`` objects {bill, payer,
        payerSalt (hex), medical?}; InvalidArgument naming the element and the rule."""
        refuse_unknown_transient(stub, (TRANSIENT_BILLS,))
        if TRANSIENT_BILLS not in stub.transient:
            raise InvalidArgument(f"transient {TRANSIENT_BILLS}: required")
        values = _transient_json(stub, TRANSIENT_BILLS)
        if not isinstance(values, list) or not 1 <= len(values) <= limit:
            raise InvalidArgument(
                f"transient {TRANSIENT_BILLS}: must be a JSON array of 1 to {limit} bills"
            )
        parts = []
        for index, value in enumerate(values):
            where = f"transient {TRANSIENT_BILLS}[{index}]"
            if not isinstance(value, dict) or set(value) - {
                "bill",
                "payer",
                "payerSalt",
                "medical",
            }:
                raise InvalidArgument(
                    f"{where}: must be an object {{bill, payer, payerSalt, medical?}}"
                )
            missing = [n for n in ("bill", "payer", "payerSalt") if n not in value]
            if missing:
                raise InvalidArgument(f"{where}.{missing[0]}: required")
            salt_hex = value["payerSalt"]
            if not isinstance(salt_hex, str) or not re.fullmatch(r"(?:[0-9a-f]{2})+", salt_hex):
                raise InvalidArgument(f"{where}.payerSalt: must be lower-case hex")
            try:
                salt = check_salt(bytes.fromhex(salt_hex), f"{where}.payerSalt")
                parts.append(cls.of(value["bill"], value["payer"], salt, value.get("medical")))
            except InvalidArgument as error:
                raise InvalidArgument(f"{where}: {error.text}", error.code) from None
        return parts

    @property
    def payer_hash(self) -> str:
        return payer_hash(self.salt, self.payer.type, self.payer.id)

    def to_json(self) -> dict[str, Any]:
        """The private record: personal data, line items and staff names."""
        full = self.bill.public_json()
        result: dict[str, Any] = {
            "payer": self.payer.to_json(),
            "salt": self.salt.hex(),
            **{
                name: full[name]
                for name in ("items", "clerk", "reviewer", "remark")
                if name in full
            },
        }
        if self.medical is not None:
            result["medical"] = self.medical.to_json()
        return result

    def seal(self) -> bytes:
        return seal(
            self.bill.bill_code,
            self.bill.bill_number,
            self.bill.unit_code,
            self.bill.total_amount,
            self.payer_hash,
        )


def seal(bill_code: str, bill_number: str, unit_code: str, total: int, hash_: str) -> bytes:
    """The value of the private key ``billseal``: what binds the deposit to the bill."""
    return canonical_json(
        {
            "billCode": bill_code,
            "billNumber": bill_number,
            "unitCode": unit_code,
            "totalAmount": total,
            "payerHash": hash_,
        }
    )


# --- sealed replies ----------------------------------------------------------------------


def reply_key(stub: Stub) -> X25519PublicKey:
    """The caller's X25519 public key from transient ``replyKey``; InvalidArgument if absent."""
    raw = stub.transient.get(TRANSIENT_REPLY_KEY)
    if raw is None:
        raise InvalidArgument(
            f"transient {TRANSIENT_REPLY_KEY}: required (32-byte X25519 public key); private"
            " answers are returned only encrypted, so that no block can hold them"
        )
    if len(raw) != 32:
        raise InvalidArgument(f"transient {TRANSIENT_REPLY_KEY}: must be 32 bytes (X25519)")
    return X25519PublicKey.from_public_bytes(raw)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def seal_reply(recipient: X25519PublicKey, plaintext: bytes, function: str) -> dict[str, Any]:
    """Encrypt an answer to ``recipient``: ephemeral X25519, HKDF-SHA256, AES-256-GCM.

    The key is HKDF(shared secret, salt = ephemeral || recipient public key, info
    :data:`REPLY_INFO`); the AAD is the function name. Each call is random, so an
    answer that a client submits instead of evaluating is ciphertext in the block.
    """
    ephemeral = X25519PrivateKey.generate()
    raw = serialization.Encoding.Raw
    ephemeral_public = ephemeral.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
    recipient_public = recipient.public_bytes(raw, serialization.PublicFormat.Raw)
    key = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=ephemeral_public + recipient_public,
        info=REPLY_INFO,
    ).derive(ephemeral.exchange(recipient))
    nonce = os.urandom(12)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, function.encode("utf-8"))
    return {
        "sealed": {
            "alg": REPLY_ALGORITHM,
            "ephemeralKey": _b64(ephemeral_public),
            "nonce": _b64(nonce),
            "ciphertext": _b64(ciphertext),
        }
    }
