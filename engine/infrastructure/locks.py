"""Who drives what: PostgreSQL advisory locks held by a live session.

A lock dies with its session, so a lock that is free proves that whoever held it
is gone; the next driver may take over what it left. Keys are text, hashed by the
server, and built here only, so every holder and every check names the same lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ledgerflow.engine.errors import RefusedCommand
from ledgerflow.engine.infrastructure.db_failures import database_problem
from ledgerflow.engine.infrastructure.store import Ledger

MIGRATIONS_KEY = 7_220_417_001  # session-scoped: one schema change (tables, migrations) at a time
VIEWS_KEY = 7_220_417_002  # transaction-scoped: one projector append at a time

_HELD = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND ((classid::bigint << 32) | objid::bigint) = hashtext(%s)::bigint) AS held"
)


def dag_key(dag_id: str) -> str:
    return f"ledgerflow-dag:{dag_id}"


def run_key(dag_id: str, logical_date: str) -> str:
    return f"ledgerflow-run:{dag_id}|{logical_date}"


@contextmanager
def dag_lock(ledger: Ledger, dag_id: str) -> Iterator[None]:
    """One driver per DAG: a session lock held for the whole command.

    Holding it also proves that task instances left running or queued in this
    DAG's runs belong to a process that is gone, so they can be reset.
    """
    with _held_by_this_session(ledger, dag_key(dag_id),
                               f"another backfill or the scheduler is driving DAG {dag_id} right now"):
        yield


@contextmanager
def _held_by_this_session(ledger: Ledger, key: str, refusal: str) -> Iterator[None]:
    """A session lock on its own connection, for as long as the block runs; refused when another session holds it."""
    with ledger.datastore.get_connection() as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s)) AS ok", (key,)).fetchone()
        if not row["ok"]:
            raise RefusedCommand(refusal)
        try:
            yield
        finally:
            release(conn, "SELECT pg_advisory_unlock(hashtext(%s))", (key,))


@contextmanager
def child_run_lock(ledger: Ledger, dag_id: str, logical_date: str) -> Iterator[None]:
    """A sub-DAG run: its DAG's lock shared (parent runs of other dates drive other child runs
    at the same time; a backfill of the child DAG itself takes it exclusively) and the run's
    own lock exclusive."""
    keys = dag_key(dag_id), run_key(dag_id, logical_date)
    with ledger.datastore.get_connection() as conn:
        row = conn.execute(
            "SELECT pg_try_advisory_lock_shared(hashtext(%s)) AS dag, "
            "pg_try_advisory_lock(hashtext(%s)) AS run", keys,
        ).fetchone()
        try:
            if not (row["dag"] and row["run"]):
                raise RefusedCommand(f"another process is driving the {dag_id} run of {logical_date}")
            yield
        finally:
            release(
                conn,
                "SELECT CASE WHEN %s THEN pg_advisory_unlock_shared(hashtext(%s)) END, "
                "CASE WHEN %s THEN pg_advisory_unlock(hashtext(%s)) END",
                (row["dag"], keys[0], row["run"], keys[1]),
            )


def release(conn: Any, unlock: str, params: tuple[Any, ...]) -> None:
    """Unlocks; a session the database lost took its locks with it, so there is nothing left to undo."""
    try:
        conn.execute(unlock, params)
    except Exception as exc:
        if database_problem(exc) is None:
            raise


def backfill_key(number: int) -> str:
    return f"ledgerflow-backfill:{number}"


def _held(ledger: Ledger, key: str) -> bool:
    with ledger.cursor() as curs:
        curs.execute(_HELD, (key,))
        row = curs.fetchone()
    return bool(row and row["held"])


def driven_now(ledger: Ledger, dag_id: str) -> bool:
    """Whether a backfill or the scheduler holds the DAG's lock right now."""
    return _held(ledger, dag_key(dag_id))


def run_leased(ledger: Ledger, dag_id: str, logical_date: str) -> bool:
    """Whether a live session drives this run on its own (a sub-DAG run's lock), beside the DAG's lock."""
    return _held(ledger, run_key(dag_id, logical_date))


def backfill_leased(ledger: Ledger, number: int) -> bool:
    """Whether the foreground process driving this backfill is alive (it holds the backfill's lease)."""
    return _held(ledger, backfill_key(number))


@contextmanager
def backfill_lease(ledger: Ledger, number: int) -> Iterator[None]:
    """The lease a foreground backfill holds while it drives: free once its process is gone."""
    with _held_by_this_session(ledger, backfill_key(number),
                               f"backfill {number} is being driven by another process right now"):
        yield


@contextmanager
def creation_lock(ledger: Ledger, dag_id: str) -> Iterator[None]:
    """Creating a backfill of a DAG, one at a time: the one-active check and the append go together."""
    key = f"ledgerflow-backfill-create:{dag_id}"
    with ledger.datastore.get_connection() as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        try:
            yield
        finally:
            release(conn, "SELECT pg_advisory_unlock(hashtext(%s))", (key,))
