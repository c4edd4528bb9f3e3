"""A throwaway PostgreSQL cluster for tests and benchmarks: Debian's ``initdb`` and
``pg_ctl`` on a loopback port, data in a temporary folder, removed by :meth:`stop`.

PostgreSQL refuses to run as root; as root the cluster runs as the ``postgres`` system
user (the Debian package creates it) through ``runuser``. Clients connect over TCP on
127.0.0.1 with trust authentication for that address only: the cluster lives as long
as the test run and holds test data.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

RUN_AS = "postgres"


class PostgresUnavailable(RuntimeError):
    """The binaries are missing (install Debian's ``postgresql``) or the cluster failed."""


def binaries() -> Path:
    """The folder with ``initdb`` and ``pg_ctl``: PATH first, then the newest Debian one."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if not versions:
        raise PostgresUnavailable(
            "initdb not found: install PostgreSQL (apt-get install postgresql, or make postgres)"
        )
    return Path(versions[-1]).parent


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


class Cluster:
    """A cluster on ``127.0.0.1:port``; :attr:`url` is its SQLAlchemy URL (psycopg)."""

    def __init__(self, port: int, *, parent: Path | None = None) -> None:
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="ebill-pg-", dir=parent))
        self.data = self.root / "data"
        self._prefix: list[str] = []
        if os.geteuid() == 0:
            self._prefix = ["runuser", "-u", RUN_AS, "--"]
            shutil.chown(self.root, RUN_AS, RUN_AS)
        self._bin = binaries()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self._prefix, *args], capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise PostgresUnavailable(f"{Path(args[0]).name} failed: " + " | ".join(tail))

    def start(self) -> Cluster:
        """initdb (user ``postgres``, UTF-8, trust on loopback) and start; waits until it
        accepts connections. Raises :class:`PostgresUnavailable`."""
        self._run(
            str(self._bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--auth=trust",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}"
            " -c fsync=off -c full_page_writes=off"
        )
        self._run(
            str(self._bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def create_database(self, name: str) -> str:
        """Create database ``name`` (dropped first if it exists); its URL."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(str(self._bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
