"""The e-bill client: party clients over the Fabric Gateway, domain errors, the demo.

``open_party(description, org, user)`` opens the client of a user's role; the
clients are :class:`FinanceClient`, :class:`UnitClient`, :class:`PayerClient`,
:class:`ReimburserClient` and :class:`SupervisorClient`; errors are in
:mod:`ebill.errors`, results in :mod:`ebill.models`; parties acting in quick
succession share a :class:`BlockSync`. ``ebill`` (:mod:`ebill.cli`) is the console.
"""

from .errors import EbillError
from .finance import FinanceClient
from .parties import Party, open_client, open_connection, open_party
from .party import PartyClient
from .payer import PayerClient
from .reimburser import ReimburserClient
from .supervisor import SupervisorClient
from .sync import BlockSync
from .unit import UnitClient

__all__ = [
    "BlockSync",
    "EbillError",
    "FinanceClient",
    "Party",
    "PartyClient",
    "PayerClient",
    "ReimburserClient",
    "SupervisorClient",
    "UnitClient",
    "open_client",
    "open_connection",
    "open_party",
]
