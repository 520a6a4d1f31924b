"""How long interactive reads take: scenario 7 (the audit history of one task instance among
a million events) and 8 (CLI start, and a read on a warm embedded database)."""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
from bench_dag_files import dag_env
from bench_harness import Cli, Context, median_of
from bench_histories import EVENTS_PER_RUN, HISTORY_START, catch_up, fill

AUDIT_FIELDS = ("seq, recorded_at, event, dag_id, run_id, task_id, from_state, to_state, actor, "
                "reason, operation_id, operation")


@contextmanager
def audit_query(url: str, keys: tuple[str, str, str]) -> Iterator[tuple[Callable[[], list[Any]], str]]:
    """The query `audit log` runs (projections.audit_queries.log), else the plain SQL."""
    try:
        from ledgerflow.projections.audit_queries import LogFilter, log
    except ImportError:
        log = None
    if log is not None:
        from ledgerflow.engine.infrastructure.store import Ledger

        ledger = Ledger(url)
        wanted = LogFilter(dag_id=keys[0], task_id=keys[1], run_id=keys[2])
        try:
            yield (lambda: log(ledger, wanted)), "projections.audit_queries.log() in process"
        finally:
            ledger.close()
        return
    sql = (f"SELECT {AUDIT_FIELDS} FROM audit_entry WHERE dag_id = %s AND task_id = %s "
           f"AND run_id = %s ORDER BY seq")
    with psycopg.connect(url) as conn:
        yield (lambda: conn.execute(sql, keys).fetchall()), "SQL on audit_entry"


def scenario_audit(ctx: Context) -> None:
    Cli(dag_env(ctx, None), 60).require("audit", "log")
    url = ctx.dbs.fresh("audit")
    events, fill_s = fill(url, "bench_audit", ctx.sizes.audit_events)
    fold_s = catch_up(url)
    ctx.report.info["audit_fill"] = (f"{events:,} events appended in {fill_s:.1f} s, "
                                     f"views caught up in {fold_s:.1f} s")
    runs = math.ceil(ctx.sizes.audit_events / EVENTS_PER_RUN)
    moment = HISTORY_START + timedelta(hours=runs // 2)
    run_id = f"backfill__{moment.isoformat()}"
    keys = ("bench_audit", "t03", run_id)
    with audit_query(url, keys) as (query, how):
        query()  # warm the cache, as a second look would
        timings = []
        for _ in range(5):
            t0 = time.perf_counter()
            found = query()
            timings.append(time.perf_counter() - t0)
    with psycopg.connect(url) as conn:
        total_entries = conn.execute("SELECT count(*) FROM audit_entry").fetchone()[0]
    query_s = statistics.median(timings)
    cli = Cli(dag_env(ctx, url), ctx.sizes.timeout)
    args = ("audit", "log", "--dag-id", keys[0], "--task-id", keys[1], "--run-id", keys[2],
            "-o", "json")
    cli.run(*args).check("audit log")
    ran = min((cli.run(*args).check("audit log") for _ in range(3)), key=lambda r: r.seconds)
    rows = json.loads(ran.stdout)
    if not found or len(rows) != len(found):
        raise RuntimeError(f"audit log printed {len(rows)} entries, the view holds {len(found)}")
    help_s = min(cli.run("--help").seconds for _ in range(3))
    ctx.report.add("7 audit history", "audit_query_ms", query_s * 1000, "ms", "<= 50 ms",
                   query_s <= 0.050,
                   f"{len(found)} entries of one TI among {events:,} events "
                   f"({total_entries:,} audit rows), {how}, median of 5")
    ctx.report.add("7 audit history", "audit_command_seconds", ran.seconds, "s", "info", None,
                   f"whole `audit log -o json` command, best of 3; CLI start (--help) "
                   f"{help_s:.2f} s")


def scenario_cli(ctx: Context) -> None:
    cli = Cli(dag_env(ctx, None), 120)
    python_s = median_of(5, lambda: cli.run(command=[sys.executable, "-c", "pass"]).seconds)
    help_s = median_of(5, lambda: cli.run("--help").check("--help").seconds)
    ctx.report.add("8 CLI", "help_seconds", help_s, "s", "<= 0.30 s", help_s <= 0.30,
                   f"`python -c pass` {python_s:.3f} s (median of 5 each)")

    home = ctx.tmp / "embedded-home"
    env = {"LEDGERFLOW_DAGS_FOLDER": str(ctx.dags), "LEDGERFLOW_HOME": str(home)}
    embedded = Cli(env, 300)
    try:
        cold = embedded.run("dags", "list-runs", "bench_hourly").check("dags list-runs (cold)")
        warm = min((embedded.run("dags", "list-runs", "bench_hourly").check("dags list-runs")
                    for _ in range(5)), key=lambda r: r.seconds)
        from ledgerflow.engine.infrastructure import embedded as server
        from ledgerflow.engine.infrastructure.roles import APP_ROLE

        url = server.url(home.resolve() / "pgdata", APP_ROLE)  # as the commands connect
        if url is None:
            raise RuntimeError("the embedded server is not running after dags list-runs")
        probe = f"import psycopg; psycopg.connect({url!r}).execute('SELECT 1')"
        connect_s = median_of(5, lambda: embedded.run(command=[sys.executable, "-c", probe])
                              .check("connect").seconds)
    finally:
        embedded.run("db", "stop")
    ctx.report.add("8 CLI", "list_runs_warm_seconds", warm.seconds, "s", "<= 1.00 s",
                   warm.seconds <= 1.0,
                   f"best of 5 warm; first call (starts the server, migrates) {cold.seconds:.2f} s;"
                   f" python + psycopg connect + SELECT 1 {connect_s:.2f} s")
