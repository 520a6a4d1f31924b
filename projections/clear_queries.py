"""Reads for `tasks clear`: the runs of a DAG in a range with the task instances it may change.

Task instances come back aggregated per run, so a year of hourly runs is a few
thousand rows rather than one row (and one conversion) per task instance.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ledgerflow.engine.domain.run_state import TI, RunState
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.projections.rows import RUN_COLUMNS, run_from_row

_SELECT = (
    f"SELECT {', '.join('r.' + c for c in RUN_COLUMNS)}, "
    "array_agg(t.task_id) AS task_ids, array_agg(t.state) AS states, "
    "array_agg(t.try_number) AS tries, array_agg(t.max_tries) AS max_tries "
    "FROM dag_run r JOIN task_instance t USING (run_uuid) "
    "WHERE r.dag_id = %s AND t.task_id = ANY(%s)"
)


def runs_with_tasks(ledger: Ledger, dag_id: str, task_ids: list[str], start: datetime | None,
                    end: datetime | None) -> list[tuple[UUID, int, RunState]]:
    """Runs (oldest first) holding only the listed tasks' instances, with their versions."""
    sql = _SELECT
    params: list[Any] = [dag_id, task_ids]
    if start is not None:
        sql += " AND r.logical_date >= %s"
        params.append(start)
    if end is not None:
        sql += " AND r.logical_date <= %s"
        params.append(end)
    sql += " GROUP BY r.run_uuid ORDER BY r.logical_date"
    with ledger.cursor() as curs:
        curs.execute(sql, params)
        rows: list[dict[str, Any]] = curs.fetchall()
    found = []
    for row in rows:
        run = run_from_row(row)
        run.tis = {
            t: TI(s, n, m)
            for t, s, n, m in zip(row["task_ids"], row["states"], row["tries"], row["max_tries"], strict=True)
        }
        found.append((row["run_uuid"], int(row["version"]), run))
    return found
