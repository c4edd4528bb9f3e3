"""Ed25519 client identities on Fabric 3: peers accept them, our SDK signs with them.

Fabric CA 1.5 issues only ECDSA certificates, so the test issues an Ed25519
certificate itself with the audit org's CA key (from the CA's home), in the
form the CA gives its users: same subject form (OU=client), the CA's attribute
extension (role=supervisor). An evaluate that checks the role and a submit
that commits are then made with it through the Gateway.
"""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from chain import eventually
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

import fabricgw
from ebill.connection import connect
from ebill_network.layout import peer_org
from ebill_network.network import Network
from fabricca.attributes import ATTRIBUTES_OID, certificate_attributes

pytestmark = pytest.mark.network


def _ca_key(ca_home: Path, ca_cert: x509.Certificate) -> ec.EllipticCurvePrivateKey:
    """The CA's signing key: the keystore key whose public key is the CA certificate's."""
    want = ca_cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for path in sorted((ca_home / "msp" / "keystore").glob("*_sk")):
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            continue
        got = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if got == want:
            return key
    raise AssertionError(f"no key of the CA certificate in {ca_home / 'msp' / 'keystore'}")


def _issue_ed25519(network: Network, template_user: str, name: str, out: Path) -> dict[str, str]:
    """Issue an Ed25519 certificate like ``template_user``'s (subject form, attributes)."""
    layout = network.layout
    org = peer_org("audit")
    ca_home = layout.ca_home(org)
    ca_cert = x509.load_pem_x509_certificate((ca_home / "ca-cert.pem").read_bytes())
    ca_key = _ca_key(ca_home, ca_cert)
    template = x509.load_pem_x509_certificate(
        (layout.user_dir(org, template_user) / "msp" / "signcerts" / "cert.pem").read_bytes()
    )
    subject = x509.Name(
        [a for a in template.subject if a.oid != NameOID.COMMON_NAME]
        + [x509.NameAttribute(NameOID.COMMON_NAME, name)]
    )
    key = ed25519.Ed25519PrivateKey.generate()
    now = datetime.datetime.now(datetime.UTC)
    attrs = template.extensions.get_extension_for_oid(ATTRIBUTES_OID).value
    assert isinstance(attrs, x509.UnrecognizedExtension)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # Fabric validates the chain at the certificate's NotBefore + 1 s, and the CA's own
        # NotBefore is its creation rounded to the minute minus 5 minutes: never start earlier.
        .not_valid_before(max(now - datetime.timedelta(minutes=5), ca_cert.not_valid_before_utc))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(x509.UnrecognizedExtension(ATTRIBUTES_OID, attrs.value), critical=False)
    )
    cert = builder.sign(ca_key, hashes.SHA256())
    out.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = out / "cert.pem", out / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return {"cert": str(cert_path), "key": str(key_path)}


@pytest.fixture(scope="module")
def ed25519_description(network: Network, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The network description with an Ed25519 supervisor ``auditor-ed25519`` of the audit org."""
    files = _issue_ed25519(
        network, "auditor1", "auditor-ed25519", tmp_path_factory.mktemp("ed25519")
    )
    description = copy.deepcopy(network.describe())
    description["orgs"]["audit"]["users"]["auditor-ed25519"] = files
    return description


def test_ed25519_identity_evaluates_and_submits(ed25519_description: Any) -> None:
    files = ed25519_description["orgs"]["audit"]["users"]["auditor-ed25519"]
    cert = x509.load_pem_x509_certificate(Path(files["cert"]).read_bytes())
    assert isinstance(cert.public_key(), ed25519.Ed25519PublicKey)
    assert certificate_attributes(cert)["role"] == "supervisor"

    with connect(ed25519_description, "audit", "auditor-ed25519") as conn:
        assert conn.attributes["role"] == "supervisor"
        # ListUnits is for finance and supervisors: the chaincode read the role
        # from the Ed25519 certificate the peer accepted.
        units = eventually(
            lambda: json.loads(conn.contract.evaluate("ListUnits", arguments=["10"]))
        )
        assert units["count"] == len(units["records"])
        # a transaction signed with Ed25519 passes the orderers and commits
        assert conn.contract.submit_transaction("Ping") == b"pong"


def test_ed25519_signature_over_a_digest_is_refused(
    ed25519_description: Any, network: Network
) -> None:
    """The peer really verifies Ed25519 over the whole message: signing a digest fails."""
    files = ed25519_description["orgs"]["audit"]["users"]["auditor-ed25519"]
    org = ed25519_description["orgs"]["audit"]
    with connect(ed25519_description, "audit", "auditor-ed25519") as conn:
        gateway = fabricgw.connect(
            conn.channel,
            identity=fabricgw.Identity.from_pem(org["msp_id"], Path(files["cert"]).read_bytes()),
            signer=fabricgw.signer_from_pem_file(files["key"]),
            hash=fabricgw.SHA256,
        )
        try:
            contract = gateway.get_network(conn.channel_name).get_contract(conn.chaincode_name)
            with pytest.raises(fabricgw.GatewayError) as info:
                contract.evaluate("ListUnits", arguments=["10"])
            # the identity is known (its org is named): the signature is what is refused
            assert "creator org [AuditMSP]" in str(info.value)
        finally:
            gateway.close()
        # the same identity with the right hashing is accepted on the same channel
        units = json.loads(conn.contract.evaluate("ListUnits", arguments=["10"]))
        assert units["count"] == len(units["records"])
