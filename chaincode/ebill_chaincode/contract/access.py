"""Who may do what: every access rule of the contract lives here.

Refusals raise ``Forbidden`` with a message that says why.
"""

from __future__ import annotations

from ..shim.errors import Forbidden
from ..shim.identity import ClientIdentity, IdentityError
from ..shim.stub import Stub

UNITS_MSP = "UnitsMSP"
ROLE_ATTRIBUTE = "role"
UNIT_ATTRIBUTE = "unit"
ISSUER_ROLE = "issuer"


def caller(stub: Stub) -> ClientIdentity:
    """The submitting client's identity; Forbidden if it is not a usable X.509 identity."""
    try:
        return ClientIdentity.from_creator(stub.creator)
    except IdentityError as exc:
        raise Forbidden(f"caller identity is not usable: {exc}") from None


def require_issuer(identity: ClientIdentity, action: str = "IssueBill") -> None:
    """The caller must be in UnitsMSP with certificate attribute role=issuer."""
    required = f"{action} requires role {ISSUER_ROLE} in {UNITS_MSP}"
    if identity.msp_id != UNITS_MSP:
        raise Forbidden(f"{required}; caller is in {identity.msp_id or 'no MSP'}")
    role = identity.get_attribute(ROLE_ATTRIBUTE)
    if role is None:
        raise Forbidden(f"{required}; caller has no role attribute")
    if role != ISSUER_ROLE:
        raise Forbidden(f"{required}; caller has role {role}")


def require_own_unit(identity: ClientIdentity, unit_code: str, action: str = "IssueBill") -> None:
    """A unit acts only on its own bills: certificate attribute unit must equal unit_code."""
    unit = identity.get_attribute(UNIT_ATTRIBUTE)
    if unit is None:
        raise Forbidden(f"{action} requires the caller's unit attribute; caller has none")
    if unit != unit_code:
        raise Forbidden(
            f"{action}: a unit handles only its own bills; caller's unit is {unit},"
            f" the bill's unitCode is {unit_code}"
        )
