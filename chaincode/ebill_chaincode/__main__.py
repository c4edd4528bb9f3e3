"""Run the e-bill chaincode as a service: ``python -m ebill_chaincode`` / ``ebill-chaincode``.

Configuration (a flag overrides its environment variable):

=========================  =====================  ==========================================
environment                flag                   meaning
=========================  =====================  ==========================================
CHAINCODE_ID               --chaincode-id         package id the peer knows (required)
CHAINCODE_SERVER_ADDRESS   --address              host:port to listen on (required)
CHAINCODE_TLS_CERT         --tls-cert             server certificate PEM (with the key)
CHAINCODE_TLS_KEY          --tls-key              server private key PEM (with the cert)
CHAINCODE_TLS_CLIENT_CA    --tls-client-ca        CA PEM; requires client certs (mutual TLS)
CHAINCODE_STATE_TIMEOUT    --state-timeout        seconds a state request waits for the peer (20)
CHAINCODE_LOG_LEVEL        --log-level            DEBUG, INFO (default), WARNING, ERROR
CHAINCODE_ANOMALY_SPOOL    --anomaly-spool        file the anomalies are spooled to (0600)
=========================  =====================  ==========================================
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from .contract import contract, interface
from .contract.anomalies import SPOOL_ENV, Spool
from .shim.server import ChaincodeServer, TlsFiles

logger = logging.getLogger("ebill_chaincode")


def _parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ebill-chaincode", description="Fiscal e-bill chaincode (chaincode as a service)"
    )
    parser.add_argument("--chaincode-id", default=env.get("CHAINCODE_ID"))
    parser.add_argument("--address", default=env.get("CHAINCODE_SERVER_ADDRESS"))
    parser.add_argument("--tls-cert", default=env.get("CHAINCODE_TLS_CERT"))
    parser.add_argument("--tls-key", default=env.get("CHAINCODE_TLS_KEY"))
    parser.add_argument("--tls-client-ca", default=env.get("CHAINCODE_TLS_CLIENT_CA"))
    parser.add_argument("--state-timeout", default=env.get("CHAINCODE_STATE_TIMEOUT", "20"))
    parser.add_argument("--log-level", default=env.get("CHAINCODE_LOG_LEVEL", "INFO"))
    parser.add_argument("--anomaly-spool", default=env.get(SPOOL_ENV))
    return parser


def _tls(parser: argparse.ArgumentParser, args: argparse.Namespace) -> TlsFiles | None:
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("CHAINCODE_TLS_CERT and CHAINCODE_TLS_KEY must be given together")
    if not args.tls_cert:
        if args.tls_client_ca:
            parser.error("CHAINCODE_TLS_CLIENT_CA needs CHAINCODE_TLS_CERT and CHAINCODE_TLS_KEY")
        return None
    paths = [args.tls_cert, args.tls_key] + ([args.tls_client_ca] if args.tls_client_ca else [])
    for path in paths:
        if not Path(path).is_file():
            parser.error(f"TLS file not found: {path}")
    client_ca = Path(args.tls_client_ca) if args.tls_client_ca else None
    return TlsFiles(Path(args.tls_cert), Path(args.tls_key), client_ca)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Parse the configuration, serve until SIGTERM/SIGINT; returns the exit status.

    Raises :class:`~.contract.interface.InterfaceMismatch` before anything else when the
    registered functions and the contract's interface disagree: such a server never starts.
    """
    interface.check_contract(contract.functions)
    parser = _parser(os.environ if env is None else env)
    args = parser.parse_args(argv)
    if not args.chaincode_id:
        parser.error("CHAINCODE_ID (or --chaincode-id) is required")
    if not args.address:
        parser.error("CHAINCODE_SERVER_ADDRESS (or --address) is required")
    if ":" not in args.address:
        parser.error(f"address must be host:port, got {args.address!r}")
    tls = _tls(parser, args)
    level = getattr(logging, str(args.log_level).upper(), None)
    if not isinstance(level, int):
        parser.error(f"unknown log level {args.log_level!r}")
    logging.basicConfig(
        stream=sys.stderr,
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        state_timeout = float(args.state_timeout)
    except ValueError:
        state_timeout = 0.0
    if not 0 < state_timeout < 3600:
        parser.error(
            f"CHAINCODE_STATE_TIMEOUT must be a number of seconds in (0, 3600), "
            f"got {args.state_timeout!r}"
        )
    dispatch = contract.dispatch
    if args.anomaly_spool:
        try:
            spool = Spool(Path(args.anomaly_spool))
        except OSError as exc:
            parser.error(f"anomaly spool {args.anomaly_spool}: {exc}")
        dispatch = functools.partial(contract.dispatch, observer=spool.observe)
        logger.info("anomalies spooled to %s", spool.path)
    else:
        logger.warning("no %s: anomalies are refused but not spooled", SPOOL_ENV)
    server = ChaincodeServer(
        args.chaincode_id, args.address, dispatch, tls=tls, reply_timeout=state_timeout
    )
    try:
        server.start()
    except OSError as exc:
        logger.error("%s", exc)
        return 1
    mode = "mutual TLS" if tls and tls.client_ca else "TLS" if tls else "plaintext"
    logger.info("chaincode %s serving (%s)", args.chaincode_id, mode)
    print(f"chaincode server listening on {server.listen_address}", flush=True)
    server.serve_until_signal()
    return 0


if __name__ == "__main__":
    sys.exit(main())
