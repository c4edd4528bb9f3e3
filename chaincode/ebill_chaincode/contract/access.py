"""Who may do what: every access rule of the contract lives here.

Callers are identified by their MSP and the Fabric CA attributes in their certificate
(read with ``ClientIdentity.get_attribute``). A role counts only in its own MSP:

==========  ============  ==================================================================
role        MSP           attributes
==========  ============  ==================================================================
finance     FinanceMSP    role=finance: registers units, grants and reconciles stock
payer       FinanceMSP    role=payer, payerType=person|company, payerId=<ID / credit code>
                          (payers are clients of the finance department's public platform)
issuer      UnitsMSP      role=issuer, unit=<unit code>: issues and red-letters
clerk       UnitsMSP      role=clerk, unit=<unit code>: reads its unit's data, issues nothing
reimburser  InsuranceMSP  role=reimburser, reimburser=<reimburser id>
supervisor  AuditMSP      role=supervisor: reads everything, changes nothing
==========  ============  ==================================================================

:data:`RULES` is the table a reader checks: function -> roles that may call it, and the
per-object rule applied once the object is loaded. Every refusal is ``Forbidden`` with
a message saying why. The order in every function is: arguments validated, then
:func:`allow` (the table), then the object loaded and its per-object rule, then the
life-cycle rules, then writes.

Why ReadBill is not open to the whole channel: the public record carries the check
code (whoever reads it could then "verify" a bill they never held) and the line items
(drug and treatment names). Anyone may call VerifyBill, which needs the check code and
answers genuine/status without personal data; the full record is for the parties of
the bill: its unit, finance, supervisors, the reimbursers the payer authorised and the
payer (who proves it with the bill's salt, see :mod:`.privacy`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from ..shim.errors import Forbidden
from ..shim.identity import ClientIdentity, IdentityError
from ..shim.stub import Stub
from .model import PAYER_TYPES
from .privacy import payer_hash

FINANCE_MSP = "FinanceMSP"
UNITS_MSP = "UnitsMSP"
INSURANCE_MSP = "InsuranceMSP"
AUDIT_MSP = "AuditMSP"

FINANCE = "finance"
PAYER = "payer"
ISSUER = "issuer"
CLERK = "clerk"
REIMBURSER = "reimburser"
SUPERVISOR = "supervisor"

#: The MSP in which each role attribute is honoured.
ROLE_MSP = {
    FINANCE: FINANCE_MSP,
    PAYER: FINANCE_MSP,
    ISSUER: UNITS_MSP,
    CLERK: UNITS_MSP,
    REIMBURSER: INSURANCE_MSP,
    SUPERVISOR: AUDIT_MSP,
}

#: Functions anyone may call, without even a usable identity (they never call allow).
ANYONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rule:
    """Who may call a function, and the per-object rule (in words) checked after."""

    roles: frozenset[str]
    scope: str = ""


def _rule(*roles: str, scope: str = "") -> Rule:
    return Rule(frozenset(roles), scope)


UNIT_STAFF = (ISSUER, CLERK)
READERS = (FINANCE, SUPERVISOR)

RULES: dict[str, Rule] = {
    "Ping": Rule(ANYONE),
    "VerifyBill": Rule(ANYONE, "needs the check code; answers without personal data"),
    # units
    "RegisterUnit": _rule(FINANCE),
    "SuspendUnit": _rule(FINANCE),
    "ResumeUnit": _rule(FINANCE),
    "ReadUnit": _rule(*READERS, *UNIT_STAFF, scope="unit staff: own unit only"),
    "ListUnits": _rule(*READERS),
    # stock
    "ApplyStock": _rule(ISSUER, scope="own unit only"),
    "ApproveStock": _rule(FINANCE),
    "RejectStock": _rule(FINANCE),
    "ReconcileStock": _rule(FINANCE),
    "ReadStock": _rule(*READERS, *UNIT_STAFF, scope="unit staff: own unit's batches only"),
    "ListStock": _rule(*READERS, *UNIT_STAFF, scope="unit staff: own unit only"),
    # bills
    "IssueBill": _rule(ISSUER, scope="own unit only"),
    "ReadBill": _rule(
        *READERS,
        *UNIT_STAFF,
        REIMBURSER,
        PAYER,
        scope="unit staff: own unit's bills; reimburser: authorised on the bill;"
        " payer: own bill, proved with the salt",
    ),
    "ReadBillPrivate": _rule(
        SUPERVISOR,
        *UNIT_STAFF,
        REIMBURSER,
        scope="unit staff: own unit's bills; reimburser: currently authorised on the bill",
    ),
    "RedLetterBill": _rule(ISSUER, scope="own unit's bills only"),
    "ArchiveBill": _rule(FINANCE, ISSUER, scope="issuer: own unit's bills only"),
    # reimbursement
    "AuthoriseReimburser": _rule(PAYER, scope="own bill, proved with the salt"),
    "RevokeAuthorisation": _rule(PAYER, scope="own bill, proved with the salt"),
    "LockBill": _rule(REIMBURSER, scope="authorised on the bill"),
    "ClaimBill": _rule(REIMBURSER, scope="authorised on the bill and holding its lock"),
    "UnlockBill": _rule(
        REIMBURSER, FINANCE, scope="reimburser: holding the lock; finance: any (stale lock)"
    ),
    # supervision
    "BillHistory": _rule(*READERS),
    "ListBillsByUnit": _rule(*READERS, *UNIT_STAFF, scope="unit staff: own unit only"),
    "TotalsByUnit": _rule(*READERS, *UNIT_STAFF, scope="unit staff: own unit only"),
    "ListBillsByPayer": _rule(*READERS, PAYER, scope="payer: own hash, proved with the salt"),
    "ListBillsByStatus": _rule(*READERS),
    "ListBillsByPeriod": _rule(*READERS),
    "ListAnomalies": _rule(*READERS),
    "RecordAnomalies": _rule(FINANCE, scope="anchors the finance chaincode's anomaly spool"),
}


@dataclass(frozen=True)
class Actor:
    """The caller, as the access rules see it."""

    msp_id: str
    role: str | None  # None: no role honoured in this MSP
    role_attribute: str | None
    unit: str | None
    reimburser: str | None
    payer_type: str | None
    payer_id: str | None
    certificate_id: str

    @property
    def actor_id(self) -> str:
        """The id written to records' lastAction. A payer's certificate names the person,
        so payers are written as "payer" (the record's payerHash already links them)."""
        return PAYER if self.role == PAYER else self.certificate_id

    def describe(self) -> str:
        if self.role is not None:
            detail = {
                ISSUER: self.unit,
                CLERK: self.unit,
                REIMBURSER: self.reimburser,
            }.get(self.role)
            suffix = f" {detail}" if detail else ""
            return f"{self.role}{suffix} ({self.msp_id})"
        if self.role_attribute is None:
            return f"a {self.msp_id or 'no-MSP'} identity without a role attribute"
        return f"role {self.role_attribute} in {self.msp_id}, where that role is not honoured"


def caller(stub: Stub) -> Actor:
    """The submitting client; Forbidden if it is not a usable X.509 identity."""
    try:
        identity = ClientIdentity.from_creator(stub.creator)
    except IdentityError as exc:
        raise Forbidden(f"caller identity is not usable: {exc}") from None
    attribute = identity.get_attribute("role")
    role = attribute if attribute in ROLE_MSP and ROLE_MSP[attribute] == identity.msp_id else None
    return Actor(
        msp_id=identity.msp_id,
        role=role,
        role_attribute=attribute,
        unit=identity.get_attribute("unit"),
        reimburser=identity.get_attribute("reimburser"),
        payer_type=identity.get_attribute("payerType"),
        payer_id=identity.get_attribute("payerId"),
        certificate_id=identity.get_id(),
    )


def _roles_text(roles: frozenset[str]) -> str:
    order = list(ROLE_MSP)
    return ", ".join(f"{r} ({ROLE_MSP[r]})" for r in sorted(roles, key=order.index))


def _require_role_attributes(actor: Actor, function: str) -> None:
    missing = {
        ISSUER: "unit" if not actor.unit else None,
        CLERK: "unit" if not actor.unit else None,
        REIMBURSER: "reimburser" if not actor.reimburser else None,
        PAYER: "payerId" if not actor.payer_id else None,
    }.get(actor.role or "")
    if missing:
        raise Forbidden(f"{function}: caller has role {actor.role} but no {missing} attribute")
    if actor.role == PAYER and actor.payer_type not in PAYER_TYPES:
        raise Forbidden(
            f"{function}: caller has role payer but payerType is {actor.payer_type!r},"
            ' not "person" or "company"'
        )


def allow(stub: Stub, function: str) -> Actor:
    """The caller, if :data:`RULES` lets its role call ``function``; else Forbidden."""
    rule = RULES[function]
    actor = caller(stub)
    if rule.roles and actor.role not in rule.roles:
        raise Forbidden(
            f"{function} may be called by {_roles_text(rule.roles)}; caller is {actor.describe()}"
        )
    _require_role_attributes(actor, function)
    return actor


# --- per-object rules -------------------------------------------------------------------


def require_own_unit(actor: Actor, unit_code: str, function: str) -> None:
    """Unit staff act only on their own unit's units, stock and bills."""
    if actor.role in UNIT_STAFF and actor.unit != unit_code:
        raise Forbidden(
            f"{function}: a unit handles only its own data; caller's unit is {actor.unit},"
            f" this belongs to {unit_code}"
        )


def is_authorised(bill: dict[str, Any], reimburser_id: str | None) -> bool:
    """Has the payer authorised this reimburser on the bill (and not revoked it)?"""
    return reimburser_id is not None and reimburser_id in bill.get("authorised", {})


def require_authorised(actor: Actor, bill: dict[str, Any], function: str) -> None:
    """A reimburser acts only on bills the payer authorised it to use."""
    if actor.role == REIMBURSER and not is_authorised(bill, actor.reimburser):
        raise Forbidden(
            f"{function}: reimburser {actor.reimburser} is not authorised on bill"
            f" {bill['billCode']}/{bill['billNumber']}; the payer must authorise it first"
        )


def owns_hash(actor: Actor, expected_hash: str, salt: bytes | None) -> bool:
    """Does the salt with the caller's payerType/payerId give ``expected_hash``?"""
    if salt is None or actor.payer_type is None or actor.payer_id is None:
        return False
    computed = payer_hash(salt, actor.payer_type, actor.payer_id)
    return hmac.compare_digest(computed, expected_hash)


def require_payer_of(actor: Actor, expected_hash: str, salt: bytes | None, function: str) -> None:
    """A payer acts only on its own bills: it proves them with the salt."""
    if actor.role != PAYER:
        return
    if salt is None:
        raise Forbidden(
            f"{function}: a payer proves a bill is theirs with the bill's salt"
            " (argument saltHex or transient payerSalt); none given"
        )
    if not owns_hash(actor, expected_hash, salt):
        raise Forbidden(
            f"{function}: the salt with the caller's payerType and payerId does not give"
            " this payerHash; a payer acts only on its own bills"
        )


def require_bill_reader(
    actor: Actor, bill: dict[str, Any], salt: bytes | None, function: str
) -> None:
    """ReadBill: finance and supervisors read all; the others only the bills they are party to."""
    require_own_unit(actor, bill["unitCode"], function)
    require_authorised(actor, bill, function)
    require_payer_of(actor, bill["payerHash"], salt, function)


def require_private_reader(actor: Actor, bill: dict[str, Any], function: str) -> None:
    """ReadBillPrivate: supervisors, the issuing unit, reimbursers authorised now."""
    require_own_unit(actor, bill["unitCode"], function)
    require_authorised(actor, bill, function)


def require_lock_holder(actor: Actor, bill: dict[str, Any], function: str) -> None:
    """Only the reimburser holding the lock claims or unlocks (finance may release any)."""
    holder = bill.get("lock", {}).get("reimburserId")
    if actor.role == REIMBURSER and holder != actor.reimburser:
        raise Forbidden(
            f"{function}: bill {bill['billCode']}/{bill['billNumber']} is locked by"
            f" {holder}, not by {actor.reimburser}; only the lock holder may do this"
        )
