"""Who may do what: every access rule of the contract lives here.

Callers are identified by their MSP and the Fabric CA attributes in their certificate
(read with ``ClientIdentity.get_attribute``). A role counts only in its own MSP:

==========  ============  ==================================================================
role        MSP           attributes
==========  ============  ==================================================================
finance     FinanceMSP    role=finance: registers units, grants and reconciles stock
platform    FinanceMSP    role=platform: the finance department's public platform, through
                          which payers act; no personal attribute (see :mod:`.privacy`)
issuer      UnitsMSP      role=issuer, unit=<unit code>: issues and red-letters
clerk       UnitsMSP      role=clerk, unit=<unit code>: reads its unit's data, issues nothing
reimburser  InsuranceMSP  role=reimburser, reimburser=<reimburser id>
supervisor  AuditMSP      role=supervisor: reads everything, changes nothing
==========  ============  ==================================================================

:data:`RULES` is the table a reader checks: function -> roles that may call it, and the
per-object rule applied once the object is loaded; both are read from the contract's
interface (:mod:`.interface`, the one declaration), the checks are here. Every refusal
is ``Forbidden`` with a message saying why. The order in every function is: arguments
validated, then :func:`allow` (the table), then the object loaded and its per-object
rule, then the life-cycle rules, then writes.

Payers: no certificate that signs a transaction carries a personal attribute
(certificates are in every block). The platform authenticates the person off-chain
and passes the payer's {type, id} and the bill's salt as transient data; every payer
action (read own bill, list own bills, authorise, revoke) first recomputes the bill's
payerHash from them (:func:`require_payer_of`).

Why ReadBill is not open to the whole channel: the record is for the parties of the
bill: its unit, finance, supervisors, the reimbursers the payer authorised and the
payer. Anyone may call VerifyBill, which needs the check code and answers
genuine/status without personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..shim.errors import Forbidden
from ..shim.identity import ClientIdentity, IdentityError
from ..shim.stub import Stub
from . import interface
from .clock import check_proposal_time
from .privacy import PayerClaim
from .vocabulary import (
    AUDIT_MSP,
    CLERK,
    FINANCE,
    FINANCE_MSP,
    INSURANCE_MSP,
    ISSUER,
    PLATFORM,
    REIMBURSER,
    ROLE_MSP,
    SUPERVISOR,
    UNITS_MSP,
)

#: Functions anyone may call, without even a usable identity (they never call allow).
ANYONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rule:
    """Who may call a function, and the per-object rule (in words) checked after."""

    roles: frozenset[str]
    scope: str = ""


def _scope_text(function: interface.Function) -> str:
    parts = [interface.SCOPES[name] for name in function.scope]
    if function.scope_note:
        parts.append(function.scope_note)
    return "; ".join(parts)


UNIT_STAFF = interface.UNIT_STAFF
READERS = interface.READERS

#: function -> Rule, read from the interface (:data:`.interface.FUNCTIONS`).
RULES: dict[str, Rule] = {
    name: Rule(function.roles, _scope_text(function))
    for name, function in interface.FUNCTIONS.items()
}


@dataclass(frozen=True)
class Actor:
    """The caller, as the access rules see it."""

    msp_id: str
    role: str | None  # None: no role honoured in this MSP
    role_attribute: str | None
    unit: str | None
    reimburser: str | None
    certificate_id: str

    @property
    def actor_id(self) -> str:
        """The id written to records' lastAction (the certificate's subject and issuer)."""
        return self.certificate_id

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
    }.get(actor.role or "")
    if missing:
        raise Forbidden(f"{function}: caller has role {actor.role} but no {missing} attribute")


def allow(stub: Stub, function: str) -> Actor:
    """The caller, if :data:`RULES` lets its role call ``function``; else Forbidden."""
    rule = RULES[function]
    check_proposal_time(stub)
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


def require_payer_of(
    actor: Actor, expected_hash: str, claim: PayerClaim | None, function: str
) -> None:
    """The platform acts only for the payer of the bill: transient payer + salt give the hash."""
    if actor.role != PLATFORM:
        return
    if claim is None:
        raise Forbidden(
            f"{function}: the platform proves a bill is the payer's with transient payer"
            " {type, id} and payerSalt; none given"
        )
    if not claim.owns(expected_hash):
        raise Forbidden(
            f"{function}: the payer and salt given do not give this payerHash; a payer acts"
            " only on its own bills"
        )


def require_bill_reader(
    actor: Actor, bill: dict[str, Any], claim: PayerClaim | None, function: str
) -> None:
    """ReadBill: finance and supervisors read all; the others only the bills they are party to."""
    require_own_unit(actor, bill["unitCode"], function)
    require_authorised(actor, bill, function)
    require_payer_of(actor, bill["payerHash"], claim, function)


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


__all__ = [
    "ANYONE",
    "AUDIT_MSP",
    "CLERK",
    "FINANCE",
    "FINANCE_MSP",
    "INSURANCE_MSP",
    "ISSUER",
    "PLATFORM",
    "READERS",
    "REIMBURSER",
    "ROLE_MSP",
    "RULES",
    "SUPERVISOR",
    "UNITS_MSP",
    "UNIT_STAFF",
    "Actor",
    "Rule",
    "allow",
    "caller",
]
