"""Our shim against Go's, alone: one fake peer drives both kv chaincode servers.

``python -m bench.shimbench`` (``--help``) starts each key-value chaincode server
(:mod:`bench.ceiling`: ``kvgo`` on the official Go shim, ``kvpy`` on ours) with mutual
TLS on a throwaway CA, and plays the peer's side of the chaincode stream against it:
REGISTER/REGISTERED, a READY that offers write batches and multi-key reads (as a
Fabric 3 peer does), then ``--count`` transactions of ``Pattern`` (IssueBill's ledger
traffic: 3 reads, a range read closed after its first entry, 5 writes and a private
write in one write batch, an event) with ``--in-flight`` of them at once, each carrying
a signed proposal of a real proposal's size. The fake peer answers every state request
at once from memory, so the server's CPU per transaction (``/proc/<pid>/stat``) is the
shim's and the function's own, without a ledger. A/B alternating in ``--rounds``.

The network's ceiling table (:mod:`bench.ceiling_table`) measures the same function
through real peers; this harness exists to profile the shim quickly
(``--profile FILE`` runs the Python server under cProfile and writes its stats there).
Numbers are measurements, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import ipaddress
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ebill_chaincode.shim import _protos as pb

from . import ceiling
from .cpu import cpu_seconds

Msg = pb.ChaincodeMessage
CHANNEL = "ebills"
VALUE = os.urandom(48).hex()


# --- a throwaway PKI for the link ------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, issuer_key: Any, ca: bool
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass(frozen=True)
class Link:
    """PEM files of one server pair and one client pair under a throwaway CA."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: bytes
    client_key: bytes
    creator: bytes  # a certificate the proposals name as their creator


def make_link(folder: Path) -> Link:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("shimbench-ca", ca_key, "shimbench-ca", ca_key, ca=True)
    pairs = {}
    for role in ("server", "client", "creator"):
        key = ec.generate_private_key(ec.SECP256R1())
        pairs[role] = (_pem(_cert(f"shimbench-{role}", key, "shimbench-ca", ca_key, False)), key)
    paths = {"ca": folder / "ca.pem", "cert": folder / "server.pem", "key": folder / "key.pem"}
    paths["ca"].write_bytes(_pem(ca))
    paths["cert"].write_bytes(pairs["server"][0])
    paths["key"].write_bytes(_key_pem(pairs["server"][1]))
    paths["key"].chmod(0o600)
    return Link(
        paths["ca"],
        paths["cert"],
        paths["key"],
        pairs["client"][0],
        _key_pem(pairs["client"][1]),
        pairs["creator"][0],
    )


# --- the peer's side ---------------------------------------------------------------------


def signed_proposal(tx_id: str, creator: bytes, args: list[bytes]) -> Any:
    """A SignedProposal shaped as a client's (creator certificate, nonce, signature)."""
    identity = pb.identities.SerializedIdentity(mspid="UnitsMSP", id_bytes=creator)
    channel_header = pb.common.ChannelHeader(
        type=pb.common.ENDORSER_TRANSACTION,
        channel_id=CHANNEL,
        tx_id=tx_id,
    )
    channel_header.timestamp.seconds = int(time.time())
    header = pb.common.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=pb.common.SignatureHeader(
            creator=identity.SerializeToString(), nonce=os.urandom(24)
        ).SerializeToString(),
    )
    spec = pb.chaincode.ChaincodeInvocationSpec(
        chaincode_spec=pb.chaincode.ChaincodeSpec(
            chaincode_id=pb.chaincode.ChaincodeID(name="kv"),
            input=pb.chaincode.ChaincodeInput(args=args),
        )
    )
    payload = pb.proposal.ChaincodeProposalPayload(input=spec.SerializeToString())
    proposal = pb.proposal.Proposal(
        header=header.SerializeToString(), payload=payload.SerializeToString()
    )
    return pb.proposal.SignedProposal(
        proposal_bytes=proposal.SerializeToString(), signature=os.urandom(71)
    )


def _range_answer() -> bytes:
    entry = pb.queryresult.KV(namespace="kv", key="batch/0001", value=b"x" * 200)
    result = pb.chaincode_shim.QueryResultBytes(resultBytes=entry.SerializeToString())
    return bytes(
        pb.chaincode_shim.QueryResponse(
            results=[result], has_more=False, id="q"
        ).SerializeToString()
    )


