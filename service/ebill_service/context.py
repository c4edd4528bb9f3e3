"""The state of one running service, shared by its endpoints (no global state).

:class:`Service` holds the settings, the state store, the API-client registry, the
idempotency records, the rate limiters, the metrics, the asynchronous operations and
one party client per identity (opened on first use, closed at shutdown).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from ebill import consistency
from ebill.connection import Connection, connect
from ebill.parties import Party, open_party
from fabricca.attributes import certificate_attributes

from .apiclients import ApiClients
from .eventlog import Audience, EventLog
from .follower import EventFollower
from .idempotency import Idempotency
from .metrics import Metrics
from .offline import OfflineSigning
from .operations import Operations
from .ratelimit import RateLimiter
from .readmodel import ReadModel
from .settings import Settings
from .store import Store
from .webhooks import Deliverer, DeliveryPolicy, Webhooks

#: The roles that read the supervision statistics of the read model.
SUPERVISING = frozenset({"finance", "supervisor"})


class Service:
    """Everything the endpoints of one organisation's service share."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.state)
        self.clients = ApiClients(self.store)
        self.idempotency = Idempotency(self.store)
        self.metrics = Metrics()
        self.operations = Operations(self.store)
        self.public_limit = RateLimiter(settings.public_rate)
        self.client_limit = RateLimiter(settings.client_rate)
        self.events = EventLog(self.store)
        policy = DeliveryPolicy(
            backoff=settings.webhook_backoff,
            backoff_cap=settings.webhook_backoff_cap,
            max_attempts=settings.webhook_attempts,
            ca=settings.webhook_ca,
            allow_http=settings.webhook_allow_http,
        )
        self.webhooks = Webhooks(self.store, policy)
        self.offline = OfflineSigning(self.store, self.description, settings.org)
        self._deliverer: Deliverer | None = None
        self._follower: EventFollower | None = None
        self.index: ReadModel | None = None
        self._deliverer_policy = policy
        self._parties: dict[str, Party] = {}
        self._roles: dict[str, str] = {}
        self._lock = threading.Lock()

    def description(self) -> dict[str, Any]:
        """network.json (read each time: users added later appear)."""
        data = json.loads(Path(self.settings.network).read_text())
        assert isinstance(data, dict)
        return data

    def party(self, user: str) -> Party:
        """The party client of ``user`` of this org (its role's class), opened once."""
        with self._lock:
            party = self._parties.get(user)
            if party is None:
                party = open_party(self.description(), self.settings.org, user)
                self._parties[user] = party
            return party

    def public_user(self) -> str:
        """The identity public verification runs as: the org's first non-admin user."""
        users = self.description()["orgs"][self.settings.org]["users"]
        names = [name for name in users if not name.startswith("admin")]
        return names[0] if names else "admin0"

    def user_roles(self) -> dict[str, str]:
        """Each user of the org and the ``role`` attribute of its certificate ('' if none),
        read once (users added later are read when first asked for)."""
        users = self.description()["orgs"][self.settings.org]["users"]
        with self._lock:
            for name, user in users.items():
                if name not in self._roles:
                    cert = Path(user["cert"]).read_bytes()
                    self._roles[name] = certificate_attributes(cert).get("role", "")
            return dict(self._roles)

    def audience(self, user: str) -> Audience | None:
        """Which events ``user``'s identity may see (None: none)."""
        cert = Path(self.description()["orgs"][self.settings.org]["users"][user]["cert"])
        return Audience.of(certificate_attributes(cert.read_bytes()))

    def _events_connection(self) -> Connection:
        return connect(self.description(), self.settings.org, self.public_user())

    def commit_status(self, transaction_id: str) -> Any:
        """The commit status of ``transaction_id``, asked as the org's public user."""
        return (
            self.party(self.public_user())
            .connection.gateway.get_network(self.description()["channel"])
            .get_commit_status(transaction_id)
        )

    def start_events(self) -> None:
        """Start following the peer's events and delivering webhooks (once)."""
        if not self.settings.events or self._follower is not None:
            return
        self._follower = EventFollower(
            self.events,
            self._events_connection,
            on_event=lambda block: self.metrics.event_block.set(block),
        )
        self._deliverer = Deliverer(self.store, self._deliverer_policy)
        self._follower.start()
        self._deliverer.start()

    def index_user(self) -> str:
        """The identity the projector reads blocks as: the org's first supervising user
        (a member of the private collection where the org is one), else the public one."""
        for name, role in self.user_roles().items():
            if role in SUPERVISING:
                return name
        return self.public_user()

    def start_index(self) -> None:
        """Open the read model and start its projector (once), if the org supervises."""
        if not self.settings.index or self.index is not None:
            return
        if not self.org_roles() & SUPERVISING:
            return
        description = self.description()
        user = self.index_user()

        def peer_height() -> int:
            conn = self.party(user).connection
            return consistency.height(conn, conn.msp_id)

        self.index = ReadModel(
            self.settings.index_url(),
            lambda: connect(self.description(), self.settings.org, user),
            peer_height,
            chaincode=description["chaincode"],
            channel=description["channel"],
            retry=self.settings.index_retry,
        )
        index = self.index
        self.metrics.index_height.set_function(lambda: float(index.height()))
        self.metrics.index_lag.set_function(lambda: float(index.as_of()["lagBlocks"]))
        index.start()

    def org_roles(self) -> set[str]:
        """The roles the org's users have: which routers this service serves."""
        return {role for role in self.user_roles().values() if role}

    def close(self) -> None:
        if self.index is not None:
            self.index.stop()
        if self._follower is not None:
            self._follower.stop()
        if self._deliverer is not None:
            self._deliverer.stop()
        self.operations.close()
        self.offline.close()
        with self._lock:
            for party in self._parties.values():
                party.close()
            self._parties.clear()
