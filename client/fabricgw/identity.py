"""Client identity: an MSP ID plus the PEM encoded X.509 certificate of the client."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from ._protos import identities_pb2


@dataclass(frozen=True, slots=True)
class Identity:
    """The identity a Gateway acts as.

    ``msp_id`` is the member services provider the identity belongs to (for
    example ``Org1MSP``); ``credentials`` are the PEM bytes of its certificate.
    """

    msp_id: str
    credentials: bytes

    def serialize(self) -> bytes:
        """Return the ``msp.SerializedIdentity`` bytes used as ``creator`` in Fabric headers."""
        message = identities_pb2.SerializedIdentity(mspid=self.msp_id, id_bytes=self.credentials)
        data: bytes = message.SerializeToString()
        return data

    @classmethod
    def deserialize(cls, data: bytes) -> Identity:
        """Parse ``msp.SerializedIdentity`` bytes. Raises ``ValueError`` if they do not decode."""
        message = identities_pb2.SerializedIdentity()
        try:
            message.ParseFromString(data)
        except Exception as err:  # protobuf raises DecodeError
            raise ValueError(f"not a serialized identity: {err}") from err
        return cls(msp_id=str(message.mspid), credentials=bytes(message.id_bytes))

    @classmethod
    def from_pem(cls, msp_id: str, certificate_pem: bytes) -> Identity:
        """Create an identity from PEM certificate bytes.

        Raises ``ValueError`` if the bytes are not a PEM X.509 certificate.
        """
        load_certificate(certificate_pem)
        return cls(msp_id=msp_id, credentials=certificate_pem)

    @classmethod
    def from_pem_file(cls, msp_id: str, path: str | os.PathLike[str]) -> Identity:
        """Create an identity from a PEM certificate file.

        Raises ``OSError`` if the file cannot be read and ``ValueError`` if it
        holds no PEM X.509 certificate.
        """
        return cls.from_pem(msp_id, Path(path).read_bytes())

    @classmethod
    def from_msp_dir(cls, msp_id: str, msp_dir: str | os.PathLike[str]) -> Identity:
        """Create an identity from the single certificate in ``<msp_dir>/signcerts``.

        This is the layout written by cryptogen and the Fabric CA client.
        Raises ``ValueError`` unless exactly one file is present there, and
        ``OSError`` if the directory cannot be read.
        """
        return cls.from_pem_file(msp_id, single_file(Path(msp_dir) / "signcerts"))

    def certificate(self) -> x509.Certificate:
        """Parse the credentials. Raises ``ValueError`` if they are not a PEM certificate."""
        return load_certificate(self.credentials)


def load_certificate(certificate_pem: bytes) -> x509.Certificate:
    """Parse PEM certificate bytes. Raises ``ValueError`` if they are not a PEM certificate."""
    return x509.load_pem_x509_certificate(certificate_pem)


def single_file(directory: Path) -> Path:
    """Return the only regular file in ``directory``.

    Raises ``ValueError`` if there is not exactly one, ``OSError`` if it cannot be listed.
    """
    files = sorted(p for p in directory.iterdir() if p.is_file())
    if len(files) != 1:
        raise ValueError(f"expected exactly one file in {directory}, found {len(files)}")
    return files[0]


__all__ = ["Identity", "load_certificate"]
