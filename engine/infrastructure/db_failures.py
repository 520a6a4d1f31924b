"""Telling a database that failed us (refused, lost, full, too slow) from a bug, in one line.

The library wraps psycopg's errors in its own (and loses psycopg's class on the way, keeping
it as the cause), so both kinds and their causes are looked at. A failure of the database
is the operator's to fix and is said in one line; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import psycopg
from eventsourcing import persistence

_OUTAGES: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,  # refused, lost, too many clients, auth, timeouts, admin shutdown
    psycopg.InterfaceError,  # the connection is closed
    persistence.OperationalError,
    persistence.InterfaceError,
)


def database_problem(exc: BaseException) -> str | None:
    """'database unavailable: <why>' when `exc` is the database failing us, else None."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, _OUTAGES):
            why = " ".join(str(seen).split()).rstrip(".") or type(seen).__name__
            return f"database unavailable: {why}"
        seen = seen.__cause__
    return None
