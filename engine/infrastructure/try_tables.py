"""The Celery executor's tables: the outbox (try_dispatch) and the workers' claims (try_claim).

A try's key is (run_uuid, task_id, try_number). A claim row is unique per try: the
first worker to insert it runs the try, any other delivery of the same try finds it
and runs nothing. An outcome is written only while none is there (`result IS NULL`),
so a try given up for dead, or stopped, keeps that outcome whatever its worker says later.
Sessions are in autocommit and each step a worker or driver takes per try is one statement
(its own transaction, one round trip): a busy worker pays no BEGIN and COMMIT round trips.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

from ledgerflow.engine.infrastructure import task_logs
from ledgerflow.engine.infrastructure.connections import session_parameters
from ledgerflow.engine.infrastructure.database import conninfo

ENDED_CHANNEL = "ledgerflow_try_ended"
Key = tuple[str, str, int]  # run_uuid, task_id, try_number
_KEYS = "(run_uuid, task_id, try_number) IN (SELECT * FROM unnest(%s::uuid[], %s::text[], %s::int[]))"


def connect(url: str) -> psycopg.Connection[Any]:
    params = session_parameters(conninfo(url).get("options"))
    return psycopg.connect(url, autocommit=True, **params)


def _columns(keys: Iterable[Key]) -> tuple[list[str], list[str], list[int]]:
    keys = list(keys)
    return [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]


def record_dispatch(conn: psycopg.Connection[Any], rows: Sequence[tuple[str, Key, str, dict[str, Any]]]) -> None:
    """(celery_id, key, queue, job) for each try, in one statement: queued before it is published."""
    conn.execute(
        "INSERT INTO try_dispatch (celery_id, run_uuid, task_id, try_number, queue, job) SELECT * FROM "
        "unnest(%s::uuid[], %s::uuid[], %s::text[], %s::int[], %s::text[], %s::text[]::jsonb[]) ON CONFLICT DO NOTHING",
        ([r[0] for r in rows], *_columns(r[1] for r in rows), [r[2] for r in rows], [json.dumps(r[3]) for r in rows]))


def confirm(conn: psycopg.Connection[Any], celery_ids: Sequence[str]) -> None:
    if celery_ids:
        conn.execute("UPDATE try_dispatch SET published_at = now() WHERE celery_id = ANY(%s::uuid[])",
                     (list(celery_ids),))


def forget(conn: psycopg.Connection[Any], keys: Sequence[Key]) -> None:
    """Tries that were refused (their DAG file changed): no try ran, so the number is used again."""
    if keys:
        with conn.transaction():
            for table in ("try_claim", "try_dispatch"):
                conn.execute(f"DELETE FROM {table} WHERE {_KEYS}", _columns(keys))


def claim(conn: psycopg.Connection[Any], key: Key, host: str, pid: int) -> bool:
    row = conn.execute("INSERT INTO try_claim (run_uuid, task_id, try_number, hostname, pid) "
                       "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1", (*key, host, pid)).fetchone()
    return row is not None


def release(conn: psycopg.Connection[Any], key: Key, host: str, pid: int) -> None:
    """Hands a claimed try back (its worker stopped before it ran it): another delivery may claim it."""
    conn.execute("DELETE FROM try_claim WHERE (run_uuid, task_id, try_number) = (%s, %s, %s) "
                 "AND hostname = %s AND pid = %s AND result IS NULL", (*key, host, pid))


def finish(conn: psycopg.Connection[Any], key: Key, host: str, pid: int, result: dict[str, Any],
           log_row: tuple[Any, ...] | None) -> bool:
    """The try's log and outcome, and a notification, in one statement; False when the try already had
    an outcome (stopped, or given up for dead)."""
    log = f"log AS ({task_logs.INSERT}), " if log_row is not None else ""
    row = conn.execute(
        f"WITH {log}done AS (UPDATE try_claim SET result = %s, ended_at = now() WHERE (run_uuid, task_id, try_number) "
        "= (%s, %s, %s) AND hostname = %s AND pid = %s AND result IS NULL RETURNING 1) "
        "SELECT (SELECT count(*) FROM done), pg_notify(%s, %s)",
        (*(log_row or ()), json.dumps(result), *key, host, pid, ENDED_CHANNEL, key[0])).fetchone()
    return row is not None and row[0] == 1


def heartbeat(conn: psycopg.Connection[Any], key: Key, host: str, pid: int) -> None:
    conn.execute("UPDATE try_claim SET heartbeat_at = now() WHERE (run_uuid, task_id, try_number) = "
                 "(%s, %s, %s) AND hostname = %s AND pid = %s AND result IS NULL", (*key, host, pid))


def claims_of(conn: psycopg.Connection[Any], keys: Iterable[Key], stale_after: float) -> list[tuple[Any, ...]]:
    """(key, hostname, pid, result, heartbeat is stale) of the tries' claims."""
    rows = conn.execute(
        "SELECT run_uuid::text, task_id, try_number, hostname, pid, result, "
        f"heartbeat_at < now() - make_interval(secs => %s) FROM try_claim WHERE {_KEYS}",
        (stale_after, *_columns(keys))).fetchall()
    return [((r[0], r[1], r[2]), r[3], r[4], r[5], r[6]) for r in rows]


def settle(conn: psycopg.Connection[Any], outcomes: Sequence[tuple[Key, dict[str, Any]]]) -> list[Key]:
    """Gives these tries this outcome unless they have one (or a claim appears meanwhile: then
    inserting fails over to the update), in one statement; returns the keys it settled."""
    if not outcomes:
        return []
    rows = conn.execute(
        "INSERT INTO try_claim (run_uuid, task_id, try_number, hostname, pid, result, ended_at) "
        "SELECT u, t, n, '', 0, r, now() FROM unnest(%s::uuid[], %s::text[], %s::int[], %s::text[]::jsonb[]) "
        "AS k(u, t, n, r) "
        "ON CONFLICT (run_uuid, task_id, try_number) DO UPDATE SET result = EXCLUDED.result, ended_at = now() "
        "WHERE try_claim.result IS NULL RETURNING run_uuid::text, task_id, try_number",
        (*_columns(k for k, _ in outcomes), [json.dumps(r) for _, r in outcomes])).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]
