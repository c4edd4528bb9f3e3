"""The endpoints, one module per party concern. Each endpoint names the contract
functions it performs (:func:`ebill_service.contract.operation`); an org's service serves
those its identities' roles may call (the interface says which)."""

from __future__ import annotations

from fastapi import APIRouter

from . import (
    bills,
    events,
    finance,
    offline,
    payer,
    public,
    reimbursement,
    stats,
    supervision,
    system,
)

ROUTERS: list[APIRouter] = [
    system.router,
    public.router,
    bills.router,
    finance.router,
    payer.router,
    reimbursement.router,
    supervision.router,
    stats.router,  # the read model's statistics: orgs with supervising roles
    offline.router,  # every org: any identity may sign its own transactions
    events.router,  # who sees which events: eventlog.Audience
]
