"""A new insurance org joins the running channel while bills are issued continuously.

This module starts its own network (it changes the channel: a fifth org, a new
chaincode definition) on EBILL_TEST_ADDORG_BASE_PORT or EBILL_TEST_BASE_PORT + 200,
and removes it when the module ends. Its tests run in order: the signatures first
(refused before they reach the orderer, and by the orderer), then the add under load.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from chain import call, eventually, query, refusal

from ebill.connection import Connection, connect
from ebill.parties import open_client
from ebill.samples import HOSPITAL_UNIT, OUTPATIENT_CODE, SampleBill, outpatient_bill
from ebill.unit import UnitClient, new_check_code
from ebill_network import addorg, channel, pki, signatures
from ebill_network.layout import FIRST_JOINED_INDEX, PEER_ORGS, Layout, joined_org
from ebill_network.network import Network
from ebill_network.processes import NetworkError, wait_for

pytestmark = pytest.mark.network

LOAD_WORKERS = 4  # bills in flight at once


def _base_port() -> int:
    if "EBILL_TEST_ADDORG_BASE_PORT" in os.environ:
        return int(os.environ["EBILL_TEST_ADDORG_BASE_PORT"])
    return int(os.environ.get("EBILL_TEST_BASE_PORT", "27050")) + 200


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    data = tmp_path_factory.mktemp("fabric-addorg")
    network = Network(Layout(data_dir=Path(data), base_port=_base_port()))
    try:
        network.up()
        yield network
    finally:
        network.clean()


@pytest.fixture(scope="module")
def finance(net: Network) -> Iterator[Connection]:
    conn = connect(net.describe(), "finance", "finance1")
    call(conn, "RegisterUnit", json.dumps(HOSPITAL_UNIT, ensure_ascii=False))
    hospital = connect(net.describe(), "units", "hospital1")
    application = {
        "unitCode": HOSPITAL_UNIT["unitCode"],
        "billCode": OUTPATIENT_CODE,
        "startNumber": "0000000001",
        "count": 100000,
    }
    batch = call(hospital, "ApplyStock", json.dumps(application))
    call(conn, "ApproveStock", batch["batchId"])
    hospital.close()
    yield conn
    conn.close()


def _config(net: Network) -> dict[str, Any]:
    work = net.layout.channel_dir() / "updates" / "test-config"
    work.mkdir(parents=True, exist_ok=True)
    try:
        config, _ = channel.fetch_config(net.layout, net.bin_dir, PEER_ORGS[0], work)
    finally:
        shutil.rmtree(work)
    return config


def test_too_few_signatures_are_refused_before_and_by_the_orderer(
    net: Network, finance: Connection
) -> None:
    """An update adding an org needs MAJORITY Admins (3 of 4 orgs): with one signature our
    check refuses to send it, and the orderer, sent it anyway, refuses it too."""
    layout, bin_dir = net.layout, net.bin_dir
    probe = joined_org("probe9", "audit", FIRST_JOINED_INDEX + 9)
    work = layout.channel_dir() / "updates" / "probe"
    work.mkdir(parents=True)
    layout.save_joined(probe)  # its MSP folder must exist for configtxgen
    try:
        pki.ensure_local_pki(layout)
        pki.start_cas(layout, net.procs, bin_dir, orgs=(probe,))
        pki.enroll_org(layout, probe)
        change = addorg.add_group(probe.msp_id, addorg.org_group(layout, bin_dir, probe, work))
        before = _config(net)
        needed = signatures.majority(len(PEER_ORGS))
        assert needed == 3
        with pytest.raises(NetworkError, match=r"not sent: 1 of 4 application orgs signed"):
            channel.update_config(
                layout, bin_dir, change, signers=PEER_ORGS[:1], peers=PEER_ORGS, quorum=needed
            )
        with pytest.raises(NetworkError, match=r"not sent: 2 of 4 .* it needs 3"):
            channel.update_config(
                layout, bin_dir, change, signers=PEER_ORGS[:2], peers=PEER_ORGS, quorum=needed
            )
        # Sent with one signature (our check switched off), the orderer refuses it.
        with pytest.raises(NetworkError, match=r"peer channel update failed") as refused:
            channel.update_config(layout, bin_dir, change, signers=PEER_ORGS[:1], peers=PEER_ORGS)
        assert "policy" in str(refused.value), refused.value
        assert _config(net) == before  # nothing changed in the channel
    finally:
        net.procs.stop(pki.ca_process(probe))
        layout.joined_file().unlink()
    assert probe.msp_id not in signatures.application_orgs(_config(net))


@dataclass
class Load:
    """Issuers that issue bills continuously, ``LOAD_WORKERS`` at once, until stopped."""

    description: dict[str, Any]
    acknowledged: dict[str, tuple[SampleBill, str]] = field(default_factory=dict)
    retried: list[str] = field(default_factory=list)  # attempts that failed and were retried
    failed: list[str] = field(default_factory=list)  # bills that never issued
    stop: threading.Event = field(default_factory=threading.Event)
    _next: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def number(self) -> str:
        with self._lock:
            n, self._next = self._next, self._next + 1
        return f"{n:010d}"

    def run(self) -> None:
        unit = open_client(UnitClient, self.description, "units", "hospital1")
        try:
            while not self.stop.is_set():
                sample = outpatient_bill(self.number())
                code = new_check_code()
                for attempt in range(4):  # retry-safe: the same bill, salt and check code
                    try:
                        unit.issue_bill(sample, check_code=code)
                        with self._lock:
                            self.acknowledged[sample.number] = (sample, code)
                        break
                    except Exception as exc:  # noqa: BLE001 - counted and reported
                        with self._lock:
                            self.retried.append(f"{sample.number}#{attempt}: {exc}"[:300])
                        time.sleep(0.5)
                else:
                    with self._lock:
                        self.failed.append(sample.number)
        finally:
            unit.close()

    def count(self) -> int:
        with self._lock:
            return len(self.acknowledged)


def _numbers_on(conn: Connection) -> set[str]:
    """Every bill number of the hospital that ``conn``'s peer holds (ListBillsByUnit pages)."""
    numbers: set[str] = set()
    bookmark = ""
    while True:
        page = query(
            conn, "ListBillsByUnit", HOSPITAL_UNIT["unitCode"], "20000101", "20991231", "100",
            bookmark,
        )  # fmt: skip
        numbers |= {r["billNumber"] for r in page["records"]}
        bookmark = page["bookmark"]
        if not page["records"] or not bookmark:
            return numbers


