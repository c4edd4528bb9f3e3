"""Node and channel configuration: core.yaml, orderer.yaml and configtx.yaml.

Each node's file is the release's sample configuration with our settings laid
over it, so every Fabric default not named here stays the release's own.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from . import pki
from .layout import CHANNEL, ORDERER_ORG, PEER_ORGS, Layout, Org

BUILDER_DIR = Path(__file__).resolve().parents[1] / "ccaas-builder"

#: Orderer batching (Raft BatchTimeout and BatchSize.MaxMessageCount; SmartBFT's
#: RequestBatchMaxInterval and RequestBatchMaxCount). Chosen with ``python -m bench.latency``
#: (README, make bench): 50 ms is the shortest timeout that kept the Go kv Put's rate at
#: 200 in flight within 3% of 100 and 250 ms (6-14% more CPU per Put), and takes 200 ms off
#: every sequential submit against 250 ms; at 25 ms the rate fell by a third. The count
#: never bound below 250 ms (at most 48 transactions a block), so it stays.
BATCH_TIMEOUT = "50ms"
MAX_MESSAGE_COUNT = 200

#: The variable through which a peer tells its ccaas builder where its link client pair is.
CLIENT_TLS_ENV = "EBILL_CHAINCODE_CLIENT_TLS"


#: The peers' keepalive pings on their Deliver stream from an orderer: how long the
#: stream may stay silent before a ping, and how long the ping's answer may take
#: (core.yaml peer.keepalive.deliveryClient; Fabric's defaults 60s and 20s).
DELIVERY_KEEPALIVE_INTERVAL = "5s"
DELIVERY_KEEPALIVE_TIMEOUT = "5s"
#: The least time an orderer allows between a client's pings (orderer.yaml
#: General.Keepalive.ServerMinInterval; Fabric's default 60s).
ORDERER_MIN_PING_INTERVAL = "2s"


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def operations_peer(layout: Layout, org: Org) -> dict[str, Any]:
    """A peer's operations listener: TLS, and only the operator's client certificate."""
    tls = pki.operations_tls(layout, f"peer0-{org.key}")
    return {
        "listenAddress": layout.address(layout.peer_operations_port(org)),
        "tls": {
            "enabled": True,
            "cert": {"file": str(tls / "cert.pem")},
            "key": {"file": str(tls / "key.pem")},
            "clientAuthRequired": True,
            "clientRootCAs": {"files": [str(pki.operations_root(layout, f"peer0-{org.key}"))]},
        },
    }


def operations_orderer(layout: Layout, i: int) -> dict[str, Any]:
    """An orderer's operations listener: TLS, and only the operator's client certificate."""
    tls = pki.operations_tls(layout, ORDERER_ORG.nodes[i])
    return {
        "ListenAddress": layout.address(layout.orderer_operations_port(i)),
        "TLS": {
            "Enabled": True,
            "Certificate": str(tls / "cert.pem"),
            "PrivateKey": str(tls / "key.pem"),
            "ClientAuthRequired": True,
            "ClientRootCAs": [str(pki.operations_root(layout, ORDERER_ORG.nodes[i]))],
        },
    }


def write_peer_config(layout: Layout, org: Org, sample_dir: Path) -> Path:
    """Write ``core.yaml`` for the org's peer; returns the folder to use as FABRIC_CFG_PATH."""
    home = layout.node_dir(org, "peer0")
    tls = home / "tls"
    addr = layout.address(layout.peer_port(org))
    over: dict[str, Any] = {
        "peer": {
            "id": f"peer0.{org.key}",
            "networkId": "ebill",
            "listenAddress": addr,
            "chaincodeListenAddress": layout.address(layout.peer_chaincode_port(org)),
            "address": addr,
            "fileSystemPath": str(home / "data"),
            "mspConfigPath": str(home / "msp"),
            "localMspId": org.msp_id,
            "gossip": {
                "bootstrap": addr,
                "endpoint": addr,
                "externalEndpoint": addr,
                "useLeaderElection": False,
                "orgLeader": True,
                # A refused first dial to another org's peer is retried after
                # this long; the release's 25 s delays readiness by as much.
                "reconnectInterval": "1s",
                "aliveTimeInterval": "2s",
                "aliveExpirationTimeout": "10s",
                "membershipTrackerInterval": "1s",
                "pvtData": {"pushAckTimeout": "3s"},
            },
            "tls": {
                "enabled": True,
                "cert": {"file": str(tls / "cert.pem")},
                "key": {"file": str(tls / "key.pem")},
                "rootcert": {"file": str(tls / "ca.pem")},
                "clientAuthRequired": False,
            },
            "gateway": {"enabled": True, "endorsementTimeout": "30s", "dialTimeout": "5s"},
            # The peer takes its blocks from one orderer over one Deliver stream. An
            # orderer that is alive but hung (stopped, overloaded: TCP still open) sends
            # nothing and no error, so the peer only leaves it when a keepalive ping goes
            # unanswered: Fabric's default interval 60s + timeout 20s kept every peer
            # 80 s without blocks while the other orderers went on ordering (measured
            # with the Raft leader SIGSTOPped). 5s + 5s leaves it within about 10 s of
            # silence; the orderers allow pings that often (General.Keepalive.
            # ServerMinInterval, written with the orderer's config).
            "keepalive": {
                "deliveryClient": {
                    "interval": DELIVERY_KEEPALIVE_INTERVAL,
                    "timeout": DELIVERY_KEEPALIVE_TIMEOUT,
                }
            },
        },
        "vm": {"endpoint": ""},
        "chaincode": {
            "externalBuilders": [
                {
                    "name": "ccaas",
                    "path": str(BUILDER_DIR),
                    # The release step adds this peer's chaincode-link client pair.
                    "propagateEnvironment": [CLIENT_TLS_ENV],
                }
            ],
            "executetimeout": "30s",
            "installTimeout": "60s",
        },
        "ledger": {"state": {"stateDatabase": "goleveldb"}},
        "operations": operations_peer(layout, org),
        "metrics": {"provider": "prometheus"},
    }
    cfg = _merge(_load(sample_dir / "core.yaml"), over)
    home.mkdir(parents=True, exist_ok=True)
    (home / "core.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return home


def write_orderer_config(layout: Layout, i: int, sample_dir: Path) -> Path:
    """Write ``orderer.yaml`` for orderer ``i``; returns its FABRIC_CFG_PATH folder."""
    home = layout.node_dir(ORDERER_ORG, f"orderer{i}")
    tls = home / "tls"
    over: dict[str, Any] = {
        "General": {
            "ListenAddress": layout.orderer_host(i).address,
            "ListenPort": layout.orderer_port(i),
            "TLS": {
                "Enabled": True,
                "PrivateKey": str(tls / "key.pem"),
                "Certificate": str(tls / "cert.pem"),
                "RootCAs": [str(tls / "ca.pem")],
                "ClientAuthRequired": False,
            },
            "Cluster": {
                "ClientCertificate": str(tls / "cert.pem"),
                "ClientPrivateKey": str(tls / "key.pem"),
                "RootCAs": [str(tls / "ca.pem")],
            },
            "LocalMSPDir": str(home / "msp"),
            "LocalMSPID": ORDERER_ORG.msp_id,
            # Clients may ping more often than the peers' deliver keepalive (Fabric's
            # default 60s: a peer pinging more often is disconnected for too many pings;
            # below the peers' interval so a ping a little early never counts as one).
            "Keepalive": {"ServerMinInterval": ORDERER_MIN_PING_INTERVAL},
        },
        "FileLedger": {"Location": str(home / "data")},
        "Consensus": {"WALDir": str(home / "data" / "wal"), "SnapDir": str(home / "data" / "snap")},
        "Operations": operations_orderer(layout, i),
        "Metrics": {"Provider": "prometheus"},
        "Admin": {
            "ListenAddress": layout.address(layout.orderer_admin_port(i)),
            "TLS": {
                "Enabled": True,
                "Certificate": str(tls / "cert.pem"),
                "PrivateKey": str(tls / "key.pem"),
                "RootCAs": [str(tls / "ca.pem")],
                "ClientAuthRequired": True,
                # The orderer org's TLS root (its CA's root, as in the node's own tls/).
                "ClientRootCAs": [str(tls / "ca.pem")],
            },
        },
        "ChannelParticipation": {"Enabled": True},
    }
    cfg = _merge(_load(sample_dir / "orderer.yaml"), over)
    home.mkdir(parents=True, exist_ok=True)
    (home / "orderer.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return home


def _sig(rule: str) -> dict[str, str]:
    return {"Type": "Signature", "Rule": rule}


def _meta(rule: str) -> dict[str, str]:
    return {"Type": "ImplicitMeta", "Rule": rule}


def org_section(layout: Layout, org: Org) -> dict[str, Any]:
    m = org.msp_id
    section: dict[str, Any] = {
        "Name": m,
        "ID": m,
        "MSPDir": str(layout.org_msp(org)),
        "Policies": {
            "Readers": _sig(f"OR('{m}.admin', '{m}.peer', '{m}.client', '{m}.orderer')"),
            "Writers": _sig(f"OR('{m}.admin', '{m}.client', '{m}.orderer')"),
            "Admins": _sig(f"OR('{m}.admin')"),
            "Endorsement": _sig(f"OR('{m}.peer')"),
        },
    }
    if org.kind == "orderer":
        section["OrdererEndpoints"] = [
            layout.address(layout.orderer_port(i)) for i in range(len(layout.orderers()))
        ]
    else:
        section["AnchorPeers"] = [
            {"Host": layout.peer_host(org).address, "Port": layout.peer_port(org)}
        ]
    return section


def _raft_section(layout: Layout) -> dict[str, Any]:
    """The etcdraft consenters (one per ordering node, by its TLS certificate) and options."""
    consenters = []
    for i, node in enumerate(layout.orderers()):
        cert = str(layout.node_dir(ORDERER_ORG, node) / "tls" / "cert.pem")
        consenters.append(
            {
                "Host": layout.orderer_host(i).address,
                "Port": layout.orderer_port(i),
                "ClientTLSCert": cert,
                "ServerTLSCert": cert,
            }
        )
    return {
        "OrdererType": "etcdraft",
        "EtcdRaft": {
            "Consenters": consenters,
            "Options": {
                "TickInterval": "500ms",
                "ElectionTick": 10,
                "HeartbeatTick": 1,
                "MaxInflightBlocks": 5,
                "SnapshotIntervalSize": "16 MB",
            },
        },
    }


def _bft_section(layout: Layout) -> dict[str, Any]:
    """The SmartBFT consenter mapping and options.

    Each consenter is named by a stable ID, its endpoint, its MSP, its signing
    identity (BFT blocks carry a quorum of consenter signatures, which peers and
    clients verify against these certificates) and its TLS certificate.
    configtxgen derives the BlockValidation policy from this mapping.
    """
    mapping = []
    for i, node in enumerate(layout.orderers()):
        home = layout.node_dir(ORDERER_ORG, node)
        tls_cert = str(home / "tls" / "cert.pem")
        mapping.append(
            {
                "ID": i + 1,
                "Host": layout.orderer_host(i).address,
                "Port": layout.orderer_port(i),
                "MSPID": ORDERER_ORG.msp_id,
                "Identity": str(home / "msp" / "signcerts" / "cert.pem"),
                "ClientTLSCert": tls_cert,
                "ServerTLSCert": tls_cert,
            }
        )
    return {
        "OrdererType": "BFT",
        "ConsenterMapping": mapping,
        "SmartBFT": {
            "RequestBatchMaxCount": MAX_MESSAGE_COUNT,
            "RequestBatchMaxInterval": BATCH_TIMEOUT,
            "RequestForwardTimeout": "2s",
            # A follower that sees a request not ordered in this long complains;
            # enough complaints replace the leader (a killed leader is replaced
            # within about this time plus the view change).
            "RequestComplainTimeout": "10s",
            "RequestAutoRemoveTimeout": "3m",
            "ViewChangeResendInterval": "5s",
            "ViewChangeTimeout": "20s",
            "LeaderHeartbeatTimeout": "10s",
            "LeaderHeartbeatCount": 10,
            "CollectTimeout": "1s",
            "IncomingMessageBufferSize": 200,
            "RequestPoolSize": 100000,
        },
    }


def write_configtx(layout: Layout) -> Path:
    """Write ``configtx.yaml``: the channel profile for the layout's consensus; returns its folder.

    Channel capability V3_0: required for BFT; it also forbids global orderer
    addresses, so the endpoints are the orderer org's.
    """
    consensus = _bft_section(layout) if layout.consensus == "bft" else _raft_section(layout)
    profile = {
        "Policies": {
            "Readers": _meta("ANY Readers"),
            "Writers": _meta("ANY Writers"),
            "Admins": _meta("MAJORITY Admins"),
        },
        "Capabilities": {"V3_0": True},
        "Orderer": {
            **consensus,
            "BatchTimeout": BATCH_TIMEOUT,
            "BatchSize": {
                "MaxMessageCount": MAX_MESSAGE_COUNT,
                "AbsoluteMaxBytes": "10 MB",
                "PreferredMaxBytes": "2 MB",
            },
            "Organizations": [org_section(layout, ORDERER_ORG)],
            "Policies": {
                "Readers": _meta("ANY Readers"),
                "Writers": _meta("ANY Writers"),
                "Admins": _meta("MAJORITY Admins"),
                "BlockValidation": _meta("ANY Writers"),
            },
            "Capabilities": {"V2_0": True},
        },
        "Application": {
            "Organizations": [org_section(layout, org) for org in PEER_ORGS],
            "Policies": {
                "Readers": _meta("ANY Readers"),
                "Writers": _meta("ANY Writers"),
                "Admins": _meta("MAJORITY Admins"),
                "LifecycleEndorsement": _meta("MAJORITY Endorsement"),
                "Endorsement": _meta("MAJORITY Endorsement"),
            },
            "Capabilities": {"V2_5": True},
        },
    }
    out = layout.channel_dir()
    out.mkdir(parents=True, exist_ok=True)
    (out / "configtx.yaml").write_text(
        yaml.safe_dump({"Profiles": {"EbillChannel": profile}}, sort_keys=False)
    )
    return out


def write_connection_profiles(layout: Layout) -> None:
    """Write a Fabric common connection profile per peer org (JSON) for SDK users."""
    out = layout.profiles_dir()
    out.mkdir(parents=True, exist_ok=True)
    orgs = layout.peer_orgs()
    for org in orgs:
        peers = {
            f"peer0.{o.key}": {
                "url": f"grpcs://{layout.address(layout.peer_port(o))}",
                "tlsCACerts": {"pem": layout.tls_ca(o).read_text()},
                "grpcOptions": {"ssl-target-name-override": layout.peer_host(o).address},
            }
            for o in orgs
        }
        profile = {
            "name": f"ebill-{org.key}",
            "version": "1.0.0",
            "client": {
                "organization": org.msp_id,
                "connection": {"timeout": {"peer": {"endorser": "300"}}},
            },
            "organizations": {
                o.msp_id: {
                    "mspid": o.msp_id,
                    "peers": [f"peer0.{o.key}"],
                    "certificateAuthorities": [f"ca-{o.key}"],
                }
                for o in orgs
            },
            "peers": peers,
            "channels": {CHANNEL: {"peers": {name: {} for name in peers}}},
            "certificateAuthorities": {
                f"ca-{o.key}": {
                    "url": f"https://{layout.address(layout.ca_port(o))}",
                    "caName": f"ca-{o.key}",
                    "tlsCACerts": {"pem": [layout.ca_tls_cert(o).read_text()]},
                    "httpOptions": {"verify": False},
                }
                for o in orgs
            },
        }
        (out / f"{org.key}.json").write_text(json.dumps(profile, indent=2))
