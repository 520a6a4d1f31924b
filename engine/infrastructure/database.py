"""Where the database is: LEDGERFLOW_DATABASE_URL, or an embedded PostgreSQL under LEDGERFLOW_HOME.

The embedded server is started on demand and left running between commands, so
a CLI call pays only a connection, not a server start; `ledgerflow db stop` ends it.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from ledgerflow.engine.errors import DatabaseUnavailable
from ledgerflow.engine.infrastructure import embedded, roles, settings
from ledgerflow.engine.infrastructure.postmaster import read_pid_file, staleness


def _pgdata() -> Path:
    return settings.home() / "pgdata"


def embedded_url(start: bool = True, *, admin: bool = False) -> str | None:
    """The commands connect as the app role; migrations as the superuser (`admin`), the tables' owner."""
    pgdata = _pgdata()
    user = roles.SUPERUSER if admin else roles.APP_ROLE
    url = embedded.url(pgdata, user)  # reads postmaster.pid: a warm server costs no more
    if url or not start:
        return url
    pid_file = read_pid_file(pgdata)
    stale = staleness(pid_file, pgdata) if pid_file else None
    if stale and stale.live:  # the server would refuse to start, taking that process for a postmaster
        raise DatabaseUnavailable(f"cannot start the embedded PostgreSQL: {stale.why}; remove that file")
    embedded.start(pgdata)
    url = embedded.url(pgdata, user)
    if url is None:
        raise DatabaseUnavailable(f"the embedded PostgreSQL in {pgdata} did not become ready")
    return url


@dataclass(frozen=True)
class EmbeddedStop:
    """What `db stop` did: stopped the server, or found none (`stale` says why its PID file lies)."""

    stopped: bool
    stale: str | None = None


def stop_embedded(timeout: float = 60.0) -> EmbeddedStop:
    """Asks the postmaster of this data directory for a fast shutdown (SIGINT, as `pg_ctl stop`).

    Only a PID checked to be that postmaster is signalled, never whatever a stale file names.
    """
    pgdata = _pgdata()
    pid_file = read_pid_file(pgdata)
    if pid_file is None:
        return EmbeddedStop(False)
    stale = staleness(pid_file, pgdata)
    if stale is not None:
        return EmbeddedStop(False, stale.why)
    try:
        os.kill(pid_file.pid, signal.SIGINT)
    except ProcessLookupError:
        return EmbeddedStop(False)
    deadline = time.monotonic() + timeout
    while staleness(pid_file, pgdata) is None:  # until it is gone
        if time.monotonic() > deadline:
            raise DatabaseUnavailable(f"the embedded PostgreSQL in {pgdata} did not stop within {timeout:.0f} s")
        time.sleep(0.05)
    return EmbeddedStop(True)


def resolve_url(*, admin: bool = False) -> str:
    """LEDGERFLOW_DATABASE_URL, else the embedded server's (`admin`: as the owner of its tables)."""
    configured = settings.database_url()
    if configured:
        check_reachable(configured)
        return configured
    return embedded_url(admin=admin) or ""


def check_reachable(url: str) -> None:
    """Fails at once with the server's reason, not after the pool's 30 s wait with a traceback."""
    import psycopg

    from ledgerflow.engine.infrastructure.connections import BoundedConnection, session_parameters

    try:
        BoundedConnection.connect(url, **session_parameters(conninfo(url).get("options"))).close()
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        raise DatabaseUnavailable(f"cannot connect to LEDGERFLOW_DATABASE_URL: {reason}") from None


def conninfo(url: str) -> dict[str, str]:
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    except Exception as exc:
        raise DatabaseUnavailable(f"invalid database URL: {exc}") from None
    return info
