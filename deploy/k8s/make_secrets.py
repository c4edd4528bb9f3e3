"""Make the Secrets (and the chaincode's package id ConfigMap) that the manifests of
deploy/k8s/manifests mount, from the key material of a network's data folder.

    python deploy/k8s/make_secrets.py DATA_DIR OUT_DIR

DATA_DIR is a folder made by ``ebill-network up`` (our pki: every org's CA-issued
MSP and TLS pairs, the operations and chaincode-link CAs); OUT_DIR (0700, files 0600)
gets one YAML file per namespace, to ``kubectl apply -f`` and never to commit
(``deploy/k8s/secrets/`` is ignored by git). It also writes the channel's genesis block
for the cluster (ConfigMap ``channel-genesis`` in every namespace) and the chaincode
package id (ConfigMap ``chaincode-package``). Each TLS server certificate must name its
node's Service (``peer0.ebill-finance.svc.cluster.local``...): the script lists every
certificate that does not, since TLS to that node would fail in the cluster.
"""

from __future__ import annotations

import argparse
import base64
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(Path(__file__).resolve().parent))

import render  # noqa: E402  (deploy/k8s/render.py)

from ebill_network import chaincode, channel, configs, pki  # noqa: E402
from ebill_network.files import make_private_dir, write_private  # noqa: E402
from ebill_network.layout import CHANNEL, ORDERER_ORG, PEER_ORGS, Layout, Org  # noqa: E402
from ebill_network.network import install_binaries  # noqa: E402


def _secret(name: str, org: Org, files: dict[str, bytes]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": render.namespace(org)},
        "type": "Opaque",
        "data": {k: base64.b64encode(v).decode() for k, v in sorted(files.items())},
    }


def _read(paths: dict[str, Path]) -> dict[str, bytes]:
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise SystemExit(f"secrets: missing in the data folder: {', '.join(missing)}")
    return {key: path.read_bytes() for key, path in paths.items()}


def _node_files(layout: Layout, org: Org, node: str, listener: str) -> dict[str, Path]:
    home = layout.node_dir(org, node)
    ops = pki.operations_tls(layout, listener)
    paths = {key: home / rel for key, rel in render.NODE_FILES.items()}
    paths.update(
        {
            "operations.cert.pem": ops / "cert.pem",
            "operations.key.pem": ops / "key.pem",
            "operations-ca.pem": pki.operations_ca(layout).cert_file,
        }
    )
    if org.kind == "peer":
        link = pki.peer_link_tls(layout, org)
        paths["chaincode-client.cert.pem"] = link / "cert.pem"
        paths["chaincode-client.key.pem"] = link / "key.pem"
    return paths


def _key_for(cert_file: Path, keystore: Path) -> Path:
    """The key file in ``keystore`` whose public key is the certificate's."""
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    want = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for path in sorted(keystore.glob("*")):
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), None)
        except (ValueError, TypeError):
            continue
        got = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if got == want:
            return path
    raise SystemExit(f"secrets: no key in {keystore} for {cert_file}")


def _ca_files(layout: Layout, org: Org) -> dict[str, bytes]:
    home = layout.ca_home(org)
    keystore = home / "msp" / "keystore"
    ops = pki.operations_tls(layout, pki.ca_process(org))
    return _read(
        {
            "ca-cert.pem": home / "ca-cert.pem",
            "ca-key.pem": _key_for(home / "ca-cert.pem", keystore),
            "tls-cert.pem": home / "tls-cert.pem",
            "tls-key.pem": _key_for(home / "tls-cert.pem", keystore),
            "operations.cert.pem": ops / "cert.pem",
            "operations.key.pem": ops / "key.pem",
            "operations-ca.pem": pki.operations_ca(layout).cert_file,
        }
    )