def test_an_insurer_joins_under_load_and_its_reimburser_claims(
    net: Network, finance: Connection
) -> None:
    load = Load(net.describe())
    workers = [threading.Thread(target=load.run, daemon=True) for _ in range(LOAD_WORKERS)]
    for w in workers:
        w.start()
    try:
        wait_for("the load to issue 10 bills", lambda: load.count() >= 10, timeout=120)
        before = load.count()
        started = time.monotonic()
        result = net.add_org("insurer2", "insurance")
        seconds = time.monotonic() - started
        during = load.count() - before
        wait_for("10 more bills after the add", lambda: load.count() >= before + during + 10,
                 timeout=120)  # fmt: skip
    finally:
        load.stop.set()
        for w in workers:
            w.join(timeout=120)
    print(
        f"\nadd-org under load: {seconds:.1f}s (steps {result['seconds']}); bills acknowledged "
        f"{load.count()} ({during} during the add); attempts retried {len(load.retried)}; "
        f"bills failed {len(load.failed)}"
    )
    for line in load.retried[:10]:
        print(f"  retried: {line}")

    assert result["msp_id"] == "Insurer2MSP"
    assert result["signers"] == ["FinanceMSP", "UnitsMSP", "InsuranceMSP"]
    assert result["sequence"] == 2
    config = _config(net)
    assert "Insurer2MSP" in signatures.application_orgs(config)
    anchors = config["channel_group"]["groups"]["Application"]["groups"]["Insurer2MSP"]["values"]
    port = net.layout.peer_port(net.layout.peer_org("insurer2"))
    assert anchors["AnchorPeers"]["value"]["anchor_peers"] == [{"host": "127.0.0.1", "port": port}]
    description = net.describe()
    assert "insurer2" in description["orgs"]
    assert json.loads(net.layout.network_file().read_text())["orgs"]["insurer2"]["msp_id"] == (
        "Insurer2MSP"
    )
    profile = json.loads((net.layout.profiles_dir() / "finance.json").read_text())
    assert "Insurer2MSP" in profile["organizations"]
    assert (net.layout.profiles_dir() / "insurer2.json").is_file()
    assert load.failed == []
    assert during > 0  # issuance went on during the add

    # The payer authorises the new insurer on a bill issued during the load; its
    # reimburser verifies, locks and claims it.
    sample, code = load.acknowledged[min(load.acknowledged)]
    reimburser = connect(description, "insurer2", "reimburser1")
    platform = connect(description, "finance", "platform1")
    try:
        args = (sample.code, sample.number)
        who = json.dumps({"type": sample.payer["type"], "id": sample.payer["id"]}).encode()
        proof = {"payer": who, "payerSalt": sample.salt}
        verified = query(reimburser, "VerifyBill", *args, code)
        assert verified["genuine"] is True, verified
        refused = refusal(reimburser, "LockBill", *args)
        assert refused.startswith("Forbidden [not-authorised]: LockBill"), refused
        call(platform, "AuthoriseReimburser", *args, "INSURER2", transient=proof)
        assert call(reimburser, "LockBill", *args)["status"] == "locked"
        claimed = call(reimburser, "ClaimBill", *args, "26850", "INS2-2026-0001")
        assert claimed["status"] == "reimbursed"
        assert claimed["lastAction"]["org"] == "Insurer2MSP"
    finally:
        reimburser.close()
        platform.close()

    # Every acknowledged bill on every peer, the new one included; every peer at one height.
    orgs = net.layout.peer_orgs()
    assert [o.key for o in orgs][-1] == "insurer2"
    for org in orgs:
        auditor = connect(description, "audit", "auditor1", via=org.key)
        try:

            def holds_all(a: Connection = auditor, key: str = org.key) -> set[str]:
                held = _numbers_on(a)
                missing = set(load.acknowledged) - held
                assert not missing, (key, sorted(missing)[:5])
                return held

            eventually(holds_all, timeout=60)
        finally:
            auditor.close()

    def one_height() -> int | None:
        heights = {channel.peer_height(net.layout, net.bin_dir, o) for o in orgs}
        return heights.pop() if len(heights) == 1 else None

    height = wait_for("every peer at one height", one_height, timeout=60)
    print(f"  all {len(orgs)} peers at height {height}")


def test_the_joined_org_comes_back_with_the_network(net: Network) -> None:
    """``down`` + ``up`` after the add: the fifth org's CA and peer start with the others,
    every gateway endorses with all five orgs again, and the new reimburser reads its bill."""
    net.down()
    net.up()
    status = net.status(health_check=False)
    assert {"ca-insurer2", "peer0-insurer2"} <= set(status["running"])
    assert status["stopped"] == []
    assert status["sequence"] == 2  # nothing to upgrade: the definition has the org
    reimburser = connect(net.describe(), "insurer2", "reimburser1")
    try:
        claimed = query(reimburser, "ReadBill", OUTPATIENT_CODE, "0000000001")
        assert claimed["status"] == "reimbursed"
    finally:
        reimburser.close()
