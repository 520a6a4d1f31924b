"""Reads of the backfill views, now or as of an instant (folded from the events up to it)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from ledgerflow.engine.domain.backfill_state import BackfillState, evolve_backfill
from ledgerflow.engine.domain.dates import iso
from ledgerflow.engine.infrastructure.store import EVENTS_TABLE, Ledger
from ledgerflow.projections.as_of import cutoff, matching_ids, runs_as_of

_FIELDS = ("id, dag_id, from_date, to_date, reprocess_behavior, max_active_runs, run_backwards, dag_run_conf, "
           "is_paused, state, created_at, completed_at, created_by")


def _row(r: dict[str, Any]) -> dict[str, Any]:
    row = dict(r)
    for key in ("from_date", "to_date", "created_at", "completed_at"):
        row[key] = iso(row[key]) if row[key] is not None else None
    return row


def pause_flags(ledger: Ledger) -> dict[str, bool]:
    with ledger.cursor() as curs:
        curs.execute("SELECT dag_id, is_paused FROM dag_pause")
        return {r["dag_id"]: r["is_paused"] for r in curs.fetchall()}


def backfills(ledger: Ledger, dag_id: str | None = None, as_of: datetime | None = None) -> list[dict[str, Any]]:
    """Every backfill (of the DAG), oldest first, with the JSON fields of DESIGN.md."""
    if as_of is not None:
        return [s.row() for s in _states_as_of(ledger, as_of, dag_id).values()]
    sql, params = f"SELECT {_FIELDS} FROM backfill", []
    if dag_id is not None:
        sql, params = sql + " WHERE dag_id = %s", [dag_id]
    with ledger.cursor() as curs:
        curs.execute(sql + " ORDER BY id", params)
        return [_row(r) for r in curs.fetchall()]


def backfill_dates(ledger: Ledger, number: int, as_of: datetime | None = None) -> list[dict[str, Any]] | None:
    """The backfill's dates (logical_date, run_id, decision, state), oldest first; None: no such backfill."""
    if as_of is not None:
        state = _states_as_of(ledger, as_of, number=number).get(number)
        if state is None:
            return None
        runs = {r.run_id: r.state for r in runs_as_of(ledger, state.dag_id, as_of)}
        return [{"logical_date": ld, "run_id": rid, "decision": why, "state": runs.get(rid)}
                for ld, (rid, why, _) in sorted(state.dates.items())]
    with ledger.cursor() as curs:
        curs.execute("SELECT dag_id FROM backfill WHERE id = %s", (number,))
        found = curs.fetchone()
        if found is None:
            return None
        curs.execute(
            "SELECT d.logical_date, d.run_id, d.decision, r.state FROM backfill_date d "
            "LEFT JOIN dag_run r ON r.dag_id = %s AND r.run_id = d.run_id "
            "WHERE d.backfill_id = %s ORDER BY d.logical_date", (found["dag_id"], number))
        return [{**r, "logical_date": iso(r["logical_date"])} for r in curs.fetchall()]


def unfinished(ledger: Ledger, dag_id: str | None = None) -> list[tuple[int, str, str]]:
    """(id, dag_id, driver) of the backfills neither completed nor cancelled, oldest first."""
    sql, params = "SELECT id, dag_id, driver FROM backfill WHERE state IN ('running', 'paused')", []
    if dag_id is not None:
        sql, params = sql + " AND dag_id = %s", [dag_id]
    with ledger.cursor() as curs:
        curs.execute(sql + " ORDER BY id", params)
        return [(r["id"], r["dag_id"], r["driver"]) for r in curs.fetchall()]


def held_run_ids(ledger: Ledger, dag_id: str) -> dict[str, tuple[int, str]]:
    """Run ids of the DAG that a paused backfill, or one the scheduler drives as a backfill, holds: not for
    the scheduler to run as plain queued runs. A foreground backfill whose process is gone holds none."""
    with ledger.cursor() as curs:
        curs.execute("SELECT d.run_id, b.id, b.state FROM backfill_date d JOIN backfill b ON b.id = d.backfill_id "
                     "WHERE b.dag_id = %s AND (b.state = 'paused' OR (b.state = 'running' AND b.driver = 'scheduler')) "
                     "AND d.decision NOT LIKE 'skipped%%'", (dag_id,))
        return {r["run_id"]: (r["id"], r["state"]) for r in curs.fetchall()}


def next_number(ledger: Ledger) -> int:
    with ledger.cursor() as curs:
        curs.execute("SELECT coalesce(max(id), 0) + 1 AS n FROM backfill")
        row = curs.fetchone()
    return int(row["n"]) if row else 1


def _states_as_of(ledger: Ledger, at: datetime, dag_id: str | None = None,
                  number: int | None = None) -> dict[int, BackfillState]:
    last = cutoff(ledger, at)
    if last == 0:
        return {}
    with ledger.cursor() as curs:
        ids = matching_ids(curs, "SELECT backfill_uuid AS id FROM backfill WHERE true", [],
                           (("dag_id = %s", dag_id), ("id = %s", number)))
        if not ids:
            return {}
        curs.execute(f"SELECT originator_id, topic, state FROM {EVENTS_TABLE} WHERE originator_id = ANY(%s) "
                     f"AND notification_id <= %s ORDER BY originator_id, originator_version", (ids, last))
        states: dict[UUID, BackfillState] = {}
        for row in curs.fetchall():
            payload = json.loads(bytes(row["state"]))
            oid = row["originator_id"]
            states[oid] = evolve_backfill(states.get(oid), row["topic"].rpartition(".")[2], payload,
                                          payload["timestamp"]["_data_"])
    return {s.id: s for s in sorted(states.values(), key=lambda s: s.id)}
