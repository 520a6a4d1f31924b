"""The scheduler's rules for one DAG: which scheduled runs are due, and how a run is taken over."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.authoring.dagbag import DagBag
from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.domain.dates import iso
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.domain.pools import DEFAULT_POOL
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.domain.run_state import ti_change
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.engine.infrastructure.stored_runs import last_stamps

_TICK = timedelta(microseconds=1)
ORPHANED = frozenset({"scheduled", "queued", "running", "restarting"})


def _aware(moment: datetime, zone: str) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(zone))


def due_dates(dag: DAG, existing: set[datetime], at: datetime) -> list[datetime]:
    """Logical dates whose interval has ended by `at` and that have no run yet.

    catchup=True: every such date since start_date (up to end_date); catchup=False:
    only the latest one, found stepping back from `at` rather than walking from start_date.
    """
    tt = dag.timetable
    if not tt.periodic or dag.start_date is None:
        return []
    start = _aware(dag.start_date, dag.timezone)
    last = at if dag.end_date is None else min(at, _aware(dag.end_date, dag.timezone))
    if not dag.catchup and tt.cron is not None:
        return [p for p in _latest_ended(dag, start, last, at) if p not in existing]
    points = tt.logical_dates(start, last)
    if points and not tt.trigger and tt.next_after(points[-1]) > at:
        points.pop()  # its interval has not ended yet (a trigger schedule's run is due at its tick)
    if not dag.catchup:
        points = points[-1:]
    return [p for p in points if p not in existing]


def _latest_ended(dag: DAG, start: datetime, last: datetime, at: datetime) -> list[datetime]:
    """The latest logical date in [start, last] whose interval ended by `at` (none: an empty list)."""
    point = _latest(dag, start, last)
    if point is not None and not dag.timetable.trigger and dag.timetable.next_after(point) > at:
        point = _latest(dag, start, point - _TICK)
    return [point] if point is not None else []


def _latest(dag: DAG, start: datetime, moment: datetime) -> datetime | None:
    """The last schedule point in [start, moment]."""
    if moment < start:
        return None
    point = dag.timetable.previous_before(moment + _TICK)
    if point is None:  # a schedule sparser than the bounded look back
        found = dag.timetable.logical_dates(start, moment)
        return found[-1] if found else None
    return point if point >= start else None


def new_run(dag: DAG, logical_date: datetime, run_type: str, state: str, conf: dict[str, Any],
            op: OperationContext, run_id: str | None = None,
            interval: tuple[datetime, datetime] | None = None,
            task_ids: list[str] | None = None) -> DagRun:
    """A backfill's run has every task (or `task_ids`); another gets those whose own dates hold it."""
    start, end = interval or dag.timetable.data_interval(logical_date)
    tasks = task_ids if task_ids is not None else [
        tid for tid, task in dag.tasks.items() if run_type == "backfill" or task.has_instance_at(logical_date)]
    return DagRun.start(
        **op.stamp,
        dag_id=dag.dag_id,
        run_id=run_id or f"{run_type}__{iso(logical_date)}",
        logical_date=iso(logical_date),
        data_interval_start=iso(start),
        data_interval_end=iso(end),
        run_type=run_type,
        state=state,
        conf=conf,
        dag_fingerprint=dag.fingerprint,
        tasks={tid: dag.tasks[tid].retries for tid in tasks},
    )


def reset_tis(agg: DagRun, dag: DAG, op: OperationContext, states: frozenset[str], **mark: Any) -> None:
    """Sends the DAG's task instances in `states` back to no state (try kept), in one event."""
    changes = [ti_change(t, ti, None, **mark) for t, ti in agg.run.tis.items()
               if t in dag.tasks and ti.state in states]
    if changes:
        agg.trigger_event(DagRun.TaskInstancesChanged, **op.stamp, changes=changes)


def take_over(agg: DagRun, dag: DAG, op: OperationContext, ledger: Ledger | None = None) -> DagRun:
    """A queued run, or one left running by a process that is gone (the DAG lock proves it).

    Task instances the DAG gained since are added; orphaned ones go back to no state. A run
    left running is an orphan: with the ledger given, who drove it last is recorded (TakenOver).
    """
    if ledger is not None and agg.run.state == "running":
        with ledger.cursor() as curs:
            last = last_stamps(curs, [agg.id]).get(agg.id, {})
        agg.trigger_event(DagRun.TakenOver, **op.stamp, from_operation_id=last.get("operation_id"),
                          from_operation=last.get("operation"), from_actor=last.get("actor"))
    missing = {t: dag.tasks[t].retries for t in dag.tasks if t not in agg.run.tis}
    if missing:
        agg.trigger_event(DagRun.TasksAdded, **op.stamp, tasks=missing)
    reset_tis(agg, dag, op, ORPHANED, orphan_reset=True)
    return agg


def free_pool_slots(ledger: Ledger, bag: DagBag, dag_id: str, slots: dict[str, int],
                    counted: Collection[str] = ()) -> dict[str, int]:
    """Pool slots minus those taken by tries other DAGs' drivers are running right now; `counted`: DAGs
    whose tries the caller counts itself (the scheduler's PoolBoard, for the DAGs it drives)."""
    free = dict(slots)
    for other_id, task_id in views(ledger).running_tries(other_than=dag_id):
        if other_id in counted:
            continue
        other = bag.dags.get(other_id)
        task = other.tasks.get(task_id) if other else None
        if task is not None:
            pool = task.pool or DEFAULT_POOL
            free[pool] = max(0, free.get(pool, 0) - task.pool_slots)
    return free
