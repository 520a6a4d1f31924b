"""Generated event histories (DagRuns of a 10-task chain, many TaskInstancesChanged each),
and the reads that check what the views made of them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from bench_harness import TASKS

HISTORY_START = datetime(2000, 1, 1, tzinfo=UTC)
EVENTS_PER_RUN = 100


def operation(name: str) -> Any:
    from ledgerflow.engine.domain.operation import new_operation

    return new_operation(name, actor="bench", reason="benchmark", arguments={"bench": True})


def run_batches(op: Any, dag_id: str, n_events: int, *, per_run: int = EVENTS_PER_RUN,
                batch_events: int = 10_000) -> Iterator[list[Any]]:
    """Yields lists of DagRun aggregates holding about batch_events pending events in all.

    Each run has one Created event and per_run - 1 TaskInstancesChanged events, each
    moving one task of the chain a step (queued, running, success), as a runner would.
    """
    from ledgerflow.engine.domain.dagrun import DagRun
    from ledgerflow.engine.domain.dates import iso

    steps = (("queued", 0), ("running", 1), ("success", 0))
    made = 0
    batch: list[Any] = []
    in_batch = 0
    index = 0
    while made < n_events:
        moment = HISTORY_START + timedelta(hours=index)
        agg = DagRun.start(
            **op.stamp, dag_id=dag_id, run_id=f"backfill__{iso(moment)}",
            logical_date=iso(moment), data_interval_start=iso(moment),
            data_interval_end=iso(moment + timedelta(hours=1)), run_type="backfill",
            state="running", conf={}, dag_fingerprint="0" * 64, tasks=dict.fromkeys(TASKS, 0),
        )
        count = min(per_run, n_events - made)
        state: dict[str, tuple[str | None, int]] = dict.fromkeys(TASKS, (None, 0))
        for k in range(count - 1):
            task = TASKS[(k // 3) % len(TASKS)]
            to, bump = steps[k % 3]
            before, tries = state[task]
            state[task] = (to, tries + bump)
            agg.trigger_event(DagRun.TaskInstancesChanged, **op.stamp, changes=[{
                "task_id": task, "from": before, "to": to, "try_number": tries + bump,
                "max_tries": 0,
            }])
        made += count
        in_batch += count
        index += 1
        batch.append(agg)
        if in_batch >= batch_events:
            yield batch
            batch, in_batch = [], 0
    if batch:
        yield batch


def fill(url: str, dag_id: str, n_events: int) -> tuple[int, float]:
    """Appends n_events (plus the operation's two) through the engine; (events, seconds)."""
    from ledgerflow.engine.infrastructure.store import Ledger

    ledger = Ledger(url)
    op = operation("bench fill")
    t0 = time.perf_counter()
    try:
        first = True
        for batch in run_batches(op, dag_id, n_events):
            ledger.append(*([op.started()] if first else []), *batch)
            first = False
        ledger.append(op.ended("success"))
    finally:
        ledger.close()
    return n_events + 2, time.perf_counter() - t0


def views_position(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        pos = conn.execute(
            "SELECT coalesce(max(notification_id), 0) FROM ledgerflow_tracking "
            "WHERE application_name = 'views'"
        ).fetchone()[0]
        top = conn.execute(
            "SELECT coalesce(max(notification_id), 0) FROM ledgerflow_events"
        ).fetchone()[0]
    return pos, top


def catch_up(url: str) -> float:
    from ledgerflow.engine.infrastructure.store import Ledger
    from ledgerflow.projections.projector import ViewProjector

    ledger = Ledger(url)
    try:
        t0 = time.perf_counter()
        ViewProjector(ledger).catch_up()
        return time.perf_counter() - t0
    finally:
        ledger.close()


def count_tis(url: str, dag_id: str, state: str | None) -> tuple[int, int]:
    """(task instances in that state, runs) of a DAG in the views."""
    with psycopg.connect(url) as conn:
        tis = conn.execute(
            "SELECT count(*) FROM task_instance t JOIN dag_run r USING (run_uuid) "
            "WHERE r.dag_id = %s AND t.state IS NOT DISTINCT FROM %s", (dag_id, state)
        ).fetchone()[0]
        runs = conn.execute("SELECT count(*) FROM dag_run WHERE dag_id = %s",
                            (dag_id,)).fetchone()[0]
    return tis, runs


def server_copy_seconds(url: str) -> tuple[int, float]:
    """Reference: the server copying every stored event row into a scratch table."""
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMP TABLE scratch (LIKE ledgerflow_events)")
        t0 = time.perf_counter()
        cur = conn.execute("INSERT INTO scratch SELECT * FROM ledgerflow_events")
        seconds = time.perf_counter() - t0
        conn.rollback()
    return cur.rowcount, seconds
