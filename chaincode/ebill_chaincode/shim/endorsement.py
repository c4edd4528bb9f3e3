"""Key-level (state-based) endorsement policies, as Go's ``pkg/statebased``.

A :class:`KeyEndorsementPolicy` is a set of organizations (MSP ids), each with a role
(``PEER`` or ``MEMBER``). :meth:`KeyEndorsementPolicy.policy` serializes it as a
``common.SignaturePolicyEnvelope`` that requires a signature of every listed org:
``NOutOf(n, [SignedBy(0), ..., SignedBy(n-1)])`` over ``MSPRole`` principals sorted by
MSP id, so that every endorser computes the same bytes. Store the bytes with
:meth:`~.stub.Stub.set_state_validation_parameter`.

As in Go, parsing keeps only ``ROLE`` principals (other principal kinds, and the rule
of the parsed policy, are not kept), and a policy without orgs serializes as
``NOutOf(0, [])``.
"""

from __future__ import annotations

from ._protos import DecodeError
from ._protos import msp_principal as msp_principal_pb2
from ._protos import policies as policies_pb2

#: The roles a key-level policy may require, by name.
ROLES: dict[str, int] = {
    "MEMBER": msp_principal_pb2.MSPRole.MEMBER,
    "PEER": msp_principal_pb2.MSPRole.PEER,
}


class KeyEndorsementPolicy:
    """The orgs whose endorsement a key requires; built empty or from policy bytes."""

    def __init__(self, policy: bytes | None = None) -> None:
        self._orgs: dict[str, int] = {}
        if policy is not None:
            self._load(bytes(policy))

    def _load(self, policy: bytes) -> None:
        try:
            envelope = policies_pb2.SignaturePolicyEnvelope.FromString(policy)
            for identity in envelope.identities:
                if identity.principal_classification != msp_principal_pb2.MSPPrincipal.ROLE:
                    continue
                role = msp_principal_pb2.MSPRole.FromString(identity.principal)
                self._orgs[role.msp_identifier] = role.role
        except DecodeError as exc:
            raise ValueError(f"not a serialized SignaturePolicyEnvelope: {exc}") from exc

    def add_orgs(self, role: str, *msp_ids: str) -> None:
        """Require an endorsement by ``role`` ("PEER" or "MEMBER") of each org."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {sorted(ROLES)}, got {role!r}")
        if any(not msp_id for msp_id in msp_ids):
            raise ValueError("MSP id must not be empty")
        for msp_id in msp_ids:
            self._orgs[msp_id] = ROLES[role]

    def del_orgs(self, *msp_ids: str) -> None:
        """No longer require the endorsement of these orgs (unknown ids are ignored)."""
        for msp_id in msp_ids:
            self._orgs.pop(msp_id, None)

    def list_orgs(self) -> list[str]:
        """The orgs that must endorse, sorted."""
        return sorted(self._orgs)

    def role_of(self, msp_id: str) -> str | None:
        """The role name required of ``msp_id`` (None if not listed or not PEER/MEMBER)."""
        role = self._orgs.get(msp_id)
        return next((name for name, value in ROLES.items() if value == role), None)

    def policy(self) -> bytes:
        """The serialized ``SignaturePolicyEnvelope`` requiring all listed orgs."""
        msp_ids = self.list_orgs()
        principals = [
            msp_principal_pb2.MSPPrincipal(
                principal_classification=msp_principal_pb2.MSPPrincipal.ROLE,
                principal=msp_principal_pb2.MSPRole(
                    msp_identifier=msp_id, role=self._orgs[msp_id]
                ).SerializeToString(deterministic=True),
            )
            for msp_id in msp_ids
        ]
        rules = [policies_pb2.SignaturePolicy(signed_by=index) for index in range(len(msp_ids))]
        envelope = policies_pb2.SignaturePolicyEnvelope(
            version=0,
            rule=policies_pb2.SignaturePolicy(
                n_out_of=policies_pb2.SignaturePolicy.NOutOf(n=len(msp_ids), rules=rules)
            ),
            identities=principals,
        )
        return bytes(envelope.SerializeToString(deterministic=True))
