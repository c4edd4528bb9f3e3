"""Render the Kubernetes manifests in deploy/k8s/manifests/ (one file per org namespace).

The node configurations are the ones the local network uses (``ebill_network.configs``:
the Fabric 3.1.1 sample core.yaml/orderer.yaml with our settings laid over) for the
cluster's topology (deploy/k8s/topology.yaml: each node's host is its Service's DNS
name), with the pods' paths and 0.0.0.0 listeners. The key material is not here: the
StatefulSets mount Secrets that deploy/k8s/make_secrets.py makes from a data folder.

    python deploy/k8s/render.py            # rewrite deploy/k8s/manifests/
    python deploy/k8s/render.py --out DIR  # elsewhere (the unit test compares the two)

Validated offline with kubeconform; not run on a cluster.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import yaml

from ebill_network import configs, pki
from ebill_network import topology as topo
from ebill_network.layout import ORDERER_ORG, PEER_ORGS, Layout, Org
from ebill_network.network import install_binaries

HERE = Path(__file__).resolve().parent
TOPOLOGY = HERE / "topology.yaml"
BUILDER = Path(configs.BUILDER_DIR) / "bin"
BASE_PORT = 7000
IMAGES = {
    "peer": "hyperledger/fabric-peer:3.1.1",
    "orderer": "hyperledger/fabric-orderer:3.1.1",
    "ca": "hyperledger/fabric-ca:1.5.15",
    "chaincode": "ebill/chaincode:0.1.0",  # deploy/k8s/chaincode.Dockerfile, not built here
}
NODE = "/etc/ebill/node"  # the node's Secret (MSP, TLS, operations and link pairs)
CONFIG = "/etc/ebill/config"  # its ConfigMap (core.yaml or orderer.yaml)
DATA = "/var/hyperledger/production"  # its PersistentVolumeClaim
BUILDER_MOUNT = "/opt/ebill/ccaas-builder"
ORDERERS = 3  # Raft

#: Secret key -> path under NODE, per kind of node (deploy/k8s/make_secrets.py writes these keys).
NODE_FILES = {
    "msp.signcerts.cert.pem": "msp/signcerts/cert.pem",
    "msp.keystore.key.pem": "msp/keystore/key.pem",
    "msp.cacerts.ca.pem": "msp/cacerts/ca.pem",
    "msp.config.yaml": "msp/config.yaml",
    "tls.cert.pem": "tls/cert.pem",
    "tls.key.pem": "tls/key.pem",
    "tls.ca.pem": "tls/ca.pem",
    "operations.cert.pem": "operations/cert.pem",
    "operations.key.pem": "operations/key.pem",
    "operations-ca.pem": "operations-ca.pem",
}
PEER_FILES = {
    **NODE_FILES,
    "chaincode-client.cert.pem": "chaincode-client/cert.pem",
    "chaincode-client.key.pem": "chaincode-client/key.pem",
}
CA_FILES = {
    "ca-cert.pem": "ca-cert.pem",
    "ca-key.pem": "ca-key.pem",
    "tls-cert.pem": "tls-cert.pem",
    "tls-key.pem": "tls-key.pem",
    "operations.cert.pem": "operations/cert.pem",
    "operations.key.pem": "operations/key.pem",
    "operations-ca.pem": "operations-ca.pem",
}
CHAINCODE_FILES = {"tls.cert.pem": "tls/cert.pem", "tls.key.pem": "tls/key.pem",
                   "link-ca.pem": "link-ca.pem"}  # fmt: skip


def cluster_layout(data_dir: Path) -> Layout:
    """The layout of the cluster's topology (paths under ``data_dir``)."""
    return Layout(data_dir=data_dir, base_port=BASE_PORT, topology=topo.load(TOPOLOGY))


def namespace(org: Org) -> str:
    return f"ebill-{org.key}"


def _relocate(text: str, moves: list[tuple[Path, str]]) -> str:
    for local, pod in sorted(moves, key=lambda m: -len(str(m[0]))):
        text = text.replace(str(local), pod)
    return text


def _node_moves(layout: Layout, org: Org, node: str, listener: str) -> list[tuple[Path, str]]:
    home = layout.node_dir(org, node)
    return [
        (home / "data", DATA),
        (home, NODE),
        (pki.operations_tls(layout, listener), f"{NODE}/operations"),
        (pki.operations_root(layout, listener), f"{NODE}/operations-ca.pem"),
        (configs.BUILDER_DIR, BUILDER_MOUNT),
    ]