def _names(cert_pem: bytes) -> set[str]:
    cert = x509.load_pem_x509_certificate(cert_pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return set(san.get_values_for_type(x509.DNSName)) | {
        str(ip) for ip in san.get_values_for_type(x509.IPAddress)
    }


def _package_id(data: Path) -> str:
    """The id of the chaincode package whose connection.json names the cluster's server."""
    with tempfile.TemporaryDirectory() as tmp:
        layout = render.cluster_layout(Path(tmp))
        link = pki.link_ca(layout).cert_file
        link.parent.mkdir(parents=True)
        shutil.copyfile(pki.link_ca(Layout(data_dir=data)).cert_file, link)
        return chaincode.build_package(layout).package_id


def genesis_block(data: Path) -> bytes:
    """The channel's genesis block for the cluster: the local network's channel
    configuration (orgs' MSPs, Raft consenters by their TLS certificates) with the
    cluster's endpoints (orderer endpoints, anchor peers: the Services). Made from a copy
    of the data folder's public parts (no key is copied)."""
    private = shutil.ignore_patterns("keystore", "ca", "users", "registrar", "data", "*key*")
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(data / "orgs", Path(tmp) / "orgs", ignore=private)
        layout = render.cluster_layout(Path(tmp))
        block = channel.create_genesis_block(
            layout, install_binaries(), configs.write_configtx(layout)
        )
        return block.read_bytes()


def make(data: Path, out: Path) -> list[str]:
    """Write the Secret files into ``out``; returns the certificates that do not name
    their Service (each as "file: expected name")."""
    local = Layout(data_dir=data)
    cluster = render.cluster_layout(data)
    by_ns: dict[str, list[dict[str, Any]]] = {}
    mismatched: list[str] = []

    def add(org: Org, obj: dict[str, Any]) -> None:
        by_ns.setdefault(render.namespace(org), []).append(obj)

    def check(label: str, cert: bytes, name: str) -> None:
        if name not in _names(cert):
            mismatched.append(f"{label}: {name}")

    for org in (ORDERER_ORG, *PEER_ORGS):
        ca = _ca_files(local, org)
        check(f"ca-{org.key} tls-cert.pem", ca["tls-cert.pem"], cluster.ca_host(org).address)
        add(org, _secret("ca-keys", org, ca))
        boot = pki.secret_file(local, org, pki.REGISTRAR_NAME).read_text().strip()
        add(org, _secret("ca-bootstrap", org, {"boot": f"{pki.REGISTRAR_NAME}:{boot}".encode()}))
    for i in range(render.ORDERERS):
        node = ORDERER_ORG.nodes[i]
        files = _read(_node_files(local, ORDERER_ORG, node, node))
        check(f"{node} tls/cert.pem", files["tls.cert.pem"], cluster.orderer_host(i).address)
        add(ORDERER_ORG, _secret(f"{node}-node", ORDERER_ORG, files))
    for org in PEER_ORGS:
        files = _read(_node_files(local, org, "peer0", f"peer0-{org.key}"))
        check(
            f"peer0-{org.key} tls/cert.pem", files["tls.cert.pem"], cluster.peer_host(org).address
        )
        add(org, _secret("peer0-node", org, files))
    server = pki.chaincode_server_tls(local)
    cc = _read(
        {
            "tls.cert.pem": server / "cert.pem",
            "tls.key.pem": server / "key.pem",
            "link-ca.pem": pki.link_ca(local).cert_file,
        }
    )
    check("chaincode tls/cert.pem", cc["tls.cert.pem"], cluster.chaincode_host().address)
    finance = PEER_ORGS[0]
    add(finance, _secret("chaincode-tls", finance, cc))
    add(
        finance, render._config_map("chaincode-package", finance, {"package_id": _package_id(data)})
    )
    block = base64.b64encode(genesis_block(data)).decode()
    for org in (ORDERER_ORG, *PEER_ORGS):
        genesis = render._config_map("channel-genesis", org, {})
        del genesis["data"]
        genesis["binaryData"] = {f"{CHANNEL}.block": block}
        add(org, genesis)

    make_private_dir(out)
    for ns, objects in by_ns.items():
        write_private(
            out / f"{ns}-secrets.yaml", yaml.safe_dump_all(objects, sort_keys=False).encode()
        )
    return mismatched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    mismatched = make(args.data_dir.resolve(), args.out_dir)
    print(f"secrets: written to {args.out_dir}")
    if mismatched:
        print("secrets: these TLS certificates do not name their Service (TLS would fail):")
        print("\n".join(f"  {m}" for m in mismatched))
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
