"""``ebill-network``: install Fabric, and start, stop, reset, report on the local network.

Data folder, ports and consensus come from EBILL_DATA_DIR, EBILL_BASE_PORT and
EBILL_CONSENSUS=raft|bft (see layout.py).
"""

from __future__ import annotations

import argparse
import json
import sys

from .health import table
from .layout import layout_from_env
from .network import Network, install_binaries
from .processes import InvalidOrg, NetworkError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ebill-network", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="build or find the pinned Fabric binaries; print their folder")
    sub.add_parser("up", help="start the network (create it on first run) and wait until ready")
    sub.add_parser("down", help="stop every process, keep the data")
    sub.add_parser("clean", help="stop every process and delete the data")
    sub.add_parser("deploy", help="deploy the chaincode as it is now (upgrade if it changed)")
    status = sub.add_parser(
        "status",
        help="per node: alive, memory, /healthz, height, lag, leader, stuck; as JSON",
    )
    status.add_argument("--table", action="store_true", help="a human table instead of JSON")
    restart = sub.add_parser(
        "restart", help="restart one node and wait until it is healthy and caught up"
    )
    restart.add_argument("node", metavar="NODE", help="as status lists it: peer0-finance, orderer1")
    sub.add_parser("describe", help="what clients need (addresses, TLS roots, identities), as JSON")
    revoke = sub.add_parser(
        "revoke", help="revoke ORG's USER at its CA and put the CRL into the channel's MSP"
    )
    revoke.add_argument("org", metavar="ORG", help="finance, units, insurance or audit")
    revoke.add_argument("user", metavar="USER", help="the enrollment id, e.g. clerk1")
    revoke.add_argument("--reason", default="", help="RFC 5280 reason, e.g. keycompromise")
    add_org = sub.add_parser(
        "add-org",
        help="add an org to the running channel: CA, users, peer, config update signed by a "
        "majority of the orgs' admins, join, the next chaincode definition",
    )
    add_org.add_argument(
        "name", metavar="NAME", help="2-20 lower-case letters/digits, e.g. insurer2"
    )
    add_org.add_argument("--role", required=True, choices=["insurance", "units", "audit"])
    add_org.add_argument("--unit", default="", help="a units org: its users' unit code")
    add_org.add_argument(
        "--signers", default="", help="comma-separated orgs whose admins sign (default: a majority)"
    )
    args = parser.parse_args(argv)

    if args.command == "install":
        print(install_binaries())
        return 0
    try:
        layout = layout_from_env()
    except ValueError as exc:
        print(f"ebill-network {args.command}: {exc}", file=sys.stderr)
        return 2
    network = Network(layout)
    try:
        if args.command == "up":
            network.up()
        elif args.command == "down":
            network.down()
        elif args.command == "clean":
            network.clean()
        elif args.command == "deploy":
            print(network.deploy())
            network.wait_ready()
        elif args.command == "status":
            report = network.status()
            if args.table:
                print(table(report["nodes"], report["leader"]))
            else:
                print(json.dumps(report, indent=2))
        elif args.command == "restart":
            network.restart(args.node)
            print(f"{args.node} restarted and healthy")
        elif args.command == "describe":
            print(json.dumps(network.describe(), indent=2))
        elif args.command == "revoke":
            block = network.revoke(args.org, args.user, reason=args.reason)
            print(f"{args.user} of {args.org} revoked; CRL in config block {block}")
        elif args.command == "add-org":
            signers = [s for s in args.signers.split(",") if s] or None
            print(
                json.dumps(
                    network.add_org(args.name, args.role, unit=args.unit, signers=signers), indent=2
                )
            )
    except InvalidOrg as exc:
        print(f"ebill-network {args.command}: {exc}", file=sys.stderr)
        return 2
    except NetworkError as exc:
        print(f"ebill-network {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