def peer_core(layout: Layout, org: Org, sample: Path) -> str:
    """The peer's core.yaml for its pod: listening on 0.0.0.0, advertising its Service."""
    home = configs.write_peer_config(layout, org, sample)
    moves = _node_moves(layout, org, "peer0", f"peer0-{org.key}")
    cfg = yaml.safe_load(_relocate((home / "core.yaml").read_text(), moves))
    cfg["peer"]["listenAddress"] = f"0.0.0.0:{layout.peer_port(org)}"
    cfg["peer"]["chaincodeListenAddress"] = f"0.0.0.0:{layout.peer_chaincode_port(org)}"
    cfg["operations"]["listenAddress"] = f"0.0.0.0:{layout.peer_operations_port(org)}"
    return yaml.safe_dump(cfg, sort_keys=False)


def orderer_yaml(layout: Layout, i: int, sample: Path) -> str:
    """Orderer ``i``'s orderer.yaml for its pod."""
    node = ORDERER_ORG.nodes[i]
    home = configs.write_orderer_config(layout, i, sample)
    cfg = yaml.safe_load(
        _relocate((home / "orderer.yaml").read_text(), _node_moves(layout, ORDERER_ORG, node, node))
    )
    cfg["General"]["ListenAddress"] = "0.0.0.0"
    cfg["Admin"]["ListenAddress"] = f"0.0.0.0:{layout.orderer_admin_port(i)}"
    cfg["Operations"]["ListenAddress"] = f"0.0.0.0:{layout.orderer_operations_port(i)}"
    return yaml.safe_dump(cfg, sort_keys=False)


def _labels(app: str, org: Org) -> dict[str, str]:
    return {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "ebill",
            "ebill/org": org.key}  # fmt: skip


def _service(name: str, org: Org, ports: dict[str, int]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace(org), "labels": _labels(name, org)},
        "spec": {
            "selector": _labels(name, org),
            "ports": [
                {"name": n, "port": p, "targetPort": p, "protocol": "TCP"} for n, p in ports.items()
            ],
        },
    }


def _config_map(name: str, org: Org, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace(org), "labels": _labels(name, org)},
        "data": data,
    }


def _secret_volume(name: str, secret: str, files: dict[str, str]) -> dict[str, Any]:
    items = [
        {"key": k, "path": p, "mode": 0o400 if "key" in k else 0o444} for k, p in files.items()
    ]
    return {"name": name, "secret": {"secretName": secret, "items": items, "defaultMode": 0o400}}


def _stateful_set(
    name: str,
    org: Org,
    container: dict[str, Any],
    volumes: list[dict[str, Any]],
    storage: str,
    data_path: str,
) -> dict[str, Any]:
    container = {
        **container,
        "volumeMounts": [
            *container.get("volumeMounts", []),
            {"name": "data", "mountPath": data_path},
        ],
        "securityContext": {"allowPrivilegeEscalation": False},
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"memory": "1Gi"},
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": namespace(org), "labels": _labels(name, org)},
        "spec": {
            "serviceName": name,
            "replicas": 1,
            "selector": {"matchLabels": _labels(name, org)},
            "template": {
                "metadata": {"labels": _labels(name, org)},
                "spec": {"containers": [container], "volumes": volumes},
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": storage}},
                    },
                }
            ],
        },
    }


