"""The one way from the party clients and the CLI to the local network (``ebill_network``).

No other ``ebill`` module imports ``ebill_network`` (a unit test checks it), and the
network package imports no ``ebill`` module: dependencies run one way. This adapter
offers what the ``ebill`` command and the demo need: the default ``network.json`` and
the operations of ``ebill network``, with the network's errors turned into e-bill
exceptions. The heavy network modules are imported on first use, so the ``ebill``
command starts as fast as before.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ebill_network.layout import Layout, layout_from_env
from ebill_network.processes import IdentityRefused, NetworkError

from .errors import Conflict, NetworkUnavailable, NotFound

if TYPE_CHECKING:
    from ebill_network.network import Network


def default_network_file() -> Path:
    """The ``network.json`` of the local network in ``EBILL_DATA_DIR`` (default ``.data``)."""
    return layout_from_env().network_file()


def nodes_table(status: dict[str, Any]) -> str:
    """The ``nodes`` of a :meth:`LocalNetwork.status` answer as a human table ("" without)."""
    if "nodes" not in status:
        return ""
    from ebill_network.health import table

    return table(status["nodes"], status.get("leader"))


class LocalNetwork:
    """The local network whose description is ``network_file``: its data folder is the
    file's folder, its ports start at ``EBILL_BASE_PORT``; ``log`` gets a line per step."""

    def __init__(self, network_file: Path, *, log: Callable[[str], None] | None = None) -> None:
        from ebill_network.network import Network

        env = layout_from_env()  # ports from EBILL_BASE_PORT, hosts from EBILL_TOPOLOGY
        layout = Layout(
            data_dir=Path(network_file).resolve().parent,
            base_port=env.base_port,
            topology=env.topology,
        )
        self._network: Network = Network(layout, log=log or (lambda line: None))

    def up(self) -> dict[str, Any]:
        """Bring the network up (create it on first use); its processes once ready.

        Raises NetworkUnavailable naming the step that failed.
        """
        try:
            self._network.up()
        except NetworkError as error:
            raise NetworkUnavailable(f"network up: {error}") from error
        return self._network.status(health_check=False)

    def down(self) -> None:
        """Stop every process, keep the data."""
        self._network.down()

    def clean(self) -> None:
        """Stop every process and remove the data folder."""
        self._network.clean()

    def restart(self, node: str) -> None:
        """Restart one node; return when it is healthy and caught up.

        Raises NetworkUnavailable for an unknown node (listing the names) or one that
        does not come back.
        """
        try:
            self._network.restart(node)
        except NetworkError as error:
            raise NetworkUnavailable(f"network restart: {error}") from error

    def revoke(self, org: str, user: str, *, reason: str = "") -> int:
        """Revoke ``user`` of ``org`` at its CA and in the channel; the config block number.

        Raises NotFound for an identity the CA does not know, Conflict for another CA
        refusal, NetworkUnavailable for any other failure.
        """
        try:
            return self._network.revoke(org, user, reason=reason)
        except IdentityRefused as error:
            if error.status == 404:
                raise NotFound(f"network revoke: {error}") from error
            raise Conflict(f"network revoke: {error}") from error
        except NetworkError as error:
            raise NetworkUnavailable(f"network revoke: {error}") from error

    def status(self) -> dict[str, Any]:
        """Processes, the deployed chaincode and the health of every node; never raises
        for a node that does not answer."""
        return self._network.status()
