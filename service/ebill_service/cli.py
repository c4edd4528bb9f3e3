"""``ebill-service`` (also ``ebill serve`` / ``ebill service``): run the service, manage
its API clients.

    ebill-service serve --org units [--host 127.0.0.1] [--port 8443]
                        [--public-rate 30] [--client-rate 600]
    ebill-service clients add --org units his-hospital --user hospital1 [--name "HIS"]
    ebill-service clients rotate --org units his-hospital [--grace 3600]
    ebill-service clients revoke --org units his-hospital
    ebill-service clients list --org units

A new or rotated key is printed once, on stdout; the state file keeps its hash only.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from .apiclients import ApiClientError, ApiClients
from .settings import Settings
from .store import Store


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        args.org,
        network=Path(args.network) if args.network else None,
        state=Path(args.state) if args.state else None,
        index_db=getattr(args, "index_db", None),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ebill-service", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--org", required=True, help="finance, units, insurance or audit")
        p.add_argument("--network", help="network.json (default $EBILL_DATA_DIR/network.json)")
        p.add_argument("--state", help="state file (default $EBILL_DATA_DIR/service-ORG.sqlite)")

    serve = commands.add_parser("serve", help="run the HTTPS service")
    common(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8443)
    serve.add_argument("--tls-cert", help="server certificate (default: self-signed, made once)")
    serve.add_argument("--tls-key", help="its key")
    serve.add_argument(
        "--index-db",
        metavar="URL",
        help="the read model's database (default: SQLite STATE-index.sqlite beside --state)",
    )
    serve.add_argument(
        "--public-rate", type=int, default=30, help="public verifications a minute per address"
    )
    serve.add_argument(
        "--client-rate", type=int, default=600, help="requests a minute per API client"
    )

    clients = commands.add_parser("clients", help="API clients: add, rotate, revoke, list")
    sub = clients.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="register a business system; prints its key once")
    common(add)
    add.add_argument("client_id")
    add.add_argument("--user", required=True, help="the org identity it acts as, e.g. hospital1")
    add.add_argument("--name", default="", help="a readable name")
    rotate = sub.add_parser("rotate", help="a new key; the old one ends after --grace seconds")
    common(rotate)
    rotate.add_argument("client_id")
    rotate.add_argument("--grace", type=float, default=0)
    revoke = sub.add_parser("revoke", help="end every key of the client")
    common(revoke)
    revoke.add_argument("client_id")
    listing = sub.add_parser("list", help="registered clients (no keys)")
    common(listing)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = _settings(args)
    if args.command == "serve":
        if args.public_rate < 1 or args.client_rate < 1:
            print("ebill-service: --public-rate and --client-rate: at least 1", file=sys.stderr)
            return 2
        settings = replace(settings, public_rate=args.public_rate, client_rate=args.client_rate)
        return _serve(settings, args)
    registry = ApiClients(Store(settings.state))
    try:
        if args.action == "add":
            users = json.loads(settings.network.read_text())["orgs"][settings.org]["users"]
            if args.user not in users:
                raise ApiClientError(f"--user {args.user}: no such identity in org {settings.org}")
            print(
                registry.register(
                    args.client_id, args.name or args.client_id, settings.org, args.user
                )
            )
        elif args.action == "rotate":
            print(registry.rotate(args.client_id, grace_seconds=args.grace))
        elif args.action == "revoke":
            registry.revoke(args.client_id)
        else:
            for client in registry.list():
                state = "active" if client.active else "revoked"
                print(f"{client.client_id}\t{client.org}/{client.user}\t{state}\t{client.name}")
    except (ApiClientError, FileNotFoundError, KeyError) as error:
        print(f"ebill-service: {error}", file=sys.stderr)
        return 2
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app
    from .tlscert import self_signed

    if bool(args.tls_cert) != bool(args.tls_key):
        print("ebill-service: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    cert, key = (
        (Path(args.tls_cert), Path(args.tls_key))
        if args.tls_cert
        else self_signed(settings.state.parent, args.host)
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(settings)
    print(f"ebill service of {settings.org} on https://{args.host}:{args.port} (TLS cert {cert})")
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        access_log=False,
        log_level="warning",
    )
    return 0


def serve_command(argv: list[str]) -> int:
    """``ebill serve ...``: the same as ``ebill-service serve ...``."""
    return main(["serve", *argv])


def service_command(argv: list[str]) -> int:
    """``ebill service ...``: the same as ``ebill-service ...``."""
    return main(argv)


if __name__ == "__main__":
    sys.exit(main())
