"""Reads of the caught-up views: the engine's questions (see projections.read_port) and the
rows the JSON contract lists.

Task instances are read as plain tuples wherever many come back (a run can have
thousands), and all of a read's task instances come in one query, never one per run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import tuple_row

from ledgerflow.engine.domain.dates import iso
from ledgerflow.engine.domain.patterns import TaskPattern
from ledgerflow.engine.domain.pools import DEFAULT_POOL, DEFAULT_POOL_SLOTS
from ledgerflow.engine.domain.run_state import RunState
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.projections.rows import RUN_SELECT, add_task_instances, run_from_row

_TIS = "FROM task_instance t JOIN dag_run r USING (run_uuid)"


def _range_clause(start: datetime | None, end: datetime | None, params: list[Any]) -> str:
    clause = ""
    if start is not None:
        clause += " AND logical_date >= %s"
        params.append(start)
    if end is not None:
        clause += " AND logical_date <= %s"
        params.append(end)
    return clause


def _tuples(ledger: Ledger, sql: str, params: tuple[Any, ...]) -> list[Any]:
    with ledger.cursor() as curs, curs.connection.cursor(row_factory=tuple_row) as tuples:
        tuples.execute(sql, params)
        return tuples.fetchall()


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
    sql = RUN_SELECT + " WHERE dag_id = %s" + _range_clause(start, end, params)
    if state:
        sql += " AND state = %s"
        params.append(state)
    with ledger.cursor() as curs:
        curs.execute(sql + " ORDER BY logical_date", params)
        return [run_json(run_from_row(r)) for r in curs.fetchall()]


def task_states(ledger: Ledger, dag_id: str, start: datetime | None = None,
                end: datetime | None = None, pattern: TaskPattern | None = None,
                run_id: str | None = None) -> list[dict[str, Any]]:
    params: list[Any] = [dag_id]
    sql = (
        f"SELECT r.dag_id, r.run_id, t.task_id, r.logical_date, t.state, t.try_number, t.max_tries, t.hostname "
        f"{_TIS} WHERE r.dag_id = %s"
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
            "try_number": r["try_number"], "max_tries": r["max_tries"], "hostname": r["hostname"],
        }
        for r in rows
        if pattern is None or pattern.search(r["task_id"])
    ]


def run_exists(ledger: Ledger, dag_id: str, run_id: str) -> bool:
    return bool(_tuples(ledger, "SELECT 1 FROM dag_run WHERE dag_id = %s AND run_id = %s", (dag_id, run_id)))


def has_runs(ledger: Ledger, dag_id: str) -> bool:
    return bool(_tuples(ledger, "SELECT 1 FROM dag_run WHERE dag_id = %s LIMIT 1", (dag_id,)))


def run_id_of(ledger: Ledger, run_uuid: UUID) -> str | None:
    found = _tuples(ledger, "SELECT run_id FROM dag_run WHERE run_uuid = %s", (run_uuid,))
    return found[0][0] if found else None


def load_runs(ledger: Ledger, dag_id: str, start: datetime | None = None,
              end: datetime | None = None) -> dict[UUID, tuple[int, RunState]]:
    """Full run states with their versions, oldest first, for commands that append to them."""
    params: list[Any] = [dag_id]
    sql = RUN_SELECT + " WHERE dag_id = %s" + _range_clause(start, end, params)
    with ledger.cursor() as curs:
        curs.execute(sql + " ORDER BY logical_date", params)
        found = {row["run_uuid"]: (row["version"], run_from_row(row)) for row in curs.fetchall()}
        if found:
            with curs.connection.cursor(row_factory=tuple_row) as tuples:
                add_task_instances(tuples, {uid: run for uid, (_, run) in found.items()}, found)
    return found


def run_versions(ledger: Ledger, dag_id: str, start: datetime | None = None, end: datetime | None = None,
                 state: str | None = None) -> dict[datetime, tuple[int, str]]:
    """(version, state) of each run by logical date, without its task instances: what a driver asks
    to know which runs it must load whole."""
    params: list[Any] = [dag_id]
    sql = "SELECT logical_date, version, state FROM dag_run WHERE dag_id = %s" + _range_clause(start, end, params)
    if state is not None:
        sql, params = sql + " AND state = %s", [*params, state]
    return {ld: (version, st) for ld, version, st in _tuples(ledger, sql, tuple(params))}


def previous_run(ledger: Ledger, dag_id: str, before: datetime, *, exclude_manual: bool
                 ) -> tuple[UUID, int, RunState] | None:
    """The run with the greatest logical date strictly before `before` (depends_on_past)."""
    sql = RUN_SELECT + " WHERE dag_id = %s AND logical_date < %s"
    if exclude_manual:
        sql += " AND run_type <> 'manual'"
    with ledger.cursor() as curs:
        curs.execute(sql + " ORDER BY logical_date DESC LIMIT 1", (dag_id, before))
        row = curs.fetchone()
        if row is None:
            return None
        run = run_from_row(row)
        with curs.connection.cursor(row_factory=tuple_row) as tuples:
            add_task_instances(tuples, {row["run_uuid"]: run}, [row["run_uuid"]])
    return row["run_uuid"], row["version"], run


def first_logical_dates(ledger: Ledger, dag_id: str, task_ids: list[str]) -> dict[str, datetime | None]:
    """The earliest logical date each task has an instance at (None: it never had one)."""
    if not task_ids:
        return {}
    found = dict(_tuples(
        ledger, f"SELECT t.task_id, min(r.logical_date) {_TIS} WHERE r.dag_id = %s AND t.task_id = ANY(%s) "
        f"GROUP BY t.task_id", (dag_id, task_ids)))
    return {t: found.get(t) for t in task_ids}


def instances_after(ledger: Ledger, dag_id: str, task_ids: list[str], after: datetime,
                    states: list[str]) -> list[tuple[UUID, str, datetime, str]]:
    """(run_uuid, run_id, logical_date, task_id) of the tasks' instances in `states` after `after`."""
    return _tuples(
        ledger, f"SELECT r.run_uuid, r.run_id, r.logical_date, t.task_id {_TIS} WHERE r.dag_id = %s "
        f"AND t.task_id = ANY(%s) AND r.logical_date > %s AND t.state = ANY(%s) ORDER BY r.logical_date",
        (dag_id, task_ids, after, states))


