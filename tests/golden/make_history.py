"""Writes the golden event history and the views it must fold into.

Run once, review the output, commit both JSON files; rerunning replaces them:

    python tests/golden/make_history.py postgresql://postgres@127.0.0.1:5432/postgres

It records a small but varied history through the engine's own aggregates
(runs created, task instances changed, runs finished, cleared, reset, adopted,
tasks added, pools set) into a scratch database, then dumps the stored
notifications and the views a catch-up built from them.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

from ledgerflow import DAG, EmptyTask  # noqa: E402
from ledgerflow.engine.domain.dagrun import DagRun  # noqa: E402
from ledgerflow.engine.infrastructure.database import conninfo  # noqa: E402
from ledgerflow.engine.infrastructure.migrations import migrate  # noqa: E402
from ledgerflow.engine.domain.operation import OperationContext  # noqa: E402
from ledgerflow.engine.domain.pools import Pool  # noqa: E402
from ledgerflow.engine.infrastructure.store import EVENTS_TABLE, Ledger  # noqa: E402
from ledgerflow.engine.domain.scheduling import new_run  # noqa: E402
from ledgerflow.projections.projector import ViewProjector  # noqa: E402
from test_projections import dump_views  # noqa: E402


def ti(task_id: str, before: str | None, after: str | None, try_number: int, max_tries: int = 0):
    return {"task_id": task_id, "from": before, "to": after, "try_number": try_number,
            "max_tries": max_tries}


def record(ledger: Ledger) -> None:
    with DAG("etl", schedule="@daily") as etl:
        EmptyTask("extract") >> EmptyTask("transform", retries=1) >> EmptyTask("load")
    with DAG("report", schedule="0 6 * * *", timezone="Europe/Berlin") as report:
        EmptyTask("render")
    etl.fingerprint = "a" * 64
    report.fingerprint = "b" * 64

    def day(d: int) -> datetime:
        return datetime(2024, 1, d, tzinfo=UTC)

    # 1. a manual trigger: one run, queued
    op = OperationContext(name="dags trigger", actor="alice", reason="first look",
                          arguments={"argv": ["dags", "trigger", "etl"]}, id=uuid.UUID(int=1))
    manual = new_run(etl, day(1), "manual", "queued", {"k": 1}, op)
    ledger.append(op.started(), manual, op.ended("success", run_id=manual.run.run_id))

    # 2. a backfill of two days: runs created, tasks run, one fails after a retry
    op = OperationContext(name="dags backfill", actor="bob", reason=None,
                          arguments={"argv": ["dags", "backfill", "etl"]}, id=uuid.UUID(int=2))
    runs = [new_run(etl, day(d), "backfill", "queued", {}, op) for d in (2, 3)]
    ledger.append(op.started(), *runs)
    for run in runs:
        run.trigger_event(DagRun.StateChanged, **op.stamp, from_state="queued", to_state="running")
        run.trigger_event(DagRun.TaskInstancesChanged, **op.stamp, changes=[
            ti("extract", None, "queued", 0), ti("extract", "queued", "running", 1)])
        run.trigger_event(DagRun.TaskInstancesChanged, **op.stamp, changes=[
            ti("extract", "running", "success", 1), ti("transform", None, "running", 1, 1)])
    ok, bad = runs
    ok.trigger_event(DagRun.TaskInstancesChanged, **op.stamp, changes=[
        ti("transform", "running", "success", 1, 1), ti("load", None, "running", 1)])
    ok.trigger_event(DagRun.TaskInstancesChanged, **op.stamp, changes=[
        ti("load", "running", "success", 1)])
    ok.trigger_event(DagRun.StateChanged, **op.stamp, from_state="running", to_state="success")
    bad.trigger_event(DagRun.TaskInstancesChanged, **op.stamp, changes=[
        ti("transform", "running", "up_for_retry", 1, 1)])
    bad.trigger_event(DagRun.TaskInstancesChanged, **op.stamp, changes=[
        ti("transform", "up_for_retry", "running", 2, 1)])
    bad.trigger_event(DagRun.TaskInstancesChanged, **op.stamp, changes=[
        ti("transform", "running", "failed", 2, 1), ti("load", None, "upstream_failed", 0)])
    bad.trigger_event(DagRun.StateChanged, **op.stamp, from_state="running", to_state="failed")
    ledger.append(*runs, op.ended("failed", failed=["transform"]))

    # 3. a clear of the failed run: task instances back to none, run queued
    op = OperationContext(name="tasks clear", actor="carol", reason="upstream fixed",
                          arguments={"argv": ["tasks", "clear", "etl"]}, id=uuid.UUID(int=3))
    bad = ledger.repository.get(bad.id)
    bad.trigger_event(DagRun.Cleared, **op.stamp, run_from="failed", run_to="queued", changes=[
        ti("transform", "failed", None, 2, 3), ti("load", "upstream_failed", None, 0, 0)])
    ledger.append(op.started(), bad, op.ended("success", cleared=2))

    # 4. a backfill adopts the manual run (new conf), adds a task, resets another run
    op = OperationContext(name="dags backfill", actor="bob", reason="rerun with conf",
                          arguments={"argv": ["dags", "backfill", "etl", "--reset-dagruns"]},
                          id=uuid.UUID(int=4))
    adopted = ledger.repository.get(manual.id)
    adopted.trigger_event(DagRun.Adopted, **op.stamp, run_type="manual", conf={"k": 2},
                          from_run_type="manual")
    adopted.trigger_event(DagRun.TasksAdded, **op.stamp, tasks={"publish": 2})
    reset = ledger.repository.get(ok.id)
    reset.trigger_event(DagRun.Reset, **op.stamp, run_from="success", run_to="queued", changes=[
        ti("extract", "success", None, 1, 1), ti("transform", "success", None, 1, 2),
        ti("load", "success", None, 1, 1)])
    bad = ledger.repository.get(bad.id)
    for run in (adopted, reset, bad):
        run.trigger_event(DagRun.StateChanged, **op.stamp, from_state="queued", to_state="running")
    bad.trigger_event(DagRun.TaskInstancesChanged, **op.stamp, changes=[
        ti("transform", None, "success", 3, 3), ti("load", None, "success", 1, 0)])
    bad.trigger_event(DagRun.StateChanged, **op.stamp, from_state="running", to_state="success")
    ledger.append(op.started(), adopted, reset, bad)
    ledger.append(op.ended("interrupted", unfinished=2))

    # 5. pools and a run of a second DAG in another zone
    op = OperationContext(name="pools set", actor="dave", reason=None,
                          arguments={"argv": ["pools", "set", "db", "4"]}, id=uuid.UUID(int=5))
    pool = Pool._create(Pool.Created, **op.stamp, name="db", slots=4)
    pool.trigger_event(Pool.SlotsSet, **op.stamp, name="db", slots=2)
    berlin = new_run(report, datetime(2024, 1, 2, 5, tzinfo=UTC), "scheduled", "queued", {}, op)
    berlin.trigger_event(DagRun.TaskInstancesChanged, **op.stamp, changes=[
        ti("render", None, "skipped", 0)])
    berlin.trigger_event(DagRun.StateChanged, **op.stamp, from_state="queued", to_state="success")
    ledger.append(op.started(), pool, berlin, op.ended("success"))


def main(server_url: str) -> None:
    info = conninfo(server_url)
    scratch = f"ledgerflow_golden_{uuid.uuid4().hex[:8]}"
    admin = psycopg.conninfo.make_conninfo(**{**info, "dbname": "postgres"})
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {scratch}")
    url = psycopg.conninfo.make_conninfo(**{**info, "dbname": scratch})
    try:
        migrate(url)
        ledger = Ledger(url)
        record(ledger)
        ViewProjector(ledger).catch_up()
        with psycopg.connect(url) as conn:
            history = [
                {"originator_id": str(r[0]), "originator_version": r[1], "topic": r[2],
                 "state": bytes(r[3]).decode()}
                for r in conn.execute(
                    f"SELECT originator_id, originator_version, topic, state FROM {EVENTS_TABLE} "
                    f"ORDER BY notification_id"
                )
            ]
            views = dump_views(conn)
        ledger.close()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
    (HERE / "history.json").write_text(json.dumps(history, indent=1) + "\n")
    (HERE / "expected_views.json").write_text(json.dumps(views, indent=1, sort_keys=True) + "\n")
    print(f"{len(history)} events, {sum(len(v) for v in views.values())} view rows")


if __name__ == "__main__":
    main(sys.argv[1])
