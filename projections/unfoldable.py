"""The first event the views cannot fold, found so that they keep everything before it.

One event the fold or the view tables refuse (a payload it cannot read, a value a
column cannot hold) must not make every command fail. After a batch fails, the
projector replays it in parts, each under a savepoint: a part that folds is kept, a
part that fails is halved, until the one event that fails alone is found. Parts
start at one event and double while they fold, so a catch-up that starts at the
event found last time finds it again at once. Only a failed batch comes here: the
usual path pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import PersistenceError
from psycopg import Cursor

# SQLSTATE classes of the connection, a rollback, the server's resources, a lock, an operator,
# the system: none says anything of the event being folded
_NOT_THE_EVENT = ("08", "40", "53", "55", "57", "58", "XX")


def caused_by_the_events(exc: BaseException) -> bool:
    """Whether the failure of a fold could come from the events themselves (not from the server)."""
    if isinstance(exc, PersistenceError):  # eventsourcing's wrapping of the driver's error
        if not isinstance(exc.__cause__, psycopg.Error):
            return False  # no connection from the pool, and the like
        exc = exc.__cause__
    if isinstance(exc, psycopg.Error):
        return exc.sqlstate is not None and not exc.sqlstate.startswith(_NOT_THE_EVENT)
    return isinstance(exc, Exception) and not isinstance(exc, MemoryError)


def problem(exc: BaseException) -> str:
    """Why an event cannot be folded, in one line."""
    if isinstance(exc, psycopg.Error) and exc.diag.message_primary:
        text = exc.diag.message_primary
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:199] + "…"


def apply_foldable(curs: Cursor[Any], rows: Sequence[Any], apply: Callable[[Sequence[Any]], None]
                   ) -> tuple[int, BaseException | None]:
    """Applies the longest prefix of `rows` that folds; returns its length and, when that is
    not every row, why the next row fails on its own."""
    done, size = 0, 1
    while done < len(rows):
        part = rows[done:done + size]
        try:
            with curs.connection.transaction():  # a savepoint: a failed part leaves nothing
                apply(part)
        except Exception as exc:
            if not caused_by_the_events(exc):
                raise
            if len(part) == 1:
                return done, exc
            size = len(part) // 2
        else:
            done += len(part)
            size *= 2
    return done, None
