"""Which clock each time rule trusts.

The transaction time (``stub.tx_timestamp``) is the client's: it is in the proposal's
channel header, signed by the client. The endorsing chaincode therefore refuses a
proposal whose timestamp is more than ``CHAINCODE_MAX_CLOCK_SKEW`` seconds (default
300, read from the chaincode server's environment) from its own clock
(``stub.local_time()``); every function that checks access (``access.allow``) and
VerifyBill check it first. Once endorsed, the transaction time is the one every peer
agrees on, so the rules use it, never a peer's clock (which differs between peers):

* ``issuedAt``, ``lastAction.at``, authorisation, lock, claim and red-letter times,
  the anomaly day, a red bill's issue date: the transaction time;
* ArchiveBill's age rule (1095 days): the transaction's date in China;
* issueDate (written by the issuer): within :data:`ISSUE_DATE_BEFORE` before and
  :data:`ISSUE_DATE_AFTER` after the transaction time (a bill may be entered late, e.g.
  after an outage, but is never dated in the future beyond clock differences).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from ..shim.errors import InvalidArgument
from ..shim.stub import Stub

SKEW_VARIABLE = "CHAINCODE_MAX_CLOCK_SKEW"
DEFAULT_MAX_SKEW = 300
ISSUE_DATE_BEFORE = timedelta(days=31)
ISSUE_DATE_AFTER = timedelta(hours=1)


def max_skew() -> timedelta:
    """The allowed distance between proposal time and local clock (env, default 300 s)."""
    text = os.environ.get(SKEW_VARIABLE, "").strip()
    seconds = int(text) if text.isdigit() else DEFAULT_MAX_SKEW
    return timedelta(seconds=seconds)


def check_proposal_time(stub: Stub) -> None:
    """InvalidArgument if the proposal's timestamp is too far from the chaincode's clock."""
    skew = stub.tx_timestamp - stub.local_time()
    limit = max_skew()
    if abs(skew) > limit:
        direction = "ahead of" if skew > timedelta(0) else "behind"
        raise InvalidArgument(
            f"timestamp: the proposal is {abs(int(skew.total_seconds()))} s {direction} the"
            f" endorser's clock; at most {int(limit.total_seconds())} s allowed"
        )


def check_issue_date(stub: Stub, issue_date: str) -> None:
    """InvalidArgument unless issueDate lies in the window around the transaction time."""
    issued = datetime.fromisoformat(issue_date)
    now = stub.tx_timestamp
    if issued > now + ISSUE_DATE_AFTER:
        raise InvalidArgument(
            f"issueDate: must not be more than {ISSUE_DATE_AFTER} after the transaction time"
        )
    if issued < now - ISSUE_DATE_BEFORE:
        raise InvalidArgument(
            f"issueDate: must not be more than {ISSUE_DATE_BEFORE.days} days before the"
            " transaction time"
        )
