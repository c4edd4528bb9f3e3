"""The contract's shared words, each defined once: roles and MSP ids, statuses, kinds,
sectors, payer types, anomaly types, transient keys, the payer-hash formula.

A leaf module (it imports nothing of the contract), so that every other module, the
interface (:mod:`.interface`) and the clients can import it without a cycle.
"""

from __future__ import annotations

# --- organisations and roles ---------------------------------------------------------

FINANCE_MSP = "FinanceMSP"
UNITS_MSP = "UnitsMSP"
INSURANCE_MSP = "InsuranceMSP"
AUDIT_MSP = "AuditMSP"
MSP_IDS = (FINANCE_MSP, UNITS_MSP, INSURANCE_MSP, AUDIT_MSP)

FINANCE = "finance"
PLATFORM = "platform"
ISSUER = "issuer"
CLERK = "clerk"
REIMBURSER = "reimburser"
SUPERVISOR = "supervisor"

#: The MSP in which each role attribute (certificate attribute ``role``) is honoured.
ROLE_MSP: dict[str, str] = {
    FINANCE: FINANCE_MSP,
    PLATFORM: FINANCE_MSP,
    ISSUER: UNITS_MSP,
    CLERK: UNITS_MSP,
    REIMBURSER: INSURANCE_MSP,
    SUPERVISOR: AUDIT_MSP,
}
ROLES = tuple(ROLE_MSP)

#: What each role does, and the certificate attributes it needs besides ``role``.
ROLE_MEANINGS: dict[str, str] = {
    FINANCE: "the finance department: registers units, grants and reconciles stock",
    PLATFORM: "the finance department's public platform, through which payers act",
    ISSUER: "an issuing unit's system (attribute unit=<unit code>): issues, red-letters",
    CLERK: "an issuing unit's clerk (attribute unit=<unit code>): reads, issues nothing",
    REIMBURSER: "a reimbursing unit (attribute reimburser=<reimburser id>)",
    SUPERVISOR: "an audit office: reads everything, changes nothing",
}
ROLE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    ISSUER: ("unit",),
    CLERK: ("unit",),
    REIMBURSER: ("reimburser",),
}

#: An org that joined the channel later (``ebill-network add-org``, registered with
#: RegisterOrg) plays one part; the roles honoured in its MSP, for its registered ids.
ORG_PART_INSURANCE = "insurance"
ORG_PART_UNITS = "units"
ORG_PART_AUDIT = "audit"
ORG_PART_ROLES: dict[str, tuple[str, ...]] = {
    ORG_PART_INSURANCE: (REIMBURSER,),
    ORG_PART_UNITS: (ISSUER, CLERK),
    ORG_PART_AUDIT: (SUPERVISOR,),
}
ORG_PARTS = tuple(ORG_PART_ROLES)

# --- statuses and kinds ---------------------------------------------------------------

BILL_ISSUED = "issued"
BILL_LOCKED = "locked"
BILL_PARTIALLY_REIMBURSED = "partially_reimbursed"
BILL_REIMBURSED = "reimbursed"
BILL_RED_LETTERED = "red_lettered"
BILL_ARCHIVED = "archived"
BILL_STATUSES = (
    BILL_ISSUED,
    BILL_LOCKED,
    BILL_PARTIALLY_REIMBURSED,
    BILL_REIMBURSED,
    BILL_RED_LETTERED,
    BILL_ARCHIVED,
)

KIND_NORMAL = "normal"
KIND_RED = "red"
BILL_KINDS = (KIND_NORMAL, KIND_RED)

UNIT_ACTIVE = "active"
UNIT_SUSPENDED = "suspended"
UNIT_STATUSES = (UNIT_ACTIVE, UNIT_SUSPENDED)

BATCH_PENDING = "pending"
BATCH_APPROVED = "approved"
BATCH_REJECTED = "rejected"
BATCH_RECONCILED = "reconciled"
BATCH_STATUSES = (BATCH_PENDING, BATCH_APPROVED, BATCH_REJECTED, BATCH_RECONCILED)

SECTORS = ("medical", "education", "court", "police", "administrative", "other")
PAYER_TYPES = ("person", "company")

# --- anomalies ---------------------------------------------------------------------------

#: Anomaly type -> meaning. Each is also a refusal code (see :mod:`.codes`).
ANOMALY_TYPES: dict[str, str] = {
    "issuance-outside-stock": "a bill number outside the unit's approved, unreconciled stock",
    "issuance-by-suspended-unit": "issuance or red-lettering by a suspended unit",
    "lock-while-locked": "a lock on a bill another lock holds",
    "lock-on-reimbursed-bill": "a lock on a fully reimbursed (closed) bill",
    "lock-on-red-lettered-bill": "a lock on a red-lettered (void) bill",
    "lock-on-archived-bill": "a lock on an archived bill",
    "claim-on-reimbursed-bill": "a claim on a fully reimbursed (closed) bill",
    "claim-on-red-lettered-bill": "a claim on a red-lettered (void) bill",
    "claim-on-archived-bill": "a claim on an archived bill",
    "over-claim": "a claim that would take the reimbursed total above the bill's amount",
    "repeated-claim": "a second claim (or lock) by a reimburser that has claimed the bill",
    "red-letter-while-locked": "a red-letter attempt while a reimburser holds the lock",
    "red-letter-after-claim": "a red-letter attempt on a bill that has been claimed",
}
#: The error kind of each anomaly type's refusal (Conflict unless listed).
ANOMALY_KINDS: dict[str, str] = {
    name: "Forbidden" if name.startswith("issuance-") else "Conflict" for name in ANOMALY_TYPES
}

# --- transient data and the payer hash ----------------------------------------------------

COLLECTION = "billPrivate"
TRANSIENT_BILL = "bill"
TRANSIENT_PAYER = "payer"
TRANSIENT_MEDICAL = "medical"
TRANSIENT_SALT = "payerSalt"
TRANSIENT_CHECK_CODE_HASH = "checkCodeHash"
TRANSIENT_BILLS = "bills"
TRANSIENT_CHECK_CODE_HASHES = "checkCodeHashes"
TRANSIENT_REPLY_KEY = "replyKey"
MIN_SALT_BYTES = 16
MAX_SALT_BYTES = 64

#: How ``payerHash`` is computed (:func:`.privacy.payer_hash` is the code).
PAYER_HASH_FORMULA = (
    "lower-case hex of SHA-256(salt || UTF-8(payerType) || 0x00 || UTF-8(payerId)):"
    " salt is the raw bytes of transient payerSalt (16 to 64 random bytes), 0x00 one zero"
    ' byte (U+0000), payerType "person" or "company"'
)

#: The China Standard Time offset in which the contract takes dates from the tx time.
CHINA_OFFSET = "+08:00"
