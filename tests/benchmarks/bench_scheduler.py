"""The scheduler's pick-next decision for 100 DAGs with queued runs (issue 12's target: under 50 ms a pass),
timed in process next to the same run's SQL floor: the queries it asks, sent raw."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from bench_harness import Context, median_of
from bench_report import NotAvailable

DAGS = 100
_FILE = '''"""Benchmark DAGs for the scheduler's pick-next: daily, without catchup, one queued run each."""
from datetime import datetime

from ledgerflow import DAG, EmptyTask

for i in range({n}):
    with DAG(f"pick_{{i:03d}}", schedule="@daily", start_date=datetime(2020, 1, 1), catchup=False) as dag:
        EmptyTask("t")
    globals()[f"pick_{{i:03d}}"] = dag
'''
_FLOOR = ("SELECT dag_id, run_id, state FROM dag_run WHERE state IN ('queued', 'running') AND dag_id = ANY(%s)",
          "SELECT dag_id, logical_date FROM dag_run WHERE dag_id = ANY(%s)")


def _seed(url: str, folder: Path) -> tuple[object, list[object]]:
    """A queued manual run of each DAG, appended in one go; returns the ledger and the DAGs."""
    from ledgerflow.engine.authoring.dagbag import load_dagbag
    from ledgerflow.engine.domain.operation import new_operation
    from ledgerflow.engine.domain.read_port import views
    from ledgerflow.engine.domain.scheduling import new_run
    from ledgerflow.engine.infrastructure.migrations import open_ledger

    ledger = open_ledger(url)
    dags = [d for _, d in sorted(load_dagbag(folder).dags.items())]
    op = new_operation("dags trigger", actor="bench", reason=None, arguments={})
    moment = datetime(2024, 6, 1, tzinfo=UTC)
    ledger.append(op.started(), *(new_run(d, moment, "manual", "queued", {}, op) for d in dags))
    views(ledger).catch_up()
    return ledger, dags


def scenario_pick_next(ctx: Context) -> None:
    try:
        from ledgerflow.engine.runtime.pick_next import pick_next
    except ImportError:
        raise NotAvailable("the scheduler has no pick-next yet") from None
    folder = ctx.tmp / "pick_dags"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pick_dags.py").write_text(_FILE.format(n=DAGS))
    url = ctx.dbs.fresh("pick_next")
    ledger, dags = _seed(url, folder)
    paused = {d.dag_id: False for d in dags}  # type: ignore[attr-defined]
    ids = sorted(paused)

    def picked() -> float:
        started = time.perf_counter()
        busy = pick_next(ledger, dags, paused, datetime.now(UTC))  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        if len(busy) != DAGS:
            raise RuntimeError(f"pick-next found work for {len(busy)} of {DAGS} DAGs with a queued run")
        return seconds

    picked()  # warm: the first look pays for the connection and the cron parsers
    pick_s = median_of(15, picked)
    with psycopg.connect(url) as conn:
        def floor() -> float:
            started = time.perf_counter()
            for sql in _FLOOR:
                conn.execute(sql, (ids,)).fetchall()
            return time.perf_counter() - started
        floor()
        floor_s = median_of(15, floor)
    ledger.close()  # type: ignore[attr-defined]
    ctx.report.add("10 scheduler", "pick_next_ms", pick_s * 1000, "ms", "< 50 ms", pick_s < 0.050,
                   f"{DAGS} DAGs with a queued run each, median of 15 passes; the same reads as raw SQL "
                   f"{floor_s * 1000:.1f} ms")
