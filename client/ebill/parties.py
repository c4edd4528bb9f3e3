"""Open a party client for an enrolled user: the class follows the user's role."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from .connection import Connection, connect, load_description
from .errors import InvalidInput, NetworkUnavailable
from .finance import FinanceClient
from .party import PartyClient
from .payer import PayerClient
from .reimburser import ReimburserClient
from .supervisor import SupervisorClient
from .sync import BlockSync
from .unit import UnitClient

P = TypeVar("P", bound=PartyClient)
Party = FinanceClient | PayerClient | UnitClient | ReimburserClient | SupervisorClient | PartyClient

ROLE_CLIENTS: dict[str, type[PartyClient]] = {
    "finance": FinanceClient,
    "platform": PayerClient,
    "issuer": UnitClient,
    "clerk": UnitClient,
    "reimburser": ReimburserClient,
    "supervisor": SupervisorClient,
}


def open_connection(
    description: dict[str, Any] | Path, org: str, user: str, *, via: str | None = None
) -> Connection:
    """Connect ``org/user`` (to ``via``'s peer if given).

    ``description`` is network.json's content or its path. Raises
    NetworkUnavailable (no network.json), InvalidInput (unknown org or user).
    """
    if isinstance(description, Path):
        if not description.exists():
            raise NetworkUnavailable(f"no network description at {description}")
        description = load_description(description)
    try:
        return connect(description, org, user, via=via)
    except KeyError as error:
        raise InvalidInput(str(error.args[0]) if error.args else str(error)) from None
    except FileNotFoundError as error:
        raise NetworkUnavailable(f"{error.filename} is missing: is the network set up?") from None


def open_client(
    cls: type[P],
    description: dict[str, Any] | Path,
    org: str,
    user: str,
    *,
    via: str | None = None,
    sync: BlockSync | None = None,
) -> P:
    """A ``cls`` client (e.g. FinanceClient) for ``org/user``. Raises as open_connection."""
    return cls(open_connection(description, org, user, via=via), sync=sync)


def open_party(
    description: dict[str, Any] | Path,
    org: str,
    user: str,
    *,
    via: str | None = None,
    sync: BlockSync | None = None,
) -> Party:
    """The client of the user's role (certificate attribute ``role``): FinanceClient,
    PayerClient, UnitClient, ReimburserClient or SupervisorClient; a plain PartyClient
    (verification only) for a user without a role. ``sync``: see :mod:`ebill.sync`.
    Raises as open_connection."""
    connection = open_connection(description, org, user, via=via)
    cls = ROLE_CLIENTS.get(connection.attributes.get("role", ""), PartyClient)
    return cls(connection, sync=sync)
