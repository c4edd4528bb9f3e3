"""A real fabric-ca-server (TLS on, ca name ``ca-test``) for the session, on free ports."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ebill_network.network import install_binaries
from fabricca import CAClient, Enrollment

CA_NAME = "ca-test"
ADMIN = ("admin", "adminpw")
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class CAServer:
    url: str
    home: Path
    tls_cert: Path
    log: Path

    def client(self, *, timeout: float = 10) -> CAClient:
        return CAClient(self.url, tls_cert=self.tls_cert, ca_name=CA_NAME, timeout=timeout)


@pytest.fixture(scope="session")
def ca_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CAServer]:
    bin_dir = install_binaries()
    home = tmp_path_factory.mktemp("fabric-ca")
    port, ops_port = free_port(), free_port()
    log = home / "server.log"
    cmd = [
        str(bin_dir / "fabric-ca-server"),
        "start",
        "-b",
        f"{ADMIN[0]}:{ADMIN[1]}",
        "--home",
        str(home),
        "--port",
        str(port),
        "--address",
        "127.0.0.1",
        "--tls.enabled",
        "--ca.name",
        CA_NAME,
        "--csr.hosts",
        "127.0.0.1,localhost",
        "--operations.listenaddress",
        f"127.0.0.1:{ops_port}",
        "--metrics.provider",
        "disabled",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=home, stdout=out, stderr=subprocess.STDOUT)
    try:
        tls_cert = home / "tls-cert.pem"
        deadline = time.monotonic() + START_TIMEOUT
        while not (tls_cert.exists() and port_accepts(port)):
            if proc.poll() is not None:
                pytest.fail(f"fabric-ca-server exited with {proc.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"fabric-ca-server not ready after {START_TIMEOUT}s:\n{log.read_text()}"
                )
            time.sleep(0.05)
        yield CAServer(url=f"https://127.0.0.1:{port}", home=home, tls_cert=tls_cert, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def ca(ca_server: CAServer) -> CAClient:
    return ca_server.client()


@pytest.fixture(scope="session")
def admin(ca: CAClient) -> Enrollment:
    return ca.enroll(*ADMIN)
