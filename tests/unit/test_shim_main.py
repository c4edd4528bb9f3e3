"""The entry point: configuration errors, and a real process serving until SIGTERM."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from fabric_protos.peer import (
    chaincode_pb2,
    chaincode_shim_pb2,
    chaincode_shim_pb2_grpc,
    proposal_response_pb2,
)

from ebill_chaincode.__main__ import main

Msg = chaincode_shim_pb2.ChaincodeMessage


@pytest.mark.parametrize(
    ("env", "argv", "message"),
    [
        ({"CHAINCODE_SERVER_ADDRESS": "0.0.0.0:9999"}, [], "CHAINCODE_ID"),
        ({"CHAINCODE_ID": "cc:1"}, [], "CHAINCODE_SERVER_ADDRESS"),
        ({"CHAINCODE_ID": "cc:1"}, ["--address", "nohostport"], "host:port"),
        (
            {"CHAINCODE_ID": "cc:1", "CHAINCODE_SERVER_ADDRESS": "0.0.0.0:9999"},
            ["--tls-cert", "/x.pem"],
            "must be given together",
        ),
        (
            {
                "CHAINCODE_ID": "cc:1",
                "CHAINCODE_SERVER_ADDRESS": "0.0.0.0:9999",
                "CHAINCODE_TLS_CLIENT_CA": "/ca.pem",
            },
            [],
            "CHAINCODE_TLS_CLIENT_CA needs",
        ),
        (
            {"CHAINCODE_ID": "cc:1", "CHAINCODE_SERVER_ADDRESS": "0.0.0.0:9999"},
            ["--tls-cert", "/missing.pem", "--tls-key", "/missing.key"],
            "TLS file not found",
        ),
    ],
)
def test_configuration_errors(
    env: dict[str, str], argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv, env)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_client_ca_variable_turns_on_mutual_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("server.crt", "server.key", "ca.pem"):
        (tmp_path / name).write_text("placeholder")
    seen: dict[str, Any] = {}

    class FakeServer:
        def __init__(
            self,
            chaincode_id: str,
            address: str,
            dispatch: Any,
            *,
            tls: Any,
            peers: int,
            reply_timeout: float,
        ) -> None:
            seen["tls"] = tls
            seen["peers"] = peers
            seen["reply_timeout"] = reply_timeout

        def start(self) -> int:
            raise OSError("not listening in this test")

    monkeypatch.setattr("ebill_chaincode.__main__.ChaincodeServer", FakeServer)
    env = {
        "CHAINCODE_ID": "cc:1",
        "CHAINCODE_SERVER_ADDRESS": "127.0.0.1:0",
        "CHAINCODE_TLS_CERT": str(tmp_path / "server.crt"),
        "CHAINCODE_TLS_KEY": str(tmp_path / "server.key"),
        "CHAINCODE_TLS_CLIENT_CA": str(tmp_path / "ca.pem"),
        "CHAINCODE_STATE_TIMEOUT": "7.5",
        "CHAINCODE_PEERS": "6",
    }
    assert main([], env) == 1
    assert seen["tls"].client_ca == tmp_path / "ca.pem"
    assert seen["reply_timeout"] == 7.5
    assert seen["peers"] == 6


@pytest.mark.parametrize("value", ["0", "-1", "five", "257"])
def test_peers_must_be_a_whole_number_from_1(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"CHAINCODE_ID": "cc:1", "CHAINCODE_SERVER_ADDRESS": "127.0.0.1:0"}
    with pytest.raises(SystemExit) as exited:
        main([], {**env, "CHAINCODE_PEERS": value})
    assert exited.value.code == 2
    assert "CHAINCODE_PEERS must be a whole number from 1 to 256" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-3", "soon", "9999"])
def test_state_timeout_must_be_positive_seconds(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"CHAINCODE_ID": "cc:1", "CHAINCODE_SERVER_ADDRESS": "127.0.0.1:0"}
    with pytest.raises(SystemExit) as exited:
        main([], {**env, "CHAINCODE_STATE_TIMEOUT": value})
    assert exited.value.code == 2
    assert "CHAINCODE_STATE_TIMEOUT must be a number of seconds" in capsys.readouterr().err


def _requests(source: queue.Queue[Any]) -> Iterator[Any]:
    while (message := source.get()) is not None:
        yield message


def test_process_serves_and_stops_on_sigterm() -> None:
    env = dict(os.environ, CHAINCODE_ID="ebill_1.0:abc123")
    process = subprocess.Popen(
        [sys.executable, "-m", "ebill_chaincode", "--address", "127.0.0.1:0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("chaincode server listening on 127.0.0.1:")
        address = line.rsplit(" ", 1)[1]
        requests: queue.Queue[Any] = queue.Queue()
        with grpc.insecure_channel(address) as channel:
            call = chaincode_shim_pb2_grpc.ChaincodeStub(channel).Connect(
                _requests(requests), timeout=20
            )
            register = next(call)
            assert register.type == Msg.REGISTER
            assert chaincode_pb2.ChaincodeID.FromString(register.payload).name == "ebill_1.0:abc123"
            requests.put(Msg(type=Msg.REGISTERED))
            requests.put(Msg(type=Msg.READY))
            requests.put(
                Msg(
                    type=Msg.TRANSACTION,
                    txid="tx-ping",
                    channel_id="ebills",
                    payload=chaincode_pb2.ChaincodeInput(args=[b"Ping"]).SerializeToString(),
                )
            )
            completed = next(call)
            assert completed.type == Msg.COMPLETED
            response = proposal_response_pb2.Response.FromString(completed.payload)
            assert (response.status, response.payload) == (200, b"pong")
            requests.put(None)
            call.cancel()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert process.stderr is not None
        log = process.stderr.read()
        assert "received SIGTERM" in log
        assert "chaincode server stopped" in log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
