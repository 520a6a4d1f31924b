"""What the scheduler's pick-next asks of every DAG at once: a few queries a pass, not a few per DAG."""

from __future__ import annotations

from datetime import datetime

from psycopg.rows import tuple_row

from ledgerflow.engine.domain.scheduler_view import SchedulerView
from ledgerflow.engine.infrastructure.store import Ledger

_WAITING = "SELECT dag_id, run_id, state FROM dag_run WHERE state IN ('queued', 'running') AND dag_id = ANY(%s)"
_HELD = ("SELECT b.dag_id, d.run_id FROM backfill_date d JOIN backfill b ON b.id = d.backfill_id "
         "WHERE b.dag_id = ANY(%s) AND (b.state = 'paused' OR (b.state = 'running' AND b.driver = 'scheduler')) "
         "AND d.decision NOT LIKE 'skipped%%'")
_BACKFILLS = ("SELECT DISTINCT dag_id FROM backfill WHERE state = 'running' AND driver = 'scheduler' "
              "AND dag_id = ANY(%s)")
_DATES = "SELECT dag_id, logical_date FROM dag_run WHERE dag_id = ANY(%s)"


def scheduler_view(ledger: Ledger, dag_ids: list[str], dated: list[str]) -> SchedulerView:
    """The DAGs' queued and running runs that no backfill holds, the DAGs with a backfill for the
    scheduler to drive, and the logical dates of the `dated` DAGs' runs (for their due dates)."""
    with ledger.cursor() as curs, curs.connection.cursor(row_factory=tuple_row) as rows:
        held = set(rows.execute(_HELD, (dag_ids,)).fetchall())
        view = SchedulerView(backfills={r[0] for r in rows.execute(_BACKFILLS, (dag_ids,)).fetchall()})
        for dag_id, run_id, state in rows.execute(_WAITING, (dag_ids,)).fetchall():
            if (dag_id, run_id) not in held:
                view.waiting.setdefault(dag_id, set()).add(state)
        if dated:
            found: dict[str, set[datetime]] = {d: set() for d in dated}
            for dag_id, logical_date in rows.execute(_DATES, (dated,)).fetchall():
                found[dag_id].add(logical_date)
            view.run_dates = found
    return view
