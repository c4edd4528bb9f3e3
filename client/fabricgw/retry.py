"""When a Gateway call is tried again, and where: the one policy of the sync and asyncio clients.

Nothing here does I/O: :class:`SubmitAttempts` and :class:`CommitWait` say which
endpoint to call next, with which deadline and after which pause; the clients
(:mod:`fabricgw._client`, :mod:`fabricgw.aio._client`) make the calls and report
each failure back.

What is retried, and why that is safe:

- **Submit** of a signed transaction envelope that failed ``UNAVAILABLE`` or timed
  out (the gateway peer is down, or the orderer it chose did not answer) is sent
  again, the same envelope (same transaction id), to the next gateway endpoint
  (``connect(..., fallback_channels=...)``: another org's peer). A new transaction
  is never made: Fabric commits a transaction id once; a second copy of it in a
  later block is marked ``DUPLICATE_TXID`` and changes nothing, and the commit
  status of the id stays the first copy's.
- **CommitStatus** is asked in slices of :attr:`RetryPolicy.commit_status_slice`
  seconds until the whole commit status timeout has passed, instead of one call
  that sleeps out the whole deadline. A slice whose endpoint fails (the gateway
  peer died) moves to the next endpoint; any peer of the channel answers for any
  transaction id.
- **Resubmission while waiting**: a Raft follower forwards a transaction to the
  leader and forgets it; if the leader dies before ordering it, no orderer has it
  and no block will ever hold it, so its commit status never comes. When no status
  came for :attr:`RetryPolicy.resubmit_interval` seconds, the wait sends the same
  signed envelope again (safe, as above), then after twice as long each time (so a
  slow, loaded network is not flooded with copies); a resend that fails (no leader
  yet) is tried again every :attr:`RetryPolicy.pause` seconds. So a transaction dropped by
  a dying leader commits as soon as a new leader orders it. Not for a transaction that
  writes private data: a copy arriving after the original committed makes every member
  peer look for that copy's private data (already purged from the endorsers' transient
  stores) for ``peer.gossip.pvtData.pullRetryThreshold`` (60 s) before it commits the
  block, which stalls the channel; such a wait only asks, in slices. When the whole timeout
  passes without a status, :class:`~fabricgw.errors.CommitStatusError` says the
  outcome is unknown and carries the transaction id: resolve it with
  ``error.resolve(network)`` (or ``Network.get_commit_status``) before doing
  anything else; resubmit the *same* transaction (``Transaction.submit`` again),
  never a new one, which could apply the change twice if the first still commits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc

from .errors import CommitStatusError, SubmitError

MAX_PAUSE = 2.0
"""Longest pause (seconds) between two Submit attempts."""

#: Codes after which the same Submit may succeed through another endpoint.
SUBMIT_RETRY_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)
#: Codes after which a CommitStatus is asked again (another slice, maybe another endpoint).
COMMIT_STATUS_RETRY_CODES = SUBMIT_RETRY_CODES | {
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.UNKNOWN,
}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How submits are retried and commit statuses awaited (seconds; see the module doc).

    ``submit_attempts``: Submit calls per transaction, each to the next endpoint, the
    pause before each doubling from ``pause`` up to :data:`MAX_PAUSE` (the defaults span
    about 5.5 s: a Raft election here takes about 5 s, during which no orderer accepts).
    ``commit_status_slice``: the deadline of one CommitStatus call.
    ``resubmit_interval``: the same envelope is sent again when no status came this long,
    then after twice as long each time (``0`` never resends). ``pause``: the wait after
    a failed call before the next one.
    """

    submit_attempts: int = 5
    commit_status_slice: float = 2.0
    resubmit_interval: float = 5.0
    pause: float = 0.5

    def __post_init__(self) -> None:
        if not (isinstance(self.submit_attempts, int) and self.submit_attempts >= 1):
            raise ValueError(f"submit_attempts must be an int >= 1, got {self.submit_attempts!r}")
        for name in ("commit_status_slice", "pause"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        interval = self.resubmit_interval
        if not (isinstance(interval, int | float) and math.isfinite(interval) and interval >= 0):
            raise ValueError(f"resubmit_interval must be >= 0 seconds, got {interval!r}")


#: The defaults every ``connect()`` uses: a local consortium's LAN.
DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True, slots=True)
class Attempt:
    """One call to make: to endpoint ``endpoint`` (0 the primary), after sleeping ``pause``."""

    endpoint: int
    timeout: float
    pause: float = 0.0
    resubmit: bool = False
    """For a commit status wait: send the envelope again (to ``endpoint``) before asking."""


