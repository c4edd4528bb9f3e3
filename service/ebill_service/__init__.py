"""The ebill service: the HTTP API an organisation runs beside its peer.

Business systems (hospital information systems, school fee systems, insurers' claim
systems, the finance department's platform, auditors) call it over HTTP with an API
key; each key belongs to one registered API client, which acts as exactly one enrolled
Fabric identity of the org (:mod:`.apiclients`). The service reaches the org's peer
through the party clients of :mod:`ebill` (and so through :mod:`fabricgw`).

- :mod:`.settings`: what a deployment chooses (org, network description, state file).
- :mod:`.store`: the service's own state (API clients, idempotency records) in SQLite.
- :mod:`.apiclients`: registration, rotation and revocation of API clients.
- :mod:`.problems`: RFC 9457 problem details for every error.
- :mod:`.idempotency`: ``Idempotency-Key``: a retried submit returns the first result.
- :mod:`.ratelimit`, :mod:`.metrics`, :mod:`.operations` (asynchronous submits).
- :mod:`.routes`: the endpoints, one module per party concern; :mod:`.app` builds the app.
"""

from .app import create_app
from .settings import Settings

__all__ = ["Settings", "create_app"]
