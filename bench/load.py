"""A load of bill issuances: workers issuing continuously, every attempt recorded.

Each worker is one issuer (its own ``UnitClient``, its own Gateway connection)
issuing outpatient bills with the two-step ``UnitClient.issue_bill`` one after
the other; every attempt is recorded with its start, end, bill and outcome:

- ``committed``: IssueBill committed VALID (the caller got an acknowledgement;
  ``UnitClient.issue_bill`` does not return its transaction id);
- ``failed``: known not issued: the deposit failed, IssueBill was not endorsed,
  or it committed invalid;
- ``unknown``: IssueBill may have reached the orderers (a submit or commit-status
  failure): the outcome is resolved at the end by its transaction id
  (:meth:`Load.resolve`), never by issuing again, which would be a second bill.

Numbers come from one counter shared by the workers, so no two attempts ever use
the same bill number. Used by the fault tests (``tests/faults``); with many
workers it is also the bulk issuer.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import fabricgw
from ebill.errors import EbillError
from ebill.parties import open_client
from ebill.samples import outpatient_bill
from ebill.unit import UnitClient

COMMITTED, FAILED, UNKNOWN = "committed", "failed", "unknown"
#: Failures of IssueBill after which it may still commit.
_MAYBE_ORDERED = (fabricgw.SubmitError, fabricgw.CommitStatusError)


@dataclass
class Attempt:
    """One issuance: when (``time.monotonic``), which bill, what came of it."""

    worker: int
    number: str
    code: str
    start: float
    end: float = 0.0
    outcome: str = ""
    transaction_id: str | None = None
    function: str | None = None
    error: str = ""
    bill_status: str = ""  # the committed bill's status as IssueBill answered it
    resolved: str = ""  # for an unknown outcome: "committed", "not committed" or "unknown"

    @property
    def key(self) -> tuple[str, str]:
        return (self.code, self.number)


def classify(error: BaseException) -> tuple[str, str | None, str | None]:
    """The outcome of a failed ``issue_bill``: (``failed`` or ``unknown``, tx id, function).

    Unknown when IssueBill failed at submit or commit status (its transaction may
    be ordered) or with any error the client does not say is final; failed when
    the deposit failed (IssueBill was never sent), IssueBill was refused at
    endorsement, or it committed invalid.
    """
    function = getattr(error, "function", None)
    tx_id = getattr(error, "transaction_id", None)
    flag = getattr(error, "outcome_unknown", None)  # if the client ever says so itself
    if isinstance(flag, bool):
        return (UNKNOWN if flag and function == "IssueBill" else FAILED), tx_id, function
    if function != "IssueBill":
        return FAILED, tx_id, function
    cause = error.__cause__
    if isinstance(cause, fabricgw.EndorseError | fabricgw.CommitError):
        return FAILED, tx_id, function
    if isinstance(error, EbillError) and error.kind is not None:  # the chaincode refused it
        return FAILED, tx_id, function
    if isinstance(cause, _MAYBE_ORDERED) or tx_id:
        return UNKNOWN, tx_id, function
    return FAILED, tx_id, function


@dataclass
class Load:
    """``workers`` issuers issuing bills of ``bill_code``'s stock from ``first_number``.

    ``description`` is the network description (``Network.describe()``);
    ``org``/``user`` the issuer (a unit's issuer with stock approved for the
    numbers). ``pause`` is slept after a failed attempt, so a worker does not
    spin while a node is down. ``limit`` stops the load after that many attempts.
    """

    description: dict[str, Any]
    workers: int = 4
    org: str = "units"
    user: str = "hospital1"
    first_number: int = 1
    pause: float = 0.2
    limit: int | None = None
    attempts: list[Attempt] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._numbers = itertools.count(self.first_number)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clients: list[UnitClient] = []

    # -- running ----------------------------------------------------------
    def start(self) -> Load:
        """Open one client per worker and start the workers; returns self."""
        self._stop.clear()
        for w in range(self.workers):
            client = open_client(UnitClient, self.description, self.org, self.user)
            self._clients.append(client)
            thread = threading.Thread(
                target=self._work, args=(w, client), daemon=True, name=f"load-{w}"
            )
            self._threads.append(thread)
            thread.start()
        return self

    def stop(self, timeout: float = 180) -> None:
        """Let each worker finish its attempt, then close the clients.

        Raises TimeoutError if a worker is still in an attempt after ``timeout``.
        """
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            raise TimeoutError(f"load workers still in an attempt after {timeout}s: {alive}")
        for client in self._clients:
            client.close()
        self._threads, self._clients = [], []

    def __enter__(self) -> Load:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next(self) -> str | None:
        with self._lock:
            if self.limit is not None and len(self.attempts) >= self.limit:
                return None
            number = f"{next(self._numbers):010d}"
        return number

    def _work(self, worker: int, client: UnitClient) -> None:
        while not self._stop.is_set():
            number = self._next()
            if number is None:
                return
            sample = outpatient_bill(number)
            attempt = Attempt(worker, number, sample.code, time.monotonic())
            with self._lock:
                self.attempts.append(attempt)
            try:
                issued = client.issue_bill(sample)
            except Exception as exc:  # every failure is recorded, none stops the load
                attempt.outcome, attempt.transaction_id, attempt.function = classify(exc)
                attempt.error = (
                    f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                )
                attempt.end = time.monotonic()
                self._stop.wait(self.pause)
                continue
            attempt.end = time.monotonic()
            attempt.outcome = COMMITTED
            attempt.function = "IssueBill"
            attempt.bill_status = issued.bill.status

    # -- waiting and reading ----------------------------------------------
    def done(self) -> bool:
        """True once every worker has returned (``limit`` reached or stopped)."""
        return all(not t.is_alive() for t in self._threads)

    def committed_since(self, since: float) -> list[Attempt]:
        """Acknowledged attempts that started at or after ``since`` (monotonic seconds)."""
        return [a for a in self.snapshot() if a.outcome == COMMITTED and a.start >= since]

    def first_success_after(self, since: float) -> float | None:
        """Seconds from ``since`` to the end of the first acknowledged attempt started after it."""
        ends = [a.end for a in self.committed_since(since)]
        return round(min(ends) - since, 2) if ends else None

    def snapshot(self) -> list[Attempt]:
        with self._lock:
            return list(self.attempts)

    def acknowledged(self) -> list[Attempt]:
        """Every attempt that committed: acknowledged, or unknown and resolved committed."""
        return [
            a
            for a in self.snapshot()
            if a.outcome == COMMITTED or (a.outcome == UNKNOWN and a.resolved == COMMITTED)
        ]

    def unknown(self) -> list[Attempt]:
        return [a for a in self.snapshot() if a.outcome == UNKNOWN]

    def resolve(
        self,
        commit_status: Callable[[str], fabricgw.Status],
        *,
        attempts: Iterable[Attempt] | None = None,
    ) -> None:
        """Resolve each unknown outcome by its transaction id with ``commit_status``
        (e.g. ``gateway.get_network(channel).get_commit_status``): ``committed`` when
        it committed VALID, ``not committed`` when it committed invalid, ``unknown``
        when the peer still does not know it (it was never ordered, or not yet)."""
        for attempt in attempts if attempts is not None else self.unknown():
            if not attempt.transaction_id:
                attempt.resolved = UNKNOWN
                continue
            try:
                status = commit_status(attempt.transaction_id)
            except fabricgw.GatewayError:
                attempt.resolved = UNKNOWN
                continue
            attempt.resolved = COMMITTED if status.successful else "not committed"


__all__ = ["COMMITTED", "FAILED", "UNKNOWN", "Attempt", "Load", "classify"]
