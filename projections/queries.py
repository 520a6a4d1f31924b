"""Reads of the caught-up views, shaped as the JSON contract lists them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import tuple_row

from ledgerflow.engine.domain.dates import iso
from ledgerflow.engine.domain.run_state import TI, RunState
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.projections.projector import run_from_row

_RUN_SELECT = (
    "SELECT run_uuid, version, dag_id, run_id, logical_date, data_interval_start, "
    "data_interval_end, run_type, state, conf, dag_fingerprint, clear_number FROM dag_run"
)


def _range_clause(start: datetime | None, end: datetime | None, params: list[Any]) -> str:
    clause = ""
    if start is not None:
        clause += " AND logical_date >= %s"
        params.append(start)
    if end is not None:
        clause += " AND logical_date <= %s"
        params.append(end)
    return clause


def run_json(run: RunState) -> dict[str, Any]:
    """A run as the JSON contract lists it (the same for current and as-of reads)."""
    return {
        "dag_id": run.dag_id,
        "run_id": run.run_id,
        "logical_date": run.logical_date,
        "data_interval_start": run.data_interval_start,
        "data_interval_end": run.data_interval_end,
        "run_type": run.run_type,
        "state": run.state,
        "conf": run.conf,
    }


def list_runs(ledger: Ledger, dag_id: str, start: datetime | None = None,
              end: datetime | None = None, state: str | None = None) -> list[dict[str, Any]]:
    params: list[Any] = [dag_id]
    sql = _RUN_SELECT + " WHERE dag_id = %s" + _range_clause(start, end, params)
    if state:
        sql += " AND state = %s"
        params.append(state)
    with ledger.cursor() as curs:
        curs.execute(sql + " ORDER BY logical_date", params)
        return [run_json(run_from_row(r)) for r in curs.fetchall()]


def task_states(ledger: Ledger, dag_id: str, start: datetime | None = None,
                end: datetime | None = None, pattern: re.Pattern[str] | None = None,
                run_id: str | None = None) -> list[dict[str, Any]]:
    params: list[Any] = [dag_id]
    sql = (
        "SELECT r.dag_id, r.run_id, t.task_id, r.logical_date, t.state, t.try_number, t.max_tries "
        "FROM task_instance t JOIN dag_run r USING (run_uuid) WHERE r.dag_id = %s"
    ) + _range_clause(start, end, params).replace("logical_date", "r.logical_date")
    if run_id is not None:
        sql += " AND r.run_id = %s"
        params.append(run_id)
    with ledger.cursor() as curs:
        curs.execute(sql + " ORDER BY r.logical_date, t.task_id", params)
        rows = curs.fetchall()
    return [
        {
            "dag_id": r["dag_id"], "run_id": r["run_id"], "task_id": r["task_id"],
            "logical_date": iso(r["logical_date"]), "state": r["state"],
            "try_number": r["try_number"], "max_tries": r["max_tries"],
        }
        for r in rows
        if pattern is None or pattern.search(r["task_id"])
    ]


def run_exists(ledger: Ledger, dag_id: str, run_id: str) -> bool:
    with ledger.cursor() as curs:
        curs.execute("SELECT 1 FROM dag_run WHERE dag_id = %s AND run_id = %s", (dag_id, run_id))
        return curs.fetchone() is not None


def load_runs(ledger: Ledger, dag_id: str, start: datetime | None = None,
              end: datetime | None = None, *, states: tuple[str, ...] | None = None,
              ) -> dict[UUID, tuple[int, RunState]]:
    """Full run states with their versions, for commands that append to them."""
    params: list[Any] = [dag_id]
    sql = _RUN_SELECT + " WHERE dag_id = %s" + _range_clause(start, end, params)
    if states:
        sql += " AND state = ANY(%s)"
        params.append(list(states))
    found: dict[UUID, tuple[int, RunState]] = {}
    with ledger.cursor() as curs:
        curs.execute(sql + " ORDER BY logical_date", params)
        for row in curs.fetchall():
            found[row["run_uuid"]] = (row["version"], run_from_row(row))
        if found:
            _load_tis(curs, found)
    return found


def _load_tis(curs: Any, found: dict[UUID, tuple[int, RunState]]) -> None:
    """Task instances of many runs, read as plain tuples (a run can have thousands)."""
    with curs.connection.cursor(row_factory=tuple_row) as tuples:
        tuples.execute(
            "SELECT run_uuid, task_id, state, try_number, max_tries FROM task_instance "
            "WHERE run_uuid = ANY(%s)",
            (list(found),),
        )
        for run_uuid, task_id, state, try_number, max_tries in tuples:
            found[run_uuid][1].tis[task_id] = TI(state, try_number, max_tries)


def previous_run(ledger: Ledger, dag_id: str, before: datetime, *, exclude_manual: bool
                 ) -> tuple[UUID, int, RunState] | None:
    """The run with the greatest logical date strictly before `before` (depends_on_past)."""
    sql = _RUN_SELECT + " WHERE dag_id = %s AND logical_date < %s"
    if exclude_manual:
        sql += " AND run_type <> 'manual'"
    with ledger.cursor() as curs:
        curs.execute(sql + " ORDER BY logical_date DESC LIMIT 1", (dag_id, before))
        row = curs.fetchone()
        if row is None:
            return None
        run = run_from_row(row)
        curs.execute(
            "SELECT task_id, state, try_number, max_tries FROM task_instance WHERE run_uuid = %s",
            (row["run_uuid"],),
        )
        for ti in curs.fetchall():
            run.tis[ti["task_id"]] = TI(ti["state"], ti["try_number"], ti["max_tries"])
        return row["run_uuid"], row["version"], run


def task_ever_ran_before(ledger: Ledger, dag_id: str, task_id: str, before: datetime) -> bool:
    with ledger.cursor() as curs:
        curs.execute(
            "SELECT 1 FROM task_instance t JOIN dag_run r USING (run_uuid) "
            "WHERE r.dag_id = %s AND t.task_id = %s AND r.logical_date < %s LIMIT 1",
            (dag_id, task_id, before),
        )
        return curs.fetchone() is not None


def pools(ledger: Ledger) -> dict[str, int]:
    from ledgerflow.engine.domain.pools import DEFAULT_POOL, DEFAULT_POOL_SLOTS

    with ledger.cursor() as curs:
        curs.execute("SELECT name, slots FROM pool ORDER BY name")
        found = {r["name"]: r["slots"] for r in curs.fetchall()}
    found.setdefault(DEFAULT_POOL, DEFAULT_POOL_SLOTS)
    return dict(sorted(found.items()))
