"""deploy/k8s: the committed manifests are what render.py makes from the network's
configs, and kubeconform (strict, offline schemas) finds every resource valid and
refuses a broken one. Validated, not run on a cluster."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from ebill_network.network import install_binaries

K8S = Path(__file__).parents[2] / "deploy" / "k8s"
sys.path.insert(0, str(K8S))

import render  # noqa: E402
import validate  # noqa: E402


def test_the_committed_manifests_are_the_rendered_ones(tmp_path: Path) -> None:
    sample = install_binaries().parent / "config"
    written = render.write(tmp_path, sample)
    committed = sorted(p.name for p in (K8S / "manifests").glob("*.yaml"))
    assert sorted(p.name for p in written) == committed
    for path in written:
        assert path.read_text() == (K8S / "manifests" / path.name).read_text(), (
            f"{path.name} is stale: python deploy/k8s/render.py"
        )


def test_every_manifest_is_valid_for_kubeconform() -> None:
    result = validate.validate([K8S / "manifests"])
    assert result.returncode == 0, result.stdout + result.stderr
    kinds = [
        doc["kind"]
        for path in (K8S / "manifests").glob("*.yaml")
        for doc in yaml.safe_load_all(path.read_text())
    ]
    assert (
        kinds.count("Namespace") == 5 and kinds.count("StatefulSet") == 13
    )  # 5 CAs, 3 orderers, 4 peers, chaincode
    assert f"{len(kinds)} resources found in 5 files - Valid: {len(kinds)}, Invalid: 0" in (
        result.stdout
    )


def test_kubeconform_refuses_a_broken_manifest(tmp_path: Path) -> None:
    docs = list(yaml.safe_load_all((K8S / "manifests" / "ebill-units.yaml").read_text()))
    peer = next(d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "peer0")
    peer["spec"]["replica"] = 1  # not a field of a StatefulSetSpec
    service = next(d for d in docs if d["kind"] == "Service")
    service["spec"]["ports"][0]["port"] = "seven thousand"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump_all(docs))
    result = validate.validate([broken])
    assert result.returncode != 0
    assert "Invalid: 2" in result.stdout, result.stdout
    assert "'replica' not allowed" in result.stdout
    assert "/spec/ports/0/port': got string, want integer" in result.stdout
