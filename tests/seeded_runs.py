"""Runs recorded as if another component (scheduler, trigger) had made or finished them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dag_folders import Dags


def seed_run(
    dags: Dags,
    dag_id: str,
    logical_date: str,
    *,
    run_type: str = "scheduled",
    state: str = "success",
    ti_states: dict[str, str | None] | None = None,
    conf: dict[str, Any] | None = None,
    run_id: str | None = None,
) -> None:
    """Records a run as if another component (scheduler, trigger) had made it.

    ti_states maps task ids to their state; a finished or running task gets try 1.
    """
    from ledgerflow.engine.authoring.dagbag import load_dag
    from ledgerflow.engine.domain.dagrun import DagRun
    from ledgerflow.engine.domain.dates import parse_date
    from ledgerflow.engine.domain.operation import new_operation
    from ledgerflow.engine.domain.scheduling import new_run
    from ledgerflow.engine.infrastructure.store import Ledger

    dag = load_dag(dags.folder, dag_id)
    op = new_operation("scheduler", actor="scheduler", reason=None)
    agg = new_run(dag, parse_date(logical_date), run_type, state, conf or {}, op, run_id=run_id)
    changes = [
        {
            "task_id": t,
            "from": None,
            "to": s,
            "try_number": 0 if s in (None, "upstream_failed") else 1,
            "max_tries": dag.tasks[t].retries,
        }
        for t, s in (ti_states or {}).items()
    ]
    if changes:
        agg.trigger_event(DagRun.TaskInstancesChanged, **op.stamp, changes=changes)
    led = Ledger()
    try:
        led.append(op.started(), agg, op.ended("success"))
    finally:
        led.close()


def finish_run(dag_id: str, logical_date: str, state: str = "success") -> None:
    """Records that another component finished a run (its task instances untouched), views caught up."""
    from ledgerflow.engine.domain.dagrun import DagRun
    from ledgerflow.engine.domain.dates import parse_date
    from ledgerflow.engine.domain.operation import new_operation
    from ledgerflow.engine.infrastructure.store import Ledger
    from ledgerflow.projections.projector import ViewProjector
    from ledgerflow.projections.queries import load_runs

    moment = parse_date(logical_date)
    led = Ledger()
    try:
        ((uid, (version, run)),) = load_runs(led, dag_id, moment, moment).items()
        agg = DagRun.resume(uid, version, run)
        op = new_operation("scheduler", actor="scheduler", reason=None)
        agg.trigger_event(DagRun.StateChanged, **op.stamp, from_state=run.state, to_state=state)
        led.append(op.started(), agg, op.ended("success"))
        ViewProjector(led).catch_up()
    finally:
        led.close()


@contextmanager
def live_driver(dag_id: str, logical_date: str) -> Iterator[None]:
    """A live session driving the run on its own (as a sub-DAG run's driver does): it holds the run's lock,
    so the run's max_active_runs slot is held by someone alive, not by a process that is gone."""
    import os

    import psycopg

    from ledgerflow.engine.domain.dates import iso, parse_date
    from ledgerflow.engine.infrastructure.locks import run_key

    key = run_key(dag_id, iso(parse_date(logical_date)))
    with psycopg.connect(os.environ["LEDGERFLOW_DATABASE_URL"], autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        yield
