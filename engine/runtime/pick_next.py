"""The scheduler's pick-next: which DAGs have something to do this loop, decided for all at once.

A few queries for every DAG together (projections.pick_queries), then the rules in
memory: a DAG with a backfill for the scheduler to drive, with a queued or running run
no backfill holds, or (unpaused) with a scheduled run now due has work; a paused DAG
has work only for its backfill and the runs a dead driver left running. Only the DAGs
with work get a pass (their lock, their runs loaded whole), so idle DAGs cost nothing.
"""

from __future__ import annotations

from datetime import datetime

from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.domain.scheduling import due_dates
from ledgerflow.engine.infrastructure.store import Ledger


def pick_next(ledger: Ledger, dags: list[DAG], paused: dict[str, bool], at: datetime) -> set[str]:
    """The ids of the DAGs that have work at `at`."""
    dated = [d.dag_id for d in dags if not paused[d.dag_id] and d.timetable.periodic and d.start_date is not None]
    view = views(ledger).scheduler_view([d.dag_id for d in dags], dated)
    busy = set()
    for dag in dags:
        states = view.waiting.get(dag.dag_id, set())
        if dag.dag_id in view.backfills or "running" in states:
            busy.add(dag.dag_id)
        elif not paused[dag.dag_id] and (states or due_dates(dag, view.run_dates.get(dag.dag_id, set()), at)):
            busy.add(dag.dag_id)
    return busy
