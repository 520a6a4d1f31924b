"""A PostgreSQL server of a test's own (initdb under /tmp, its own port), for tests that restart it.

The shared server must never be stopped or restarted; this one may. Run as root,
the server runs as the `postgres` system user, as PostgreSQL requires.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")


def available() -> bool:
    return (BIN / "initdb").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="lf-private-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            owner = pwd.getpwnam(self.user)
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self._run(BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.data}'\nfsync = off\nmax_connections = 40\n")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: object) -> None:
        subprocess.run([str(a) for a in args], check=True, capture_output=True, user=self.user, timeout=120,
                       cwd=self.root)

    def _ctl(self, *args: str) -> None:
        self._run(BIN / "pg_ctl", "-D", self.data, "-l", self.root / "server.log", "-w", "-t", "60", *args)

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        """Every session and advisory lock is dropped; the server answers again when this returns."""
        self._ctl("restart", "-m", "fast")

    def destroy(self) -> None:
        try:
            self._ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
