"""Dependencies of the endpoints: the service, the calling API client, its party.

A caller authenticates with ``Authorization: Bearer <API key>`` (or ``X-API-Key``).
:class:`Caller.party` gives the party client of the client's identity when it is of
the class the endpoint needs (a UnitClient for issuance...), and raises 403
``not-authorised`` otherwise: the contract would refuse too, but a call the service
can refuse never reaches the chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request

from ebill.party import PartyClient

from . import contract
from .apiclients import ApiClient
from .context import Service
from .problems import ServiceProblem

P = TypeVar("P", bound=PartyClient)


def get_service(request: Request) -> Service:
    service = request.app.state.service
    assert isinstance(service, Service)
    return service


@dataclass(frozen=True)
class Caller:
    """An authenticated API client of this service."""

    client: ApiClient
    service: Service

    def act(self, function: str, *classes: type[P]) -> P:
        """The client's party client to call ``function``: 403 when the identity's role
        may not call it (the contract's interface says who may) or its party client is
        not one of ``classes``."""
        role = self.service.user_roles().get(self.client.user, "")
        if not contract.allowed(function, role):
            raise ServiceProblem(
                403,
                "not-authorised",
                "Forbidden",
                f"{function}: the role {role or '(none)'} of API client"
                f" {self.client.client_id} may not call it",
            )
        return self.party(*classes)

    def party(self, *classes: type[P]) -> P:
        """The client's party client if it is one of ``classes``; else 403."""
        party = self.service.party(self.client.user)
        if not isinstance(party, classes):
            names = " or ".join(c.__name__.removesuffix("Client").lower() for c in classes)
            raise ServiceProblem(
                403,
                "not-authorised",
                "Forbidden",
                f"API client {self.client.client_id} acts as a"
                f" {type(party).__name__.removesuffix('Client').lower()}, not a {names}",
            )
        return party


def get_caller(
    service: Annotated[Service, Depends(get_service)],
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Caller:
    """The API client of the request; 401 without a valid key, 429 over its rate."""
    key = x_api_key
    if key is None and authorization and authorization.lower().startswith("bearer "):
        key = authorization[7:].strip()
    client = service.clients.authenticate(key) if key else None
    if client is None or client.org != service.settings.org:
        raise ServiceProblem(
            401,
            "unauthenticated",
            "Unauthenticated",
            "send a valid API key of this organisation (Authorization: Bearer <key>)",
            headers={"WWW-Authenticate": 'Bearer realm="ebill"'},
        )
    wait = service.client_limit.take(client.client_id)
    if wait:
        raise ServiceProblem(
            429,
            "rate-limited",
            "Too many requests",
            f"rate limit of {service.settings.client_rate} requests a minute reached",
            headers={"Retry-After": str(int(wait))},
        )
    return Caller(client, service)


ServiceDep = Annotated[Service, Depends(get_service)]
CallerDep = Annotated[Caller, Depends(get_caller)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
Prefer = Annotated[str | None, Header()]
