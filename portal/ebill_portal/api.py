"""The service's HTTP API, as the portal calls it: httpx with one API client's key.

Every refusal of the service (an RFC 9457 problem) becomes :class:`Refused` carrying the
problem's code, title and detail, which the pages show as a message; a service that
cannot be reached becomes :class:`Unavailable`.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Endpoint:
    """One org's service: its base URL and the CA file (or True for the system roots)."""

    url: str
    verify: str | bool = True


class Refused(Exception):
    """The service answered a problem: ``status``, ``code`` (the contract's refusal code
    or the service's own), ``title``, ``detail``, ``transaction_id``."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.code = str(problem.get("code") or "error")
        self.title = str(problem.get("title") or "Refused")
        self.detail = str(problem.get("detail") or "")
        self.transaction_id = problem.get("transactionId")
        super().__init__(f"{self.status} {self.code}: {self.detail or self.title}")


class Unavailable(Exception):
    """The service could not be reached or answered no problem document."""


class ServiceAPI:
    """Calls of one org's service as one API client (``key``; None for public calls)."""

    def __init__(self, endpoint: Endpoint, key: str | None = None, timeout: float = 90) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        verify: ssl.SSLContext | bool = endpoint.verify is not False
        if isinstance(endpoint.verify, str):
            verify = ssl.create_default_context(cafile=endpoint.verify)
        self._client = httpx.Client(
            base_url=endpoint.url, verify=verify, headers=headers, timeout=timeout
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ServiceAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """The JSON answer of ``method path``. Raises Refused (a problem), Unavailable."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        try:
            response = self._client.request(method, path, json=json, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise Unavailable(type(exc).__name__) from None
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                raise Unavailable(f"HTTP {response.status_code}") from None
            if not isinstance(problem, dict):
                raise Unavailable(f"HTTP {response.status_code}")
            raise Refused(response.status_code, problem)
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params or None)

    def post(self, path: str, body: Any = None, *, idempotency_key: str | None = None) -> Any:
        return self.call("POST", path, json=body, idempotency_key=idempotency_key)