def _ports(ports: dict[str, int]) -> list[dict[str, Any]]:
    return [{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in ports.items()]


def _tcp_probe(port: int) -> dict[str, Any]:
    return {"tcpSocket": {"port": port}, "periodSeconds": 10}


def ca_objects(layout: Layout, org: Org) -> list[dict[str, Any]]:
    """The org's Fabric CA: Service ``ca`` and a StatefulSet with its home on a PVC; its
    signing and TLS pairs from the Secret ``ca-keys``, its bootstrap from ``ca-bootstrap``."""
    ports = {"api": layout.ca_port(org), "operations": layout.ca_operations_port(org)}
    keys = "/etc/ebill/ca"
    env = {
        "FABRIC_CA_SERVER_OPERATIONS_LISTENADDRESS": f"0.0.0.0:{ports['operations']}",
        "FABRIC_CA_SERVER_OPERATIONS_TLS_ENABLED": "true",
        "FABRIC_CA_SERVER_OPERATIONS_TLS_CERT_FILE": f"{keys}/operations/cert.pem",
        "FABRIC_CA_SERVER_OPERATIONS_TLS_KEY_FILE": f"{keys}/operations/key.pem",
        "FABRIC_CA_SERVER_OPERATIONS_TLS_CLIENTCERTREQUIRED": "true",
        "FABRIC_CA_SERVER_OPERATIONS_TLS_CLIENTCACERTFILES": f"{keys}/operations-ca.pem",
        "FABRIC_CA_SERVER_METRICS_PROVIDER": "disabled",
    }
    container = {
        "name": "ca",
        "image": IMAGES["ca"],
        "command": ["fabric-ca-server", "start"],
        "args": [
            "--home",
            "/var/hyperledger/fabric-ca-server",
            "--port",
            str(ports["api"]),
            "--address",
            "0.0.0.0",
            "--ca.name",
            f"ca-{org.key}",
            "--ca.certfile",
            f"{keys}/ca-cert.pem",
            "--ca.keyfile",
            f"{keys}/ca-key.pem",
            "--tls.enabled",
            "--tls.certfile",
            f"{keys}/tls-cert.pem",
            "--tls.keyfile",
            f"{keys}/tls-key.pem",
            "--registry.maxenrollments",
            "1",
        ],  # fmt: skip
        "env": [
            *({"name": k, "value": v} for k, v in env.items()),
            {
                "name": "FABRIC_CA_SERVER_BOOT",
                "valueFrom": {"secretKeyRef": {"name": "ca-bootstrap", "key": "boot"}},
            },
        ],
        "ports": _ports(ports),
        "readinessProbe": _tcp_probe(ports["api"]),
        "volumeMounts": [{"name": "keys", "mountPath": keys, "readOnly": True}],
    }
    volumes = [_secret_volume("keys", "ca-keys", CA_FILES)]
    return [
        _service("ca", org, ports),
        _stateful_set("ca", org, container, volumes, "1Gi", "/var/hyperledger/fabric-ca-server"),
    ]


def _node_container(
    name: str, image: str, command: list[str], ports: dict[str, int], env: dict[str, str]
) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "command": command,
        "env": [{"name": k, "value": v} for k, v in env.items()],
        "ports": _ports(ports),
        "readinessProbe": _tcp_probe(next(iter(ports.values()))),
        "volumeMounts": [
            {"name": "config", "mountPath": CONFIG, "readOnly": True},
            {"name": "node", "mountPath": NODE, "readOnly": True},
        ],
    }


def peer_objects(layout: Layout, org: Org, sample: Path) -> list[dict[str, Any]]:
    """The org's peer: Service ``peer0``, ConfigMaps (core.yaml, the ccaas builder) and
    a StatefulSet with its ledger on a PVC and its key material from Secret ``peer0-node``."""
    ports = {
        "peer": layout.peer_port(org),
        "chaincode": layout.peer_chaincode_port(org),
        "operations": layout.peer_operations_port(org),
    }
    env = {
        "FABRIC_CFG_PATH": CONFIG,
        "FABRIC_LOGGING_SPEC": "INFO:gossip=WARN",
        configs.CLIENT_TLS_ENV: f"{NODE}/chaincode-client",
    }
    container = _node_container("peer", IMAGES["peer"], ["peer", "node", "start"], ports, env)
    container["volumeMounts"].append(
        {"name": "builder", "mountPath": f"{BUILDER_MOUNT}/bin", "readOnly": True}
    )
    builder = {name: (BUILDER / name).read_text() for name in ("detect", "build", "release")}
    volumes = [
        {"name": "config", "configMap": {"name": "peer0-config"}},
        _secret_volume("node", "peer0-node", PEER_FILES),
        {"name": "builder", "configMap": {"name": "ccaas-builder", "defaultMode": 0o555}},
    ]
    return [
        _config_map("peer0-config", org, {"core.yaml": peer_core(layout, org, sample)}),
        _config_map("ccaas-builder", org, builder),
        _service("peer0", org, ports),
        _stateful_set("peer0", org, container, volumes, "10Gi", DATA),
    ]


