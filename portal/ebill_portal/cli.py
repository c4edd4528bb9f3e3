"""``ebill-portal``: run the portal (``serve``), manage its users (``users add|list|remove``)
and leave the services and the portal running on the demo's data (``demo up|down``).

The API key of a user is read from a file or the EBILL_PORTAL_KEY environment variable
and its password from EBILL_PORTAL_PASSWORD or a prompt, never from the command line.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from .api import Endpoint
from .settings import PortalSettings
from .users import PARTIES, Store, UserError


def _state(path: str | None) -> Path:
    return Path(path or Path(os.environ.get("EBILL_DATA_DIR", ".data")) / "portal.sqlite")


def _services(values: list[str], ca: str | None) -> dict[str, Endpoint]:
    if ca and not Path(ca).is_file():
        raise SystemExit(f"--service-ca {ca}: no such file")
    out = {}
    for value in values:
        org, sep, url = value.partition("=")
        if not sep or not url.startswith("https://"):
            raise SystemExit(f"--service {value!r}: ORG=https://HOST:PORT")
        out[org] = Endpoint(url, ca or True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ebill-portal", description=__doc__)
    parser.add_argument("--state", help="state file (default $EBILL_DATA_DIR/portal.sqlite)")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the portal over HTTPS")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=9443)
    serve.add_argument("--service", action="append", default=[], help="ORG=URL, repeated")
    serve.add_argument("--service-ca", help="CA file the services' certificates chain to")
    serve.add_argument("--tls-cert")
    serve.add_argument("--tls-key")
    users = sub.add_parser("users", help="the portal's users")
    users_sub = users.add_subparsers(dest="action", required=True)
    add = users_sub.add_parser("add", help="add a user mapped to one API client key of its org")
    add.add_argument("username")
    add.add_argument("--party", choices=PARTIES, required=True)
    add.add_argument("--org", required=True, help="the org whose service the key is for")
    add.add_argument("--key-file", help="file holding the API key (else $EBILL_PORTAL_KEY)")
    add.add_argument("--payer-type", choices=("person", "company"))
    add.add_argument("--payer-id")
    add.add_argument("--unit", help="a unit user's unit code")
    users_sub.add_parser("list")
    remove = users_sub.add_parser("remove")
    remove.add_argument("username")
    demo = sub.add_parser(
        "demo", help="up: the services and the portal on the demo's data, in the background"
    )
    demo.add_argument("action", choices=("up", "down"))
    args = parser.parse_args(argv)
    if args.command == "demo":
        from . import demo as demo_module

        return demo_module.main(args.action)
    state = _state(args.state)

    if args.command == "users":
        store = Store(state)
        if args.action == "list":
            for user in store.list_users():
                print(f"{user.username}\t{user.party}\t{user.org}\t{user.unit_code or ''}")
            return 0
        if args.action == "remove":
            return 0 if store.remove_user(args.username) else 3
        key = (
            Path(args.key_file).read_text().strip()
            if args.key_file
            else os.environ.get("EBILL_PORTAL_KEY", "")
        )
        password = os.environ.get("EBILL_PORTAL_PASSWORD") or getpass.getpass("password: ")
        try:
            store.add_user(
                args.username,
                password,
                args.party,
                args.org,
                key,
                payer_type=args.payer_type,
                payer_id=args.payer_id,
                unit_code=args.unit,
            )
        except UserError as exc:
            print(f"ebill-portal: {exc}", file=sys.stderr)
            return 6
        print(f"added {args.username} ({args.party}, {args.org})")
        return 0

    import logging

    import uvicorn

    from .app import create_app
    from .tlscert import self_signed

    if not args.service:
        raise SystemExit("--service ORG=URL: at least the finance service")
    cert, key_file = (
        (Path(args.tls_cert), Path(args.tls_key))
        if args.tls_cert and args.tls_key
        else self_signed(state.parent, args.host)
    )
    settings = PortalSettings(
        state=state,
        services=_services(args.service, args.service_ca),
        public_url=f"https://{args.host}:{args.port}",
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(f"ebill portal on https://{args.host}:{args.port}", flush=True)
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        ssl_certfile=str(cert),
        ssl_keyfile=str(key_file),
        log_level="info",
        access_log=False,  # the portal logs route templates only (app.py), never a query
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
