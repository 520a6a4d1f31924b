"""The event store's connection pool: bounded connections, and a refusal said at once.

The library's pool connects in the background and retries a refused connection for as long
as the caller waits, so "too many clients" or a wrong password read, 30 s later, as "couldn't
get a connection". Here a caller waiting for a connection gives up as soon as an attempt
made meanwhile was refused, and says why.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from eventsourcing.postgres import ConnectionPool, PostgresFactory
from eventsourcing.utils import Environment
from psycopg_pool import PoolTimeout

from ledgerflow.engine.infrastructure.connections import (
    BoundedConnection,
    last_refusal,
    session_parameters,
    target,
    unanswered,
)

POLL = 0.2  # how often a waiting caller looks for a refusal
URL_OPTIONS = "LEDGERFLOW_POSTGRES_OPTIONS"  # the database URL's own `options`, kept beside ours
RECENT = 3.0  # a refusal this recent still stands: the pool's next attempt is about that far off


class LedgerPool(ConnectionPool[Any]):
    """Fails fast rather than waiting for the server to free a slot.

    With one free connection slot a read works (it needs one session), and a backfill fails at once
    with "too many clients": it holds its DAG's lock on one session for its whole length and appends
    on another, and a slot freed by someone else may never come, so a wait would only postpone the
    same failure (30 s and a traceback, before).
    """

    def getconn(self, timeout: float | None = None) -> Any:
        wait = self.timeout if timeout is None else timeout
        started = time.monotonic()
        deadline = started + wait
        while True:
            if (silence := unanswered()) is not None:
                raise psycopg.OperationalError(silence)
            try:
                return super().getconn(min(POLL, max(deadline - time.monotonic(), 0.001)))
            except PoolTimeout:
                params = self.kwargs if isinstance(self.kwargs, dict) else {}
                refusal = last_refusal(target(params), started - RECENT)
                if refusal is not None:
                    raise psycopg.OperationalError(refusal) from None
                if time.monotonic() >= deadline:
                    raise PoolTimeout(f"no database connection within {wait:g} s") from None


class LedgerFactory(PostgresFactory):
    """The library's PostgreSQL persistence, over a LedgerPool of BoundedConnections."""

    def __init__(self, env: Environment | Any) -> None:
        super().__init__(env)
        store = self.datastore
        given = store.pool  # never opened: it made no connection
        kwargs = dict(given.kwargs) if isinstance(given.kwargs, dict) else {}
        kwargs.update(session_parameters(self.env.get(URL_OPTIONS) or None))
        store.pool = LedgerPool(
            connection_class=BoundedConnection,
            kwargs=kwargs,
            min_size=given.min_size,
            max_size=given.max_size,
            open=False,
            configure=store.after_connect_func(),
            timeout=given.timeout,
            max_waiting=given.max_waiting,
            max_lifetime=given.max_lifetime,
        )
