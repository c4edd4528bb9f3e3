"""Other chaincodes as a service beside the e-bill contract, on the same channel.

A :class:`Service` names a chaincode, the command of its server and the endorsement
policy; ``Network.deploy_service`` packages it (ccaas, the link CA's root, no key),
starts its server with the link's server pair and mutual TLS, and commits its
definition with every org's approval, as the e-bill chaincode is deployed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .chaincode import ENDORSEMENT_POLICY, Package, ccaas_package
from .layout import CHAINCODE, Layout


@dataclass(frozen=True)
class Service:
    """A chaincode service: ``name`` on the channel, its server ``command`` and its code.

    ``digest`` identifies the server's code (a new digest deploys a new package and
    commits the next sequence); ``port_index`` chooses ``layout.service_port(index)``;
    ``env`` and ``cwd`` are added to the server's environment and working folder;
    ``collections`` is its private data collections config (none by default).
    """

    name: str
    command: tuple[str, ...]
    digest: str
    policy: str = ENDORSEMENT_POLICY
    port_index: int = 0
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    collections: tuple[Mapping[str, object], ...] = ()

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"service name must be letters, digits, _ or -, got {self.name!r}")
        if self.name == CHAINCODE:
            raise ValueError(f"service name {CHAINCODE!r} is the e-bill chaincode's")
        if not self.command:
            raise ValueError(f"service {self.name}: the server command is empty")

    @property
    def process(self) -> str:
        """The server's process name (its pid and log files)."""
        return f"chaincode-{self.name}"

    def package(self, layout: Layout) -> Package:
        """Its deterministic ccaas package for ``layout``."""
        label = f"{self.name}_{self.digest[:12]}"
        return ccaas_package(layout, label, layout.service_port(self.port_index), self.digest)


def file_digest(*paths: Path) -> str:
    """SHA-256 over the files' names and bytes (for :attr:`Service.digest`)."""
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()