_ANSWERS = {
    Msg.GET_STATE: b"",
    Msg.GET_STATE_BY_RANGE: _range_answer(),
    Msg.QUERY_STATE_CLOSE: b"",
    Msg.WRITE_BATCH_STATE: b"",
    Msg.PUT_STATE: b"",
    Msg.DEL_STATE: b"",
    Msg.GET_PRIVATE_DATA_HASH: b"",
}


class FakePeer:
    """The peer's end of one chaincode stream: answers state requests from memory."""

    def __init__(self, address: str, link: Link) -> None:
        credentials = grpc.ssl_channel_credentials(
            link.ca.read_bytes(), link.client_key, link.client_cert
        )
        self._channel = grpc.aio.secure_channel(address, credentials)
        self._out: asyncio.Queue[Any] = asyncio.Queue()
        self._done: dict[str, asyncio.Future[Any]] = {}
        self._call: Any = None
        self._reader: asyncio.Task[None] | None = None
        self.messages = 0

    async def _outgoing(self) -> AsyncIterator[Any]:
        while (message := await self._out.get()) is not None:
            yield message

    async def open(self) -> None:
        stub = pb.chaincode_shim_grpc.ChaincodeStub(self._channel)
        self._call = stub.Connect(self._outgoing())
        register = await self._call.read()
        if register.type != Msg.REGISTER:
            raise RuntimeError(f"expected REGISTER, got {Msg.Type.Name(register.type)}")
        params = pb.chaincode.ChaincodeAdditionalParams(
            use_write_batch=True,
            max_size_write_batch=1000,
            use_get_multiple_keys=True,
            max_size_get_multiple_keys=1000,
        )
        self._out.put_nowait(Msg(type=Msg.REGISTERED))
        self._out.put_nowait(Msg(type=Msg.READY, payload=params.SerializeToString()))
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            message = await self._call.read()
            if message is grpc.aio.EOF:
                break
            self.messages += 1
            kind = message.type
            if kind in (Msg.COMPLETED, Msg.ERROR):
                future = self._done.pop(message.txid, None)
                if future is not None and not future.done():
                    future.set_result(message)
                continue
            answer = _ANSWERS.get(kind)
            if answer is None:
                reply = Msg(type=Msg.ERROR, payload=b"not answered by the fake peer")
            else:
                reply = Msg(type=Msg.RESPONSE, payload=answer)
            reply.txid, reply.channel_id = message.txid, message.channel_id
            self._out.put_nowait(reply)
        for future in self._done.values():
            if not future.done():
                future.set_exception(RuntimeError("the chaincode closed the stream"))

    async def invoke(self, tx_id: str, args: list[bytes], proposal: Any) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._done[tx_id] = future
        message = Msg(
            type=Msg.TRANSACTION,
            txid=tx_id,
            channel_id=CHANNEL,
            payload=pb.chaincode.ChaincodeInput(args=args).SerializeToString(),
        )
        message.proposal.CopyFrom(proposal)
        self._out.put_nowait(message)
        reply = await future
        if reply.type != Msg.COMPLETED:
            raise RuntimeError(f"{tx_id}: {bytes(reply.payload).decode(errors='replace')}")
        response = pb.proposal_response.Response.FromString(reply.payload)
        if response.status != 200:
            raise RuntimeError(f"{tx_id}: {response.status} {response.message}")
        return reply

    async def close(self) -> None:
        self._out.put_nowait(None)
        if self._reader is not None:
            self._reader.cancel()
        await self._channel.close()


# --- the servers -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """One kv chaincode server process."""

    name: str
    command: list[str]
    process: subprocess.Popen[bytes] | None = None
    address: str = ""

    def start(self, link: Link, env: dict[str, str] | None = None) -> None:
        self.address = f"127.0.0.1:{_free_port()}"
        environment = {
            **os.environ,
            **(env or {}),
            "CHAINCODE_ID": f"{self.name}:shimbench",
            "CHAINCODE_SERVER_ADDRESS": self.address,
            "CHAINCODE_TLS_CERT": str(link.server_cert),
            "CHAINCODE_TLS_KEY": str(link.server_key),
            "CHAINCODE_TLS_CLIENT_CA": str(link.ca),
        }
        self.process = subprocess.Popen(
            self.command,
            env=environment,
            cwd=ceiling.ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        host, port = self.address.rsplit(":", 1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex((host, int(port))) == 0:
                    return
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} does not listen on {self.address}")

    def cpu(self) -> float:
        assert self.process is not None
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class Tally:
    """One server's stretches summed."""

    name: str
    count: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    peer_cpu: float = 0.0
    messages: int = 0
    latencies: list[float] = field(default_factory=list)

    def row(self) -> list[str]:
        lat = sorted(self.latencies)
        p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))] if lat else 0.0
        return [
            self.name,
            str(self.count),
            f"{self.count / self.seconds:.0f}" if self.seconds else "-",
            f"{statistics.median(lat) * 1000:.2f}" if lat else "-",
            f"{p95 * 1000:.2f}",
            f"{self.messages / self.count:.1f}" if self.count else "-",
            f"{self.server_cpu / self.count * 1000:.3f}" if self.count else "-",
            f"{self.peer_cpu / self.count * 1000:.3f}" if self.count else "-",
        ]


