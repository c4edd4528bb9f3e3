"""Network: a Fabric channel reached through the Gateway."""

from __future__ import annotations

from ._client import GatewayClient
from .contract import Contract
from .signing_identity import SigningIdentity


class Network:
    """A channel; hands out :class:`~fabricgw.contract.Contract` objects for its chaincodes."""

    def __init__(
        self, *, client: GatewayClient, signing_identity: SigningIdentity, name: str
    ) -> None:
        self._client = client
        self._signing_identity = signing_identity
        self._name = name

    @property
    def name(self) -> str:
        """Channel name."""
        return self._name

    def get_contract(self, chaincode_name: str, contract_name: str | None = None) -> Contract:
        """Return contract ``contract_name`` (or the default one) of chaincode ``chaincode_name``.

        Makes no network call and raises nothing.
        """
        return Contract(
            client=self._client,
            signing_identity=self._signing_identity,
            channel_id=self._name,
            chaincode_name=chaincode_name,
            contract_name=contract_name,
        )


__all__ = ["Network"]
