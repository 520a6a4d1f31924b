"""Every connection ledgerflow opens: bounded on the server, on the wire and in this process.

The server ends a statement after LEDGERFLOW_DB_TIMEOUT seconds and a transaction left
idle after twice that; TCP keepalives find a peer that is gone. None of that ends a wait
on a server that is frozen (SIGSTOP, a hung host): its kernel still acknowledges every
packet, and the server's own timers do not run. So this process bounds each wait itself,
a little past the server's bound, and once a server did not answer, the next waits on it
fail at once instead of waiting again, so a command ends with one error, not one per
clean-up. A stop request (SIGTERM, Ctrl-C) gives the waits in progress a short grace,
then ends them, so a signal is never ignored behind a database that does not answer.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import psycopg
from psycopg.abc import PQGen
from psycopg.conninfo import conninfo_to_dict

from ledgerflow.engine.infrastructure import settings

Row = TypeVar("Row", covariant=True)

GRACE = 2.0  # a server that answers at all answers within this; past it the client calls it gone
STOP_GRACE = 5.0  # what a wait in progress may still take after a stop request
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 10, 5, 3


def connect_timeout() -> int:
    limit = settings.db_timeout()
    return 10 if not limit else max(2, min(10, round(limit)))


def wait_bound() -> float | None:
    """How long one wait for the server may take in this process; None: no bound."""
    limit = settings.db_timeout()
    return limit + GRACE if limit else None


def session_parameters(url_options: str | None = None) -> dict[str, Any]:
    """libpq connection parameters for every session; `url_options` (the URL's own `options`) are kept."""
    limit = settings.db_timeout()
    ms = round(limit * 1000)
    server = (f"-c statement_timeout={ms} -c idle_in_transaction_session_timeout={2 * ms} "  # the server's side:
              f"-c tcp_keepalives_idle={KEEPALIVE_IDLE} -c tcp_keepalives_interval={KEEPALIVE_INTERVAL} "
              f"-c tcp_keepalives_count={KEEPALIVE_COUNT}")  # a client gone frees its locks

    bound = wait_bound()
    return {
        "connect_timeout": connect_timeout(),
        "keepalives": 1,
        "keepalives_idle": KEEPALIVE_IDLE,
        "keepalives_interval": KEEPALIVE_INTERVAL,
        "keepalives_count": KEEPALIVE_COUNT,
        "tcp_user_timeout": round(bound * 1000) if bound else 0,  # unacknowledged data: the peer is gone
        "options": f"{url_options} {server}" if url_options else server,
    }


class _State:
    """This process's view of the servers it waits on (threads share it; the GIL guards the set)."""

    def __init__(self) -> None:
        self.waiting: set[BoundedConnection[Any]] = set()
        self.abandoned: set[BoundedConnection[Any]] = set()
        self.silent_until = 0.0  # a server did not answer: until then, do not wait on it again
        self.silence = ""
        self.stopping = False
        self.refused: dict[tuple[str, ...], tuple[float, str]] = {}  # per server and role: the last failed attempt



STATE = _State()


def _forget_the_parent() -> None:
    """A forked child starts afresh: the parent's waits are not its own."""
    global STATE
    STATE = _State()


os.register_at_fork(after_in_child=_forget_the_parent)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def target(params: dict[str, Any]) -> tuple[str, ...]:
    """Which server, database and role connection parameters name."""
    return tuple(str(params.get(k) or "") for k in ("host", "port", "dbname", "user"))


def last_refusal(to: tuple[str, ...], since: float) -> str | None:
    """Why the last attempt to connect `to` a target, made after `since` (time.monotonic()),
    failed, if one did."""
    refused = STATE.refused.get(to)
    return refused[1] if refused and refused[0] >= since else None


def unanswered() -> str | None:
    """Why the database is taken for gone right now, if it is."""
    return STATE.silence if time.monotonic() < STATE.silent_until else None


class BoundedConnection(psycopg.Connection[Row]):
    """A psycopg connection whose every wait for the server ends within wait_bound()."""

    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:
        if (silence := unanswered()) is not None:
            raise psycopg.OperationalError(silence)
        try:
            return super().connect(conninfo, **kwargs)
        except psycopg.OperationalError as exc:
            STATE.refused[target({**conninfo_to_dict(conninfo), **kwargs})] = (time.monotonic(), _one_line(exc))
            raise

    def wait(self, gen: PQGen[Any], interval: float = 0.1, timeout: float | None = None) -> Any:
        bound = wait_bound()
        if STATE.stopping:
            bound = min(bound or STOP_GRACE, STOP_GRACE)
        limit = bound if timeout is None or (bound is not None and bound < timeout) else timeout
        if (silence := unanswered()) is not None:
            self._give_up()
            raise psycopg.OperationalError(silence)
        started = time.monotonic()
        STATE.waiting.add(self)
        try:
            return super().wait(gen, interval, limit)
        except psycopg.OperationalError:
            if self in STATE.abandoned:
                raise self._silent(f"the database did not answer within {STOP_GRACE:g} s of the stop request") from None
            if limit is not None and limit != timeout and time.monotonic() - started >= limit:
                raise self._silent(f"the database did not answer within {limit:g} s") from None
            raise
        finally:
            STATE.waiting.discard(self)
            STATE.abandoned.discard(self)

    def _silent(self, why: str) -> psycopg.OperationalError:
        """This connection is in an unknown state mid-protocol: closed; the server is taken for gone."""
        self._give_up()
        STATE.silence = why
        STATE.silent_until = time.monotonic() + (wait_bound() or STOP_GRACE)
        return psycopg.OperationalError(why)

    def _give_up(self) -> None:
        with contextlib.suppress(Exception):
            self.pgconn.finish()


@contextlib.contextmanager
def stoppable() -> Iterator[Callable[[], None]]:
    """Gives a function for a signal handler to call on a stop request, while the driver runs.

    Called, it gives the waits in progress STOP_GRACE, then ends them; each later wait gets as
    long, so a clean stop still records what it can on a server that answers.
    """

    def request() -> None:
        if STATE.stopping:
            return
        STATE.stopping = True
        waiting = list(STATE.waiting)
        if waiting:
            timer = threading.Timer(STOP_GRACE, _abandon, args=(waiting,))
            timer.daemon = True
            timer.start()

    try:
        yield request
    finally:
        STATE.stopping = False


def _abandon(connections: list[BoundedConnection[Any]]) -> None:
    """Wakes the waits still in progress: a socket shut down reads as the end of the connection."""
    for conn in connections:
        if conn not in STATE.waiting:
            continue
        STATE.abandoned.add(conn)
        with contextlib.suppress(OSError), _socket_of(conn) as sock:
            sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def _socket_of(conn: BoundedConnection[Any]) -> Iterator[socket.socket]:
    sock = socket.socket(fileno=os.dup(conn.pgconn.socket))
    try:
        yield sock
    finally:
        sock.close()
