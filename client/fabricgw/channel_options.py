"""The gRPC channel options for a gateway peer of a local consortium: the one place they are set.

gRPC reconnects a broken channel with exponential backoff; its defaults (1 s first,
up to 120 s, a connection attempt given at least 20 s) are made for the internet:
after a 30 s peer outage a client waited 12.6 s more before its channel tried
again. Peers of a consortium sit on one LAN, so the backoff here starts at 100 ms
and never exceeds :data:`MAX_RECONNECT_BACKOFF_MS` (2 s): a restarted peer is used
again at most about 2 s after it listens. A connection attempt may take up to
:data:`MIN_CONNECT_TIMEOUT_MS` (gRPC's ``grpc.min_reconnect_backoff_ms`` is the
minimum connect timeout of its backoff algorithm).

Use them for every channel: ``grpc.secure_channel(address, credentials,
options=fabricgw.channel_options())`` (or ``grpc.aio.secure_channel``).
"""

from __future__ import annotations

INITIAL_RECONNECT_BACKOFF_MS = 100
MAX_RECONNECT_BACKOFF_MS = 2_000
MIN_CONNECT_TIMEOUT_MS = 2_000
MAX_MESSAGE_BYTES = 100 * 1024 * 1024
"""Largest message sent or received (blocks and query answers can be large)."""
KEEPALIVE_TIME_MS = 60_000
"""Ping an idle connection every minute (Fabric peers allow one ping a minute by default)."""

#: The options, as ``grpc.*_channel(options=...)`` takes them.
CHANNEL_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
    ("grpc.initial_reconnect_backoff_ms", INITIAL_RECONNECT_BACKOFF_MS),
    ("grpc.max_reconnect_backoff_ms", MAX_RECONNECT_BACKOFF_MS),
    ("grpc.min_reconnect_backoff_ms", MIN_CONNECT_TIMEOUT_MS),
)


def channel_options(**overrides: int | str) -> list[tuple[str, int | str]]:
    """:data:`CHANNEL_OPTIONS` with some replaced or added, e.g.
    ``channel_options(**{"grpc.ssl_target_name_override": "peer0.org1"})``. Never raises."""
    merged: dict[str, int | str] = dict(CHANNEL_OPTIONS)
    merged.update(overrides)
    return list(merged.items())


__all__ = [
    "CHANNEL_OPTIONS",
    "INITIAL_RECONNECT_BACKOFF_MS",
    "KEEPALIVE_TIME_MS",
    "MAX_MESSAGE_BYTES",
    "MAX_RECONNECT_BACKOFF_MS",
    "MIN_CONNECT_TIMEOUT_MS",
    "channel_options",
]
