"""The contract describes itself on the network: ``org.hyperledger.fabric:GetMetadata``
through Fabric's own ``peer chaincode query``, as an org admin without any role (the
metadata is public), agrees with the functions the chaincode serves."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from chain import Connect, query

from ebill_chaincode.contract import contract, interface, metadata
from ebill_network.channel import peer_admin_env
from ebill_network.layout import CHAINCODE, CHANNEL, peer_org
from ebill_network.network import Network

pytestmark = pytest.mark.network

CLI_TIMEOUT = 60


def peer_query(network: Network, org_key: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``peer chaincode query`` as the org's admin (no role attribute) at the org's peer."""
    return subprocess.run(
        [
            str(network.bin_dir / "peer"),
            "chaincode", "query", "-C", CHANNEL, "-n", CHAINCODE,
            "-c", json.dumps({"Args": list(args)}),
        ],
        env={**os.environ, **peer_admin_env(network.layout, peer_org(org_key))},
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )  # fmt: skip


@pytest.mark.parametrize("org", ["units", "audit"])
def test_peer_cli_reads_the_contract_metadata(network: Network, org: str) -> None:
    proc = peer_query(network, org, interface.METADATA_FUNCTION)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["$schema"] == metadata.SCHEMA_URL
    transactions = {tx["name"]: tx for tx in answer["contracts"][CHAINCODE]["transactions"]}
    # the deployed chaincode serves what it declares, with the declared arguments
    assert sorted(transactions) == contract.function_names
    for name, declared in interface.FUNCTIONS.items():
        tx = transactions[name]
        assert tx["tag"] == [declared.tag], name
        assert [p["name"] for p in tx["parameters"]] == list(declared.param_names), name
        assert tx["x-ebill-roles"] == sorted(declared.roles), name
        assert set(tx["x-ebill-errors"]) <= set(answer["x-ebill-errors"]), name
    assert answer == json.loads(json.dumps(metadata.build()))
    schemas = answer["components"]["schemas"]
    assert {"Unit", "StockBatch", "Bill", "BillPrivate", "Anomaly"} <= set(schemas)


def test_every_declared_function_is_served_with_its_arity(
    network: Network, connect_as: Connect
) -> None:
    """Each function answers with its own refusal, never unknown-function or
    wrong-argument-count, when called with as many arguments as the interface says
    (as the org admin, who has no role: a role check or an argument check answers)."""
    del connect_as
    for name, declared in interface.FUNCTIONS.items():
        if not declared.params:
            continue
        args = [""] * len(declared.params)
        proc = peer_query(network, "units", name, *args)
        assert "unknown-function" not in proc.stderr, (name, proc.stderr)
        assert "wrong-argument-count" not in proc.stderr, (name, proc.stderr)
        proc = peer_query(network, "units", name, *args, "extra")
        assert proc.returncode != 0 and "wrong-argument-count" in proc.stderr, (name, proc.stderr)


def test_metadata_through_the_gateway_is_the_same(connect_as: Connect) -> None:
    answer = query(connect_as("units", "hospital1"), interface.METADATA_FUNCTION)
    assert answer == json.loads(json.dumps(metadata.build()))
