"""`dags trigger`: a queued manual run, picked up by the scheduler."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.domain.dagrun import DagRun, RunIdClaim, dagrun_id
from ledgerflow.engine.domain.dates import iso, now
from ledgerflow.engine.domain.ids import check_run_id
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.domain.scheduling import new_run
from ledgerflow.engine.domain.values import text
from ledgerflow.engine.errors import ConcurrentModification, InvalidInput, RefusedCommand, Term
from ledgerflow.engine.infrastructure.store import Ledger

_RESERVED_PREFIXES = ("scheduled__", "backfill__", "dataset_triggered__")
_LOOKBACK = (timedelta(hours=2), timedelta(days=1), timedelta(days=8), timedelta(days=32),
             timedelta(days=367), timedelta(days=1462))


def manual_interval(dag: DAG, logical_date: datetime) -> tuple[datetime, datetime]:
    """The last complete schedule interval at or before the logical date, as Airflow infers it."""
    tt = dag.timetable
    if not tt.periodic:
        return logical_date, logical_date
    points: list[datetime] = []
    for back in _LOOKBACK:  # widen step by step: a minutely cron must not walk a whole year
        points = tt.logical_dates(logical_date - back, logical_date)
        if len(points) >= 2:
            break
    if not points:
        return logical_date, logical_date
    end = points[-1]
    start = points[-2] if len(points) >= 2 else end
    return start, end


def trigger(ledger: Ledger, dag: DAG, op: OperationContext, *, logical_date: datetime | None = None,
            conf: dict[str, Any] | None = None, run_id: str | None = None) -> DagRun:
    if run_id:  # storable first (its refusal names a NUL or surrogate), then a run id's own rule
        check_run_id(text(run_id, Term("run_id", "the run id")))
    moment = logical_date or now()
    if moment > now():
        raise RefusedCommand(f"logical date {iso(moment)} is in the future")
    if run_id and run_id.startswith(_RESERVED_PREFIXES):
        # as Airflow: a generated run id of another date would later collide with this one
        raise InvalidInput(f"run_id {run_id!r} is reserved for {run_id.split('__')[0]} runs; "
                           f"a manual run cannot use it")
    run_id = run_id or f"manual__{iso(moment)}"
    read = views(ledger)
    if read.run_exists(dag.dag_id, run_id):
        raise RefusedCommand(f"DAG {dag.dag_id} already has a run with run_id {run_id!r}")
    clash = read.run_id_of(dagrun_id(dag.dag_id, iso(moment)))
    if clash is not None:
        raise RefusedCommand(f"DAG {dag.dag_id} already has a run at {iso(moment)} ({clash})")
    run = new_run(dag, moment, "manual", "queued", conf or {}, op, run_id=run_id,
                  interval=manual_interval(dag, moment))
    try:
        ledger.append(op.started(), RunIdClaim.claim(run, op.stamp), run, op.ended("success", run_id=run_id))
    except ConcurrentModification:
        raise RefusedCommand(
            f"DAG {dag.dag_id} got a run with run_id {run_id!r} or at {iso(moment)} meanwhile; nothing was written"
        ) from None
    return run
