"""What a deployment of the service chooses."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """The service of one organisation.

    ``org``: the org key in network.json (finance, units, insurance, audit).
    ``network``: the network description (network.json) holding the org's identities
    (its wallet: certificate and key files, 0600).
    ``state``: the SQLite file of the service's own state (API clients, idempotency
    records, asynchronous operations); created 0600.
    ``public_rate``: public verifications a minute per caller address (burst the same).
    ``client_rate``: requests a minute per API client.
    ``events``: follow the peer's chaincode events (SSE, webhooks); ``webhook_backoff``
    seconds before the first redelivery, doubled each time up to ``webhook_backoff_cap``,
    at most ``webhook_attempts`` tries; ``webhook_ca``: a CA file the receivers' TLS
    certificates are checked against (default: the system's); ``webhook_allow_http``
    accepts plain-http URLs (for a receiver on the same host only).
    ``index``: keep the read model of the supervision statistics (``/v1/stats``) when
    the org has supervising identities (finance, supervisor); ``index_db``: its
    database URL (default :meth:`index_url`, a SQLite file beside the state file);
    ``index_retry``: seconds before the projector resumes after a failure (doubled
    while it fails, up to a minute).
    """

    org: str
    network: Path
    state: Path
    public_rate: int = 30
    client_rate: int = 600
    max_batch: int = 100
    title: str = field(default="ebill service")
    events: bool = True
    webhook_backoff: float = 1.0
    webhook_backoff_cap: float = 300.0
    webhook_attempts: int = 10
    webhook_ca: Path | None = None
    webhook_allow_http: bool = False
    index: bool = True
    index_db: str | None = None
    index_retry: float = 1.0

    def index_url(self) -> str:
        """The read model's URL: ``index_db``, else ``sqlite:///<state dir>/<state
        name>-index.sqlite`` (not the file ``ebill index`` uses: one projector a model)."""
        if self.index_db:
            return self.index_db
        return f"sqlite:///{self.state.with_name(self.state.stem + '-index.sqlite')}"

    @staticmethod
    def from_env(
        org: str,
        network: Path | None = None,
        state: Path | None = None,
        index_db: str | None = None,
    ) -> Settings:
        """Settings for ``org`` with paths from the arguments or the environment.

        ``EBILL_DATA_DIR`` (default ``.data``) holds network.json and the state file
        ``service-<org>.sqlite``.
        """
        data = Path(os.environ.get("EBILL_DATA_DIR", ".data"))
        return Settings(
            org=org,
            network=network or data / "network.json",
            state=state or data / f"service-{org}.sqlite",
            index_db=index_db,
        )
