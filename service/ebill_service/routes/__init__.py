"""The endpoints, one module per party concern; :data:`ROUTERS` says which roles each
router serves, so an org's service exposes only what its identities' roles may call."""

from __future__ import annotations

from fastapi import APIRouter

from . import bills, events, finance, offline, payer, public, reimbursement, supervision, system

#: (router, roles whose API clients use it; empty: every org's service has it).
ROUTERS: list[tuple[APIRouter, frozenset[str]]] = [
    (system.router, frozenset()),
    (public.router, frozenset()),
    (bills.router, frozenset({"issuer", "clerk", "finance", "supervisor", "reimburser"})),
    (finance.router, frozenset({"finance"})),
    (payer.router, frozenset({"platform"})),
    (reimbursement.router, frozenset({"reimburser", "finance"})),
    (supervision.router, frozenset({"finance", "supervisor", "issuer", "clerk"})),
    (offline.router, frozenset()),
    (events.router, frozenset({"finance", "supervisor", "issuer", "clerk", "reimburser"})),
]
