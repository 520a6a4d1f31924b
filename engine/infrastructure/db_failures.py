"""Telling a database that failed us (refused, lost, full, too slow) from a bug, in one line.

The library wraps psycopg's errors in its own (and loses psycopg's class on the way, keeping
it as the cause), so both kinds and their causes are looked at. A failure of the database
is the operator's to fix and is said in one line; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import psycopg
from eventsourcing import persistence

from ledgerflow.engine.infrastructure import settings

_OUTAGES: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,  # refused, lost, too many clients, auth, timeouts, admin shutdown
    psycopg.InterfaceError,  # the connection is closed
    persistence.OperationalError,
    persistence.InterfaceError,
)


def database_problem(exc: BaseException) -> str | None:
    """'database unavailable: <why>' when `exc` is the database failing us, else None."""
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and len(chain) < 10:
        chain.append(link)
        link = link.__cause__
    if any(isinstance(e, psycopg.errors.QueryCanceled) and "statement timeout" in str(e) for e in chain):
        return (f"database unavailable: a statement took longer than LEDGERFLOW_DB_TIMEOUT "
                f"({settings.db_timeout():g} s), the server cancelled it")
    for seen in chain:
        if isinstance(seen, _OUTAGES):
            why = " ".join(str(seen).split()).rstrip(".") or type(seen).__name__
            return f"database unavailable: {why}"
    return None