@dataclass
class SubmitAttempts:
    """The Submit calls of one envelope: ``next()`` until it returns ``None``, then raise."""

    policy: RetryPolicy
    endpoints: int
    timeout: float
    errors: list[SubmitError] = field(default_factory=list)

    def next(self) -> Attempt | None:
        """The next Submit to make, or ``None`` when the attempts are used up."""
        tried = len(self.errors)
        if tried >= self.policy.submit_attempts:
            return None
        pause = min(self.policy.pause * 2 ** (tried - 1), MAX_PAUSE) if tried else 0.0
        return Attempt(tried % self.endpoints, self.timeout, pause=pause)

    def failed(self, error: SubmitError) -> None:
        """Record a failed Submit; re-raise it when trying again cannot help."""
        if error.code not in SUBMIT_RETRY_CODES:
            raise error
        self.errors.append(error)

    def final_error(self) -> SubmitError:
        """The last failure, saying how many endpoints were tried."""
        last = self.errors[-1]
        if len(self.errors) == 1:
            return last
        return type(last)(
            f"{last.message} (after {len(self.errors)} attempts on "
            f"{min(len(self.errors), self.endpoints)} gateway endpoint(s))",
            transaction_id=last.transaction_id,
            code=last.code,
            details=[d for error in self.errors for d in error.details],
        )


@dataclass
class CommitWait:
    """The CommitStatus calls (and resends) of one transaction until ``total`` seconds pass.

    ``can_resubmit``: the caller holds the signed envelope (after ``Transaction.submit``).
    """

    policy: RetryPolicy
    transaction_id: str
    endpoints: int
    total: float
    can_resubmit: bool = False
    clock: Callable[[], float] = time.monotonic
    errors: list[CommitStatusError] = field(default_factory=list)
    resubmits: int = 0
    _endpoint: int = 0
    _pause: float = 0.0
    _deadline: float = 0.0
    _last_submit: float = 0.0
    _resend_due: float = math.inf
    _interval: float = 0.0

    def __post_init__(self) -> None:
        now = self.clock()
        self._deadline = now + self.total
        self._last_submit = now
        self._interval = self.policy.resubmit_interval
        if self.can_resubmit and self._interval > 0:
            self._resend_due = now + self._interval

    def next(self) -> Attempt | None:
        """The next CommitStatus call (maybe after a resend), or ``None`` when time is up."""
        now = self.clock() + self._pause
        remaining = self._deadline - now
        if remaining <= 0:
            return None
        resubmit = now >= self._resend_due
        if resubmit:
            self.resubmits += 1
            self._interval *= 2
            self._resend_due = now + self._interval
        attempt = Attempt(
            self._endpoint,
            min(self.policy.commit_status_slice, remaining),
            pause=self._pause,
            resubmit=resubmit,
        )
        self._pause = 0.0
        return attempt

    def resubmit_timeout(self, submit_timeout: float) -> float:
        """Deadline of a resend: the submit timeout, at most what is left of the wait."""
        return max(min(submit_timeout, self._deadline - self.clock()), 0.01)

    def failed(self, error: CommitStatusError) -> None:
        """Record a failed CommitStatus slice; re-raise it when asking again cannot help."""
        if error.code not in COMMIT_STATUS_RETRY_CODES:
            raise error
        self.errors.append(error)
        if error.code is not grpc.StatusCode.DEADLINE_EXCEEDED:
            self._move()  # the endpoint failed rather than waited: ask another one

    def resubmit_failed(self, error: SubmitError) -> None:
        """Record a failed resend: try it again after ``pause`` (e.g. no Raft leader yet)."""
        self._resend_due = self.clock() + self.policy.pause
        if error.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            self._move()

    def _move(self) -> None:
        self._endpoint = (self._endpoint + 1) % self.endpoints
        self._pause = self.policy.pause

    def final_error(self) -> CommitStatusError:
        """The outcome is unknown: a :class:`CommitStatusError` carrying the transaction id."""
        last = self.errors[-1] if self.errors else None
        resent = f", sent again {self.resubmits} time(s)" if self.resubmits else ""
        cause = f": last answer {last.code.name if last and last.code else 'none'}"
        return CommitStatusError(
            f"commit status failed for transaction {self.transaction_id}: no commit status "
            f"within {self.total:g}s (asked {len(self.errors)} time(s){resent}){cause}; "
            "the transaction may still commit: resolve it by its transaction id",
            transaction_id=self.transaction_id,
            code=last.code if last else grpc.StatusCode.DEADLINE_EXCEEDED,
            details=last.details if last else (),
        )


__all__ = [
    "COMMIT_STATUS_RETRY_CODES",
    "DEFAULT_RETRY",
    "MAX_PAUSE",
    "SUBMIT_RETRY_CODES",
    "Attempt",
    "CommitWait",
    "RetryPolicy",
    "SubmitAttempts",
]
