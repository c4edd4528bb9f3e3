"""The service's own state, without a network: API keys, idempotency records, limits,
problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebill.errors import BillNotLocked, InvalidInput, NetworkUnavailable, NotAuthorised
from ebill_service.apiclients import ApiClientError, ApiClients
from ebill_service.idempotency import Idempotency, request_hash
from ebill_service.problems import ServiceProblem, problem_of
from ebill_service.ratelimit import RateLimiter
from ebill_service.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "state.sqlite")


def test_the_state_file_is_0600_and_keeps_only_key_hashes(store: Store) -> None:
    clients = ApiClients(store)
    key = clients.register("his-hospital", "HIS", "units", "hospital1")
    assert key.startswith("ebk_his-hospital_") and len(key) > 50
    assert store.path.stat().st_mode & 0o777 == 0o600
    assert key.encode() not in store.path.read_bytes()
    found = clients.authenticate(key)
    assert found is not None and (found.org, found.user) == ("units", "hospital1")
    assert clients.authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert clients.authenticate("ebk_other_" + key.split("_", 2)[2]) is None
    assert clients.authenticate("not a key") is None


def test_rotation_with_and_without_grace_and_revocation(store: Store) -> None:
    clients = ApiClients(store)
    first = clients.register("claims", "claims", "insurance", "medins1")
    second = clients.rotate("claims", grace_seconds=60)
    assert clients.authenticate(first) is not None  # in its grace period
    assert clients.authenticate(second) is not None
    third = clients.rotate("claims")
    assert clients.authenticate(second) is None and clients.authenticate(third) is not None
    clients.revoke("claims")
    assert clients.authenticate(third) is None
    with pytest.raises(ApiClientError, match="revoked"):
        clients.rotate("claims")
    with pytest.raises(ApiClientError, match="already registered"):
        clients.register("claims", "again", "insurance", "medins1")
    with pytest.raises(ApiClientError, match="2-63 characters"):
        clients.register("Bad Id", "x", "units", "hospital1")
    assert [c.active for c in clients.list()] == [False]


def test_a_done_request_replays_and_another_body_is_refused(store: Store) -> None:
    idem = Idempotency(store)
    digest = request_hash("IssueBill", {"a": 1})
    attempt = idem.begin("c1", "key-00001", digest, {"salt": "s1"})
    assert attempt.replay is None and attempt.secrets == {"salt": "s1"}
    with pytest.raises(ServiceProblem) as running:
        idem.begin("c1", "key-00001", digest, {"salt": "s2"})
    assert running.value.code == "idempotency-in-progress"
    idem.finish("c1", attempt, 201, {"bill": "b"})
    again = idem.begin("c1", "key-00001", digest, {"salt": "s3"})
    assert again.replay == (201, {"bill": "b"})
    with pytest.raises(ServiceProblem) as other:
        idem.begin("c1", "key-00001", request_hash("IssueBill", {"a": 2}), {})
    assert other.value.code == "idempotency-mismatch" and other.value.status == 422
    # keys are per client
    assert Idempotency(store).begin("c2", "key-00001", digest, {"x": "y"}).replay is None


def test_an_unfinished_request_resumes_with_its_secrets_after_a_restart(store: Store) -> None:
    digest = request_hash("IssueBill", {"a": 1})
    first = Idempotency(store).begin("c1", "key-00002", digest, {"salt": "first"})
    Idempotency(store).finish("c1", first, None)  # failed with an unknown outcome
    restarted = Idempotency(Store(store.path))
    resumed = restarted.begin("c1", "key-00002", digest, {"salt": "new"})
    assert resumed.replay is None and resumed.secrets == {"salt": "first"}
    with pytest.raises(ServiceProblem, match="8-128"):
        restarted.begin("c1", "short", digest, {})


def test_the_rate_limiter_refills() -> None:
    limiter = RateLimiter(120)  # 2 a second, burst 120
    assert all(limiter.take("a") == 0 for _ in range(120))
    wait = limiter.take("a")
    assert wait >= 1
    assert limiter.take("b") == 0  # per key
    limiter._buckets["a"].updated -= 1.0  # one second later: two tokens back
    assert limiter.take("a") == 0 and limiter.take("a") == 0 and limiter.take("a") > 0


def test_problems_carry_the_contracts_code_and_status() -> None:
    locked = problem_of(BillNotLocked("ClaimBill: bill is not locked", kind="Conflict",
                                      code="bill-not-locked", transaction_id="tx1"))  # fmt: skip
    assert (locked.status, locked.code, locked.transactionId) == (409, "bill-not-locked", "tx1")
    assert locked.type == "urn:ebill:problem:bill-not-locked"
    assert problem_of(InvalidInput("billNumber: must be 10 digits")).status == 422
    assert problem_of(NotAuthorised("no")).code == "not-authorised"
    assert problem_of(NetworkUnavailable("down")).status == 503


def test_serve_refuses_a_rate_below_one(capsys: pytest.CaptureFixture[str]) -> None:
    from ebill_service.cli import main

    assert main(["serve", "--org", "units", "--public-rate", "0"]) == 2
    assert "--public-rate and --client-rate: at least 1" in capsys.readouterr().err
    assert main(["serve", "--org", "units", "--client-rate", "-5"]) == 2