def slot_holders(ledger: Ledger, dag_id: str) -> list[tuple[str, datetime]]:
    """(run_id, logical_date) of the DAG's runs holding a max_active_runs slot: running, not manual."""
    return _tuples(
        ledger, "SELECT run_id, logical_date FROM dag_run WHERE dag_id = %s AND state = 'running' "
        "AND run_type <> 'manual'", (dag_id,))


def running_tries(ledger: Ledger, other_than: str) -> list[tuple[str, str]]:
    """(dag_id, task_id) of the queued and running task instances of every DAG but `other_than`."""
    return _tuples(ledger, f"SELECT r.dag_id, t.task_id {_TIS} WHERE r.dag_id <> %s "
                           "AND t.state IN ('queued', 'running')", (other_than,))


def active_tries(ledger: Ledger) -> list[tuple[str, str, str]]:
    """(dag_id, task_id, state) of every queued or running task instance."""
    return _tuples(ledger, f"SELECT r.dag_id, t.task_id, t.state {_TIS} WHERE t.state IN ('queued', 'running')", ())


def pools(ledger: Ledger) -> dict[str, int]:
    """Every pool's slots by name; default_pool has its default until it is set."""
    found = dict(_tuples(ledger, "SELECT name, slots FROM pool", ()))
    found.setdefault(DEFAULT_POOL, DEFAULT_POOL_SLOTS)
    return dict(sorted(found.items()))
