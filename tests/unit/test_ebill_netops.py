"""The party clients' adapter to the local network: where it looks, what it raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebill.errors import Conflict, NetworkUnavailable, NotFound
from ebill.netops import LocalNetwork, default_network_file
from ebill_network.processes import IdentityRefused, NetworkError


def test_the_default_network_file_is_in_ebill_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EBILL_DATA_DIR", str(tmp_path / "data"))
    assert default_network_file() == (tmp_path / "data" / "network.json").resolve()


def test_the_network_is_the_one_of_the_file_on_ebill_base_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EBILL_BASE_PORT", "13550")
    network = LocalNetwork(tmp_path / "net" / "network.json")
    layout = network._network.layout
    assert (layout.data_dir, layout.base_port) == ((tmp_path / "net").resolve(), 13550)
    status = network.status()  # nothing runs there: every process stopped, nothing raised
    assert status["running"] == {} and "peer0-finance" in status["stopped"]


class _Refusing:
    """A network whose every operation fails with ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def revoke(self, org: str, user: str, *, reason: str = "") -> int:
        raise self.error

    def restart(self, name: str) -> None:
        raise self.error

    def up(self) -> None:
        raise self.error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (IdentityRefused("unknown identity", status=404), NotFound),
        (IdentityRefused("name taken", status=409), Conflict),
        (IdentityRefused("no answer"), Conflict),
        (NetworkError("peer0-finance did not come back"), NetworkUnavailable),
    ],
)
def test_network_errors_become_ebill_errors(
    tmp_path: Path, error: Exception, expected: type[Exception]
) -> None:
    network = LocalNetwork(tmp_path / "network.json")
    network._network = _Refusing(error)  # type: ignore[assignment]
    with pytest.raises(expected, match=f"network revoke: {error}"):
        network.revoke("insurance", "insurer1")


def test_up_and_restart_failures_are_network_unavailable(tmp_path: Path) -> None:
    network = LocalNetwork(tmp_path / "network.json")
    network._network = _Refusing(NetworkError("orderer1: port 13057 is taken"))  # type: ignore[assignment]
    with pytest.raises(NetworkUnavailable, match="network up: orderer1: port 13057 is taken"):
        network.up()
    with pytest.raises(NetworkUnavailable, match="network restart: orderer1"):
        network.restart("orderer1")
