"""The off-chain read model: one org's view of the ledger in a relational database.

:class:`~ebill_index.projector.Projector` follows the org's peer's blocks (with the
private data the org may read) from the stored checkpoint and keeps the tables of
:mod:`ebill_index.schema` (:class:`~ebill_index.store.Store`, SQLite or PostgreSQL);
:mod:`ebill_index.queries` answers supervision reads from them and
:mod:`ebill_index.verify` compares them with the ledger. Depends on ``fabricgw`` and
``ebill``; neither depends on it.
"""

from .projector import Progress, Projector
from .store import Position, Store

__all__ = ["Position", "Progress", "Projector", "Store"]
