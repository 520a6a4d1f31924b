"""A PostgreSQL server of a test's own, to freeze, restart or fill up without touching the shared one.

The shared server (LEDGERFLOW_TEST_DATABASE_URL) serves everyone's tests; a test that
stops a server, or takes all its connection slots, makes one of these under /tmp.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

BIN = Path(os.environ.get("LEDGERFLOW_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def available() -> bool:
    """The server binaries are here (as root, a `postgres` user runs them: the server refuses root)."""
    return (BIN / "initdb").exists() and (os.geteuid() != 0 or shutil.which("runuser") is not None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateServer:
    """initdb'd in a temporary directory, listening on 127.0.0.1 on a port of its own."""

    def __init__(self, max_connections: int = 20, *, keep_commits: bool = False) -> None:
        """`keep_commits`: a commit survives an immediate stop (as on a real server); without it, commits
        are acknowledged before their WAL is written, which is faster and loses the last ones on a crash."""
        self.root = Path(tempfile.mkdtemp(prefix="lf-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.max_connections = max_connections
        self.keep_commits = keep_commits
        self._as_postgres = os.geteuid() == 0  # the server refuses to run as root
        if self._as_postgres:
            shutil.chown(self.root, "postgres")
        self._run(BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()

    def _run(self, *argv: object) -> None:
        cmd = [str(a) for a in argv]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database(self, name: str) -> str:
        """A new, empty database on this server; its URL."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        options = (f"-c port={self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
                   f"-c max_connections={self.max_connections} -c superuser_reserved_connections=0 "
                   "-c fsync=off -c full_page_writes=off" + ("" if self.keep_commits else " -c synchronous_commit=off"))
        self._run(BIN / "pg_ctl", "-D", self.data, "-o", options, "-l", self.root / "log", "-w", "-t", "30", "start")

    def stop(self) -> None:
        self._run(BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def restart(self) -> None:
        """An immediate shutdown, as a crash or an operator would, then a start."""
        self.stop()
        self.start()

    def _pids(self) -> list[int]:
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
        return [postmaster, *map(int, children)]

    def freeze(self) -> None:
        """SIGSTOP to every process of the server: its kernel still answers TCP, nothing else does."""
        for pid in self._pids():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._pids():
            os.kill(pid, signal.SIGCONT)

    def close(self) -> None:
        try:
            self.thaw()
            self.stop()
        except (OSError, subprocess.CalledProcessError):
            pass
        shutil.rmtree(self.root, ignore_errors=True)
