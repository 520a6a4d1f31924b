"""Scenario 11: 1,000 no-op PythonTasks (100 runs x 10 independent tasks) through two real Celery workers of
concurrency 4 on this machine, next to the local executor with the same 8 slots, in the same run."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import psycopg
from bench_harness import ROOT, Cli, Context
from bench_report import NotAvailable

BROKER = os.environ.get("LEDGERFLOW_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
SLOTS = 8  # the local executor's parallelism; the Celery side: 2 workers x 4
DAG = """
from datetime import datetime
from ledgerflow import DAG, PythonTask

def noop():
    pass

with DAG("bench_celery", schedule="@daily", start_date=datetime(2024, 1, 1)):
    for i in range(10):
        PythonTask(f"noop{{i}}", python_callable=noop, queue={queue!r})
"""


def _consumers(queue: str) -> int:
    from kombu import Connection

    with Connection(BROKER, connect_timeout=3) as conn, conn.channel() as channel:
        return channel.queue_declare(queue, durable=True, auto_delete=False).consumer_count


def _drop(queue: str) -> None:
    from kombu import Connection

    with contextlib.suppress(Exception), Connection(BROKER) as conn, conn.channel() as channel:
        channel.queue_delete(queue)


def _workers(env: dict[str, str], queue: str) -> list[subprocess.Popen[bytes]]:
    procs = [subprocess.Popen([sys.executable, "-m", "ledgerflow.cli", "celery", "worker", "-q", queue, "-c", "4",
                               "-H", f"bench-{name}"], cwd=ROOT,
                              env={**env, "LEDGERFLOW_HOME": f"{env['LEDGERFLOW_HOME']}-{name}"},  # another machine
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
             for name in ("a", "b")]
    deadline = time.monotonic() + 60
    while _consumers(queue) < 2:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise RuntimeError("the Celery workers did not start")
        time.sleep(0.2)
    return procs


def _latency(url: str) -> tuple[float, float]:
    """Median and p99 in ms from a try recorded as queued to its claim by a worker."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) "
            "FROM (SELECT extract(epoch FROM c.claimed_at - d.recorded_at) * 1000 AS ms FROM try_dispatch d "
            "JOIN try_claim c USING (run_uuid, task_id, try_number)) t").fetchone()
    assert row is not None
    return float(row[0]), float(row[1])


def scenario_celery(ctx: Context) -> None:
    from kombu import Connection

    try:
        with Connection(BROKER, connect_timeout=3) as conn:
            conn.connect()
    except OSError as exc:
        raise NotAvailable(f"no RabbitMQ at {BROKER} ({exc})") from None
    runs = 10 if ctx.quick else 100
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    folder = Path(ctx.tmp / "celery_dags")
    folder.mkdir(exist_ok=True)
    (folder / "bench_celery.py").write_text(DAG.format(queue=queue))
    end = (date(2024, 1, 1) + timedelta(days=runs - 1)).isoformat()
    seconds = {}
    for kind in ("local", "celery"):
        url = ctx.dbs.fresh(f"celery_{kind}")
        env = {"LEDGERFLOW_DAGS_FOLDER": str(folder), "LEDGERFLOW_HOME": str(ctx.tmp / f"home-{kind}"),
               "LEDGERFLOW_DATABASE_URL": url, "LEDGERFLOW_EXECUTOR": kind, "LEDGERFLOW_BROKER_URL": BROKER,
               "LEDGERFLOW_PARALLELISM": str(SLOTS if kind == "local" else 4 * SLOTS)}
        cli = Cli(env, ctx.sizes.timeout)
        cli.run("db", "migrate").check("db migrate")
        workers = _workers(cli.env, queue) if kind == "celery" else []
        try:
            ran = cli.run("dags", "backfill", "bench_celery", "-s", "2024-01-01", "-e", end, "-y")
            ran.check(f"dags backfill ({kind} executor)")
        finally:
            for proc in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
            for proc in workers:
                proc.wait(30)
            if workers:
                _drop(queue)
        seconds[kind] = ran.seconds
        if kind == "celery":
            median, p99 = _latency(url)
    tries = runs * 10
    local_rate, rate = tries / seconds["local"], tries / seconds["celery"]
    judged = None if ctx.quick else (rate >= 100 and rate >= local_rate / 2)
    ctx.report.add("11 celery executor", "celery_tries_per_s", rate, "/s", ">= 100/s and >= 0.5x local", judged,
                   f"{tries:,} no-op tries ({runs} runs x 10), 2 workers x 4; local executor with {SLOTS} slots "
                   f"{local_rate:,.0f}/s ({rate / local_rate:.2f}x)")
    ctx.report.add("11 celery executor", "celery_queued_to_running_ms_median", median, "ms", "milliseconds", None,
                   f"p99 {p99:.1f} ms (recorded in the outbox -> claimed by a worker)")
    ctx.report.add("11 celery executor", "celery_queued_to_running_ms_p99", p99, "ms", "milliseconds", None)
