"""The session's fabric-ca-server fixtures (defined in :mod:`ca_server`, which tests import
by that name: ``conftest`` is a different module in each test folder)."""

from ca_server import *  # noqa: F403
