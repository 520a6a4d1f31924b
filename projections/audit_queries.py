"""Reads of the audit view: the log of changes, and one operation with all it changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledgerflow.engine.domain.dates import iso
from ledgerflow.engine.errors import OperationNotFound
from ledgerflow.engine.infrastructure.store import Ledger

LOG_FIELDS = (
    "seq", "recorded_at", "event", "dag_id", "run_id", "task_id", "from_state", "to_state",
    "actor", "reason", "operation_id", "operation",
)


@dataclass(frozen=True)
class LogFilter:
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    actor: str | None = None
    operation_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    event: str | None = None
    events: tuple[str, ...] | None = None  # any of these events
    excluded_events: tuple[str, ...] = ()
    try_number: int | None = None
    limit: int | None = None  # the newest N entries, still printed oldest first


def _where(f: LogFilter) -> tuple[str, list[Any]]:
    clauses, params = [], []
    for column in ("dag_id", "task_id", "run_id", "actor", "operation_id", "event", "try_number"):
        value = getattr(f, column)
        if value is not None:
            clauses.append(f"{column} = %s")
            params.append(value)
    if f.events is not None:
        clauses.append("event = ANY(%s)")
        params.append(list(f.events))
    if f.excluded_events:
        clauses.append("NOT (event = ANY(%s))")
        params.append(list(f.excluded_events))
    if f.since is not None:
        clauses.append("recorded_at >= %s")
        params.append(f.since)
    if f.until is not None:
        clauses.append("recorded_at <= %s")
        params.append(f.until)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    entry = {k: row[k] for k in LOG_FIELDS}
    entry["recorded_at"] = iso(row["recorded_at"])
    return entry


def log(ledger: Ledger, f: LogFilter) -> list[dict[str, Any]]:
    """Entries matching every given filter, oldest first (seq order)."""
    where, params = _where(f)
    sql = f"SELECT {', '.join(LOG_FIELDS)} FROM audit_entry{where} ORDER BY seq"
    if f.limit is not None:
        sql = f"SELECT * FROM ({sql} DESC LIMIT %s) AS newest ORDER BY seq"
        params.append(f.limit)
    with ledger.cursor() as curs:
        curs.execute(sql, params)
        return [_entry(r) for r in curs.fetchall()]


def page(ledger: Ledger, f: LogFilter, *, offset: int, newest_first: bool) -> list[dict[str, Any]]:
    """`f.limit` entries after skipping `offset`, in seq order or its reverse (the HTTP API's pages)."""
    where, params = _where(f)
    sql = (f"SELECT {', '.join(LOG_FIELDS)}, try_number, details FROM audit_entry{where} "
           f"ORDER BY seq{' DESC' if newest_first else ''} LIMIT %s OFFSET %s")
    with ledger.cursor() as curs:
        curs.execute(sql, [*params, f.limit, offset])
        return [{**_entry(r), "try_number": r["try_number"], "details": r["details"]} for r in curs.fetchall()]


def count(ledger: Ledger, f: LogFilter) -> int:
    """How many entries match every given filter (the limit aside)."""
    where, params = _where(f)
    with ledger.cursor() as curs:
        curs.execute(f"SELECT count(*) AS n FROM audit_entry{where}", params)
        row = curs.fetchone()
    return int(row["n"]) if row else 0


def history(ledger: Ledger, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
    """Every change of one task instance, oldest first, with its try number and details."""
    with ledger.cursor() as curs:
        curs.execute(
            f"SELECT {', '.join(LOG_FIELDS)}, try_number, details FROM audit_entry "
            "WHERE dag_id = %s AND task_id = %s AND run_id = %s ORDER BY seq", (dag_id, task_id, run_id))
        rows = curs.fetchall()
    return [{**_entry(r), "try_number": r["try_number"], "details": r["details"]} for r in rows]


def _resolve(curs: Any, operation_id: str) -> dict[str, Any]:
    """An operation by id, or by a unique prefix of it (as short git hashes)."""
    curs.execute(
        "SELECT operation_id::text AS operation_id, name, arguments, actor, reason, host, "
        "ledgerflow_version, started_at, ended_at, outcome, summary FROM operation "
        "WHERE operation_id::text LIKE %s ORDER BY started_at LIMIT 2",
        (operation_id.strip().lower().replace("%", "").replace("_", "") + "%",),
    )
    rows = curs.fetchall()
    if not rows or not operation_id.strip():
        raise OperationNotFound(f"no operation {operation_id!r}")
    if len(rows) > 1:
        raise OperationNotFound(f"operation id {operation_id!r} is ambiguous: give more of it")
    return rows[0]


def show(ledger: Ledger, operation_id: str) -> dict[str, Any]:
    """The operation (command, arguments, who, why, where, when, outcome) and its changes."""
    with ledger.cursor() as curs:
        op = _resolve(curs, operation_id)
        curs.execute(
            "SELECT seq, position, recorded_at, event, dag_id, run_id, task_id, from_state, "
            "to_state, try_number, details FROM audit_entry WHERE operation_id = %s ORDER BY seq",
            (op["operation_id"],),
        )
        changes = curs.fetchall()
    for change in changes:
        change["recorded_at"] = iso(change["recorded_at"])
    return {
        "operation_id": op["operation_id"], "command": op["name"], "arguments": op["arguments"],
        "actor": op["actor"], "reason": op["reason"], "host": op["host"],
        "ledgerflow_version": op["ledgerflow_version"],
        "started_at": iso(op["started_at"]),
        "ended_at": iso(op["ended_at"]) if op["ended_at"] else None,
        "outcome": op["outcome"], "summary": op["summary"], "changes": changes,
    }


_FINISHED = ["success", "failed", "skipped", "upstream_failed", "up_for_retry", "removed"]


def try_times(ledger: Ledger, dag_id: str, run_ids: list[str]) -> dict[tuple[str, str, int], tuple[Any, Any]]:
    """(first running, last finished) instants of each try of the runs' task instances."""
    with ledger.cursor() as curs:
        curs.execute(
            "SELECT run_id, task_id, try_number, min(recorded_at) FILTER (WHERE to_state = 'running') AS started, "
            "max(recorded_at) FILTER (WHERE to_state = ANY(%s)) AS ended FROM audit_entry "
            "WHERE run_id = ANY(%s) AND dag_id = %s AND task_id IS NOT NULL AND try_number >= 1 "
            "GROUP BY run_id, task_id, try_number", (_FINISHED, run_ids, dag_id))
        return {(r["run_id"], r["task_id"], r["try_number"]): (r["started"], r["ended"]) for r in curs.fetchall()}


def backfill_changed_at(ledger: Ledger, dag_id: str) -> dict[int, datetime]:
    """The time of the last change after its creation of each backfill of the DAG, by backfill id."""
    with ledger.cursor() as curs:
        curs.execute(
            "SELECT (details->>'backfill_id')::bigint AS id, max(recorded_at) AS at FROM audit_entry "
            "WHERE dag_id = %s AND starts_with(event, 'Backfill.') AND event <> 'Backfill.Created' "
            "AND details ? 'backfill_id' GROUP BY 1", (dag_id,))
        return {r["id"]: r["at"] for r in curs.fetchall()}