def orderer_objects(layout: Layout, i: int, sample: Path) -> list[dict[str, Any]]:
    """Orderer ``i``: Service, ConfigMap (orderer.yaml), StatefulSet (ledger and WAL on a PVC)."""
    node = ORDERER_ORG.nodes[i]
    ports = {
        "orderer": layout.orderer_port(i),
        "admin": layout.orderer_admin_port(i),
        "operations": layout.orderer_operations_port(i),
    }
    env = {"FABRIC_CFG_PATH": CONFIG, "FABRIC_LOGGING_SPEC": "INFO"}
    container = _node_container("orderer", IMAGES["orderer"], ["orderer"], ports, env)
    volumes = [
        {"name": "config", "configMap": {"name": f"{node}-config"}},
        _secret_volume("node", f"{node}-node", NODE_FILES),
    ]
    return [
        _config_map(
            f"{node}-config", ORDERER_ORG, {"orderer.yaml": orderer_yaml(layout, i, sample)}
        ),
        _service(node, ORDERER_ORG, ports),
        _stateful_set(node, ORDERER_ORG, container, volumes, "10Gi", DATA),
    ]


def chaincode_objects(layout: Layout) -> list[dict[str, Any]]:
    """The chaincode server (run by finance): Service ``chaincode`` and a StatefulSet whose
    anomaly spool is on a PVC; TLS from Secret ``chaincode-tls``, the package id from
    ConfigMap ``chaincode-package`` (both made by make_secrets.py)."""
    finance = PEER_ORGS[0]
    port = layout.chaincode_port(0)
    spool = "/var/lib/ebill"
    env = {
        "CHAINCODE_SERVER_ADDRESS": f"0.0.0.0:{port}",
        "CHAINCODE_TLS_CERT": f"{NODE}/tls/cert.pem",
        "CHAINCODE_TLS_KEY": f"{NODE}/tls/key.pem",
        "CHAINCODE_TLS_CLIENT_CA": f"{NODE}/link-ca.pem",
        "CHAINCODE_ANOMALY_SPOOL": f"{spool}/anomalies/spool.jsonl",
        "PYTHONUNBUFFERED": "1",
    }
    container = {
        "name": "chaincode",
        "image": IMAGES["chaincode"],
        "env": [
            {
                "name": "CHAINCODE_ID",
                "valueFrom": {
                    "configMapKeyRef": {"name": "chaincode-package", "key": "package_id"}
                },
            },
            *({"name": k, "value": v} for k, v in env.items()),
        ],
        "ports": _ports({"chaincode": port}),
        "readinessProbe": _tcp_probe(port),
        "volumeMounts": [{"name": "node", "mountPath": NODE, "readOnly": True}],
    }
    volumes = [_secret_volume("node", "chaincode-tls", CHAINCODE_FILES)]
    return [
        _service("chaincode", finance, {"chaincode": port}),
        _stateful_set("chaincode", finance, container, volumes, "1Gi", spool),
    ]


def render(sample: Path) -> dict[str, list[dict[str, Any]]]:
    """Every object, by manifest file name (one per namespace)."""
    with tempfile.TemporaryDirectory() as tmp:
        layout = cluster_layout(Path(tmp))
        out: dict[str, list[dict[str, Any]]] = {}
        for org in (ORDERER_ORG, *PEER_ORGS):
            meta = {"name": namespace(org), "labels": _labels(namespace(org), org)}
            ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}
            objects = [ns, *ca_objects(layout, org)]
            if org is ORDERER_ORG:
                for i in range(ORDERERS):
                    objects += orderer_objects(layout, i, sample)
            else:
                objects += peer_objects(layout, org, sample)
            if org is PEER_ORGS[0]:
                objects += chaincode_objects(layout)
            out[f"{namespace(org)}.yaml"] = objects
        return out


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (core.yaml, the builder scripts) as literal blocks, to read them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)

HEADER = "# Rendered by deploy/k8s/render.py from the network's configs; do not edit.\n"


def write(out_dir: Path, sample: Path) -> list[Path]:
    """Write the manifests into ``out_dir``; returns the files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for name, objects in render(sample).items():
        path = out_dir / name
        path.write_text(HEADER + yaml.dump_all(objects, Dumper=_Dumper, sort_keys=False, width=100))
        files.append(path)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "manifests")
    parser.add_argument("--sample", type=Path, help="the Fabric release's sample config folder")
    args = parser.parse_args(argv)
    sample = args.sample or install_binaries().parent / "config"
    for path in write(args.out, sample):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
