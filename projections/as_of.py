"""As-of reads: runs and task instances exactly as they were at an instant.

The state is recomputed from the events recorded at or before the instant, with
the same fold as the write side and the views, so clears and resets read back as
they happened. Every append stamps its events with one non-decreasing
recorded_at in the hash chain table, so "recorded at or before T" is a prefix of
the log and the cut-off is a binary search over positions (sql/006_chain_cutoff.sql). The dag_run view serves only as a
directory of run ids (dag_id, run_id and logical date never change once created).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor

from ledgerflow.engine.domain.dates import from_iso
from ledgerflow.engine.domain.patterns import TaskPattern
from ledgerflow.engine.domain.run_state import RunState
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.engine.infrastructure.stored_runs import fold_stored
from ledgerflow.projections.projector import POSITION
from ledgerflow.projections.queries import run_json


def cutoff(ledger: Ledger, at: datetime) -> int:
    """The last notification id recorded at or before `at` (0 when none was), and folded into the
    views: a read caught them up first, unless they stop before an event they cannot fold."""
    with ledger.cursor() as curs:
        curs.execute(f"SELECT least(ledgerflow_chain_cutoff(%s), {POSITION}) AS last", (at,))
        row = curs.fetchone()
    return int(row["last"]) if row and row["last"] is not None else 0


def matching_ids(curs: Cursor[Any], sql: str, params: list[Any], filters: Iterable[tuple[str, Any]]) -> list[UUID]:
    """The aggregate ids (column `id`) a view's query gives, with each filter whose value is given ANDed on:
    the views are the directory of what existed, the events say how it was."""
    for clause, value in filters:
        if value is not None:
            sql += f" AND {clause}"
            params.append(value)
    curs.execute(sql, params)
    return [r["id"] for r in curs.fetchall()]


def runs_as_of(ledger: Ledger, dag_id: str, at: datetime, start: datetime | None = None,
               end: datetime | None = None, run_id: str | None = None) -> list[RunState]:
    """Runs of the DAG that existed at `at`, folded to that instant, oldest logical date first."""
    last = cutoff(ledger, at)
    if last == 0:
        return []
    with ledger.cursor() as curs:
        ids = matching_ids(curs, "SELECT run_uuid AS id FROM dag_run WHERE dag_id = %s", [dag_id],
                           (("logical_date >= %s", start), ("logical_date <= %s", end), ("run_id = %s", run_id)))
        if not ids:
            return []
        runs = [run for _, run in fold_stored(curs, ids, last).values()]
    return sorted(runs, key=lambda r: (from_iso(r.logical_date), r.run_id))


def run_rows(runs: list[RunState], state: str | None = None) -> list[dict[str, Any]]:
    """Shaped as projections.queries.list_runs."""
    return [run_json(r) for r in runs if state is None or r.state == state]


def task_rows(runs: list[RunState], pattern: TaskPattern | None = None) -> list[dict[str, Any]]:
    """Shaped as projections.queries.task_states."""
    return [
        {
            "dag_id": r.dag_id, "run_id": r.run_id, "task_id": task_id,
            "logical_date": r.logical_date, "state": ti.state,
            "try_number": ti.try_number, "max_tries": ti.max_tries, "hostname": ti.hostname,
        }
        for r in runs
        for task_id, ti in sorted(r.tis.items())
        if pattern is None or pattern.search(task_id)
    ]

