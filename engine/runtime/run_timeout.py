"""`dagrun_timeout` in scheduler-driven runs: a run running longer than it fails, as Airflow's
scheduler fails it; its tries in flight are stopped and every unfinished task instance is skipped,
each change saying why. Backfills are not timed out (Airflow 2's backfill does not check it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.domain.dates import now
from ledgerflow.engine.domain.outcome import Outcome
from ledgerflow.engine.domain.run_state import FINISHED, ti_change
from ledgerflow.engine.runtime.dag_callbacks import run_ended
from ledgerflow.engine.runtime.event_buffer import EventBuffer
from ledgerflow.engine.runtime.executors import Executor
from ledgerflow.engine.runtime.jobs import TaskResult
from ledgerflow.engine.runtime.slots import Slots


class Timed(Protocol):
    full_dag: DAG
    active: dict[UUID, DagRun]
    opened_at: dict[UUID, datetime]
    executor: Executor | None
    slots: Slots
    events: EventBuffer
    outcome: Outcome

    def apply_results(self, results: list[TaskResult]) -> None: ...

    def retire(self, agg: DagRun) -> None: ...


def limit_of(dag: DAG) -> timedelta | None:
    limit = getattr(dag, "dagrun_timeout", None)
    if limit is None:
        return None
    return limit if isinstance(limit, timedelta) else timedelta(seconds=float(limit))


def time_out_runs(r: Timed) -> bool:
    """Fails the runs past the DAG's dagrun_timeout; True if any."""
    limit = limit_of(r.full_dag)
    if limit is None:
        return False
    expired = [uid for uid, started in r.opened_at.items() if uid in r.active and now() - started > limit]
    if not expired:
        return False
    if r.executor is not None:
        keys = [key for key in r.slots.in_flight if UUID(key[0]) in expired]
        for key in keys:
            r.executor.stop(key)
        r.apply_results(r.executor.poll(0))  # tries that ended before the stop keep their outcome
    for uid in expired:
        agg = r.active[uid]
        changes: list[dict[str, Any]] = []
        for task_id, ti in agg.run.tis.items():
            if ti.state in FINISHED:
                continue
            extra: dict[str, Any] = {"dagrun_timeout": limit.total_seconds()}
            if r.slots.release((str(uid), task_id)):
                extra["stopped"] = True
            changes.append(ti_change(task_id, ti, "skipped", **extra))
        if changes:
            r.events.change(agg, changes)
        r.events.set_run_state(agg, "failed")
        run_ended(r.full_dag, agg, "failed", "timed_out")
        r.outcome.failed.append((agg.run, "-"))
        r.retire(agg)
    return True