HEADER = ["server", "tx", "tx/s", "p50 ms", "p95 ms", "msgs/tx", "server CPU ms/tx", "peer ms/tx"]


async def stretch(server: Server, link: Link, tally: Tally, count: int, in_flight: int) -> None:
    """``count`` Pattern transactions on one fresh stream, ``in_flight`` at once."""
    peer = FakePeer(server.address, link)
    await peer.open()
    prefix = f"{tally.name}-{time.monotonic_ns()}"
    jobs = []
    for i in range(count):
        tx_id = f"{prefix}-{i}"
        args = [b"Pattern", f"bill/{tx_id}".encode(), VALUE.encode()]
        jobs.append((tx_id, args, signed_proposal(tx_id, link.creator, args)))
    # one transaction first: the stream is registered and warm before the clock runs
    await peer.invoke(*jobs.pop())
    pending = iter(jobs)
    latencies: list[float] = []

    async def worker() -> None:
        for job in pending:
            t = time.perf_counter()
            await peer.invoke(*job)
            latencies.append(time.perf_counter() - t)

    messages0, cpu0, peer0, t0 = (
        peer.messages,
        server.cpu(),
        time.process_time(),
        time.perf_counter(),
    )
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    tally.seconds += time.perf_counter() - t0
    tally.server_cpu += server.cpu() - cpu0
    tally.peer_cpu += time.process_time() - peer0
    tally.messages += peer.messages - messages0
    tally.count += len(jobs)
    tally.latencies += latencies
    await peer.close()


def render(tallies: list[Tally]) -> str:
    table = [HEADER] + [t.row() for t in tallies]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
    lines = []
    for i, r in enumerate(table):
        lines.append(
            "  ".join(
                c.ljust(w) if j == 0 else c.rjust(w)
                for j, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> list[Tally]:
    with tempfile.TemporaryDirectory(prefix="shimbench-") as tmp:
        link = make_link(Path(tmp))
        python = [sys.executable, "-m", "bench.kvpy"]
        if args.profile:
            python = [sys.executable, "-m", "cProfile", "-o", args.profile, "-m", "bench.kvpy"]
        servers = [Server("go", [str(ceiling.build_kvgo())]), Server("python", python)]
        if args.only:
            servers = [s for s in servers if s.name == args.only]
        tallies = {s.name: Tally(s.name) for s in servers}
        try:
            for s in servers:
                s.start(link)
            for r in range(args.rounds):
                order = servers if r % 2 == 0 else list(reversed(servers))
                for s in order:
                    await stretch(s, link, tallies[s.name], args.count, args.in_flight)
        finally:
            for s in servers:
                s.stop()
        return list(tallies.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="transactions per stretch")
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", choices=("go", "python"))
    parser.add_argument("--profile", help="cProfile the Python server into this file")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    tallies = asyncio.run(run(args))
    print(f"Pattern on one fake-peer stream, {args.in_flight} in flight, {args.rounds} rounds")
    print(render(tallies))
    by = {t.name: t for t in tallies}
    if "go" in by and "python" in by and by["go"].server_cpu > 0:
        ratio = (by["python"].server_cpu / by["python"].count) / (
            by["go"].server_cpu / by["go"].count
        )
        print(f"server CPU per transaction, Python shim / Go shim = {ratio:.2f}")
    print(f"load average before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                [
                    {
                        "server": t.name,
                        "count": t.count,
                        "seconds": t.seconds,
                        "server_cpu": t.server_cpu,
                        "peer_cpu": t.peer_cpu,
                        "messages": t.messages,
                    }
                    for t in tallies
                ],
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
