"""Connection profiles: Fabric's common connection profile (JSON or YAML) and channels to its peers.

The parts read are the ones needed to reach peers and CAs::

    organizations:
      Org1: {mspid: Org1MSP, peers: [peer0.org1.example.com],
             certificateAuthorities: [ca.org1.example.com]}
    peers:
      peer0.org1.example.com:
        url: grpcs://localhost:7051
        tlsCACerts: {pem: "-----BEGIN CERTIFICATE-----..."}   # or {path: tls/ca.pem}
        grpcOptions: {ssl-target-name-override: peer0.org1.example.com}
    certificateAuthorities:
      ca.org1.example.com:
        url: https://localhost:7054
        caName: ca-org1
        tlsCACerts: {pem: ["-----BEGIN CERTIFICATE-----..."]}  # or {path: ...}

Other sections (``client``, ``channels``, ``orderers``) are kept in
:attr:`ConnectionProfile.raw` but not interpreted. Relative ``path`` values
are resolved against the directory of the profile file.

Typical use::

    profile = fabricgw.profile.load_connection_profile("connection-org1.yaml")
    channel = profile.peer_channel("Org1")          # or a peer name
    gateway = fabricgw.connect(channel, identity=..., signer=...)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc
import yaml

from .channel_options import channel_options

_PEER_SCHEMES = {"grpc": False, "grpcs": True}
_OVERRIDE_KEYS = ("ssl-target-name-override", "hostnameOverride")

ChannelOption = tuple[str, str | int]
"""A gRPC channel argument, e.g. ``("grpc.ssl_target_name_override", "peer0")``."""


class ProfileError(ValueError):
    """A connection profile is missing a field, has a field of the wrong type, or cannot be read."""


@dataclass(frozen=True, slots=True)
class PeerConfig:
    """How to reach one peer.

    ``address`` is ``host:port`` from ``url``; ``tls`` is true for ``grpcs://``;
    ``tls_ca_certs`` the PEM root certificates (``None``: the system roots);
    ``ssl_target_name_override`` the host name expected in the peer's TLS
    certificate when it differs from the address (``grpcOptions``).
    """

    name: str
    url: str
    address: str
    tls: bool
    tls_ca_certs: bytes | None = None
    ssl_target_name_override: str | None = None
    grpc_options: Mapping[str, Any] = field(default_factory=dict)

    def channel_options(self) -> list[ChannelOption]:
        """gRPC channel arguments: the name override, then ``grpc.*`` entries of ``grpcOptions``."""
        options: list[ChannelOption] = []
        if self.ssl_target_name_override:
            options.append(("grpc.ssl_target_name_override", self.ssl_target_name_override))
        for key, value in self.grpc_options.items():
            if key.startswith("grpc.") and isinstance(value, str | int):
                options.append((key, int(value) if isinstance(value, bool) else value))
        return options

    def credentials(
        self, *, client_key: bytes | None = None, client_cert: bytes | None = None
    ) -> grpc.ChannelCredentials:
        """TLS credentials trusting :attr:`tls_ca_certs` (with a client key pair for mutual TLS).

        Raises :class:`ProfileError` if the peer does not use TLS.
        """
        if not self.tls:
            raise ProfileError(f"peer {self.name} does not use TLS ({self.url})")
        return grpc.ssl_channel_credentials(
            root_certificates=self.tls_ca_certs,
            private_key=client_key,
            certificate_chain=client_cert,
        )

    def channel(
        self,
        *,
        client_key: bytes | None = None,
        client_cert: bytes | None = None,
        options: Sequence[ChannelOption] = (),
    ) -> grpc.Channel:
        """Open a gRPC channel to the peer (secure for ``grpcs://``). The caller closes it.

        ``client_key``/``client_cert`` (PEM) enable mutual TLS; ``options`` are
        extra channel arguments, laid over the profile's and over
        :data:`fabricgw.channel_options.CHANNEL_OPTIONS` (bounded reconnect
        backoff). Makes no network call.
        """
        all_options = channel_options(**dict([*self.channel_options(), *options]))
        if not self.tls:
            return grpc.insecure_channel(self.address, options=all_options)
        credentials = self.credentials(client_key=client_key, client_cert=client_cert)
        return grpc.secure_channel(self.address, credentials, options=all_options)

    def aio_channel(
        self,
        *,
        client_key: bytes | None = None,
        client_cert: bytes | None = None,
        options: Sequence[ChannelOption] = (),
    ) -> grpc.aio.Channel:
        """As :meth:`channel`, a ``grpc.aio`` channel for :func:`fabricgw.aio.connect`."""
        all_options = channel_options(**dict([*self.channel_options(), *options]))
        if not self.tls:
            return grpc.aio.insecure_channel(self.address, options=all_options)
        credentials = self.credentials(client_key=client_key, client_cert=client_cert)
        return grpc.aio.secure_channel(self.address, credentials, options=all_options)


@dataclass(frozen=True, slots=True)
class CertificateAuthorityConfig:
    """A Fabric CA: its ``url``, ``ca_name`` (``caName``) and TLS root certificates (PEM)."""

    name: str
    url: str
    ca_name: str | None = None
    tls_ca_certs: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class OrganizationConfig:
    """An organization: its MSP ID and the names of its peers and CAs."""

    name: str
    msp_id: str
    peers: tuple[str, ...] = ()
    certificate_authorities: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConnectionProfile:
    """A parsed common connection profile. Look-ups raise :class:`ProfileError` if unknown."""

    name: str | None
    version: str | None
    client_organization: str | None
    organizations: Mapping[str, OrganizationConfig]
    peers: Mapping[str, PeerConfig]
    certificate_authorities: Mapping[str, CertificateAuthorityConfig]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def organization(self, name_or_msp_id: str) -> OrganizationConfig:
        """The organization named ``name_or_msp_id`` (or with that MSP ID)."""
        organization = self.organizations.get(name_or_msp_id)
        if organization is not None:
            return organization
        for candidate in self.organizations.values():
            if candidate.msp_id == name_or_msp_id:
                return candidate
        raise ProfileError(f"no organization named {name_or_msp_id!r} in the connection profile")

    def peer(self, name_or_org: str) -> PeerConfig:
        """The peer named ``name_or_org``, else the first peer of that organization (or MSP ID)."""
        peer = self.peers.get(name_or_org)
        if peer is not None:
            return peer
        try:
            organization = self.organization(name_or_org)
        except ProfileError:
            raise ProfileError(
                f"no peer or organization named {name_or_org!r} in the connection profile"
            ) from None
        if not organization.peers:
            raise ProfileError(f"organization {organization.name} lists no peers")
        return self.peers[organization.peers[0]]

    def certificate_authority(self, name_or_org: str) -> CertificateAuthorityConfig:
        """The CA named ``name_or_org``, else the first CA of that organization (or MSP ID)."""
        authority = self.certificate_authorities.get(name_or_org)
        if authority is not None:
            return authority
        try:
            organization = self.organization(name_or_org)
        except ProfileError:
            raise ProfileError(
                f"no certificate authority or organization named {name_or_org!r}"
            ) from None
        if not organization.certificate_authorities:
            raise ProfileError(f"organization {organization.name} lists no certificateAuthorities")
        return self.certificate_authorities[organization.certificate_authorities[0]]

    def peer_channel(
        self,
        name_or_org: str,
        *,
        client_key: bytes | None = None,
        client_cert: bytes | None = None,
        options: Sequence[ChannelOption] = (),
    ) -> grpc.Channel:
        """Open a gRPC channel to :meth:`peer` ``(name_or_org)``; see :meth:`PeerConfig.channel`."""
        return self.peer(name_or_org).channel(
            client_key=client_key, client_cert=client_cert, options=options
        )

    def peer_aio_channel(
        self,
        name_or_org: str,
        *,
        client_key: bytes | None = None,
        client_cert: bytes | None = None,
        options: Sequence[ChannelOption] = (),
    ) -> grpc.aio.Channel:
        """As :meth:`peer_channel`, a ``grpc.aio`` channel."""
        return self.peer(name_or_org).aio_channel(
            client_key=client_key, client_cert=client_cert, options=options
        )


def load_connection_profile(path: str | os.PathLike[str]) -> ConnectionProfile:
    """Read a connection profile file: JSON for ``.json``, otherwise YAML (which also reads JSON).

    Raises :class:`ProfileError` if the file cannot be read or parsed, or a
    field is missing or malformed (the message names the field).
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise ProfileError(f"cannot read connection profile {file}: {err}") from err
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise ProfileError(f"connection profile {file} does not parse: {err}") from err
    return parse_connection_profile(data, base_dir=file.parent, source=str(file))


def parse_connection_profile(
    data: Any, *, base_dir: str | os.PathLike[str] | None = None, source: str = "connection profile"
) -> ConnectionProfile:
    """Build a :class:`ConnectionProfile` from already parsed data.

    Relative ``path`` values are resolved against ``base_dir`` (default: the
    current directory). ``source`` names the profile in error messages.
    Raises :class:`ProfileError` as :func:`load_connection_profile`.
    """
    reader = _Reader(source, Path(base_dir) if base_dir is not None else Path.cwd())
    root = reader.mapping(data, "")
    peers = {
        name: reader.peer(name, value)
        for name, value in reader.mapping(root.get("peers") or {}, "peers").items()
    }
    authorities = {
        name: reader.certificate_authority(name, value)
        for name, value in reader.mapping(
            root.get("certificateAuthorities") or {}, "certificateAuthorities"
        ).items()
    }
    organizations = {
        name: reader.organization(name, value, peers, authorities)
        for name, value in reader.mapping(
            reader.required(root, "organizations", ""), "organizations"
        ).items()
    }
    client = root.get("client")
    client_organization = client.get("organization") if isinstance(client, Mapping) else None
    return ConnectionProfile(
        name=_optional_str(root.get("name")),
        version=_optional_str(root.get("version")),
        client_organization=_optional_str(client_organization),
        organizations=organizations,
        peers=peers,
        certificate_authorities=authorities,
        raw=root,
    )


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


class _Reader:
    """Field access with errors naming the profile and the dotted field path."""

    def __init__(self, source: str, base_dir: Path) -> None:
        self._source = source
        self._base_dir = base_dir

    def error(self, where: str, problem: str) -> ProfileError:
        return ProfileError(f"{self._source}: {where + ' ' if where else ''}{problem}")

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(where or "top level", f"must be a mapping, got {type(value).__name__}")
        return {str(key): item for key, item in value.items()}

    def required(self, parent: Mapping[str, Any], key: str, where: str) -> Any:
        value = parent.get(key)
        if value is None or value == "":
            raise self.error(f"{where}.{key}" if where else key, "is missing")
        return value

    def string(self, parent: Mapping[str, Any], key: str, where: str) -> str:
        value = self.required(parent, key, where)
        if not isinstance(value, str | int):
            raise self.error(f"{where}.{key}", f"must be a string, got {type(value).__name__}")
        return str(value)

    def names(self, parent: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = parent.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, Sequence):
            raise self.error(f"{where}.{key}", "must be a list of names")
        return tuple(str(item) for item in value)

    def peer(self, name: str, value: Any) -> PeerConfig:
        where = f"peers.{name}"
        peer = self.mapping(value, where)
        url = self.string(peer, "url", where)
        parts = urlsplit(url)
        if parts.scheme not in _PEER_SCHEMES:
            raise self.error(
                f"{where}.url", f"must be grpcs://host:port or grpc://host:port: {url}"
            )
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            raise self.error(f"{where}.url", f"needs a host and a port: {url}")
        grpc_options = self.mapping(peer.get("grpcOptions") or {}, f"{where}.grpcOptions")
        override = next((grpc_options[k] for k in _OVERRIDE_KEYS if grpc_options.get(k)), None)
        certs = peer.get("tlsCACerts")
        tls_ca_certs = None
        if certs is not None:
            tls_ca_certs = b"".join(self.pems(certs, f"{where}.tlsCACerts"))
        return PeerConfig(
            name=name,
            url=url,
            address=parts.netloc,
            tls=_PEER_SCHEMES[parts.scheme],
            tls_ca_certs=tls_ca_certs,
            ssl_target_name_override=None if override is None else str(override),
            grpc_options=grpc_options,
        )

    def certificate_authority(self, name: str, value: Any) -> CertificateAuthorityConfig:
        where = f"certificateAuthorities.{name}"
        authority = self.mapping(value, where)
        certs = authority.get("tlsCACerts")
        return CertificateAuthorityConfig(
            name=name,
            url=self.string(authority, "url", where),
            ca_name=_optional_str(authority.get("caName")),
            tls_ca_certs=() if certs is None else self.pems(certs, f"{where}.tlsCACerts"),
        )

    def organization(
        self,
        name: str,
        value: Any,
        peers: Mapping[str, PeerConfig],
        authorities: Mapping[str, CertificateAuthorityConfig],
    ) -> OrganizationConfig:
        where = f"organizations.{name}"
        organization = self.mapping(value, where)
        peer_names = self.names(organization, "peers", where)
        authority_names = self.names(organization, "certificateAuthorities", where)
        for peer_name in peer_names:
            if peer_name not in peers:
                raise self.error(f"{where}.peers", f"names {peer_name!r}, missing from peers")
        for authority_name in authority_names:
            if authority_name not in authorities:
                raise self.error(
                    f"{where}.certificateAuthorities",
                    f"names {authority_name!r}, missing from certificateAuthorities",
                )
        return OrganizationConfig(
            name=name,
            msp_id=self.string(organization, "mspid", where),
            peers=peer_names,
            certificate_authorities=authority_names,
        )

    def pems(self, value: Any, where: str) -> tuple[bytes, ...]:
        """``tlsCACerts``: ``{pem: str | [str]}`` or ``{path: str | [str]}``."""
        certs = self.mapping(value, where)
        if certs.get("pem"):
            items, from_files = certs["pem"], False
        elif certs.get("path"):
            items, from_files = certs["path"], True
        else:
            raise self.error(where, "needs pem or path")
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, Sequence) or not all(isinstance(i, str) for i in items):
            key = "path" if from_files else "pem"
            raise self.error(f"{where}.{key}", "must be a string or a list of strings")
        pems = tuple(self.read(i, f"{where}.path") if from_files else i.encode() for i in items)
        for pem in pems:
            if b"-----BEGIN" not in pem:
                raise self.error(where, "does not hold PEM data")
        return pems

    def read(self, path: str, where: str) -> bytes:
        file = Path(os.path.expandvars(os.path.expanduser(path)))
        if not file.is_absolute():
            file = self._base_dir / file
        try:
            return file.read_bytes()
        except OSError as err:
            raise self.error(where, f"cannot be read: {err}") from err


__all__ = [
    "CertificateAuthorityConfig",
    "ChannelOption",
    "ConnectionProfile",
    "OrganizationConfig",
    "PeerConfig",
    "ProfileError",
    "load_connection_profile",
    "parse_connection_profile",
]
