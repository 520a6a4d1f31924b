"""Scenario 13: the HTTP API against a running `ledgerflow api-server` (uvicorn in its own process) over
the year of hourly runs (8,760 runs, 87,600 task instances): median and p99 of GET dags, a page of 100
dagRuns and the taskInstances of one run, each as a client calls it (a request on a keep-alive
connection with a bearer token); then a clearTaskInstances of the whole year next to the CLI's
`tasks clear` of the same selection, each on its own copy of the same database."""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
from bench_backfills import backfill_m, cleared_all, cli_clear
from bench_dag_files import dag_env
from bench_harness import BENCH_START, BENCH_YEAR, TASKS, Cli, Context, dbname
from bench_report import NotAvailable

CALLS = 200
PASSWORD = "benchmark password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _timed(client: httpx.Client, path: str, calls: int) -> list[float]:
    client.get(path).raise_for_status()  # warm: the first call loads the DAG files
    timings = []
    for _ in range(calls):
        t0 = time.perf_counter()
        client.get(path).raise_for_status()
        timings.append((time.perf_counter() - t0) * 1000)
    return timings


def _p99(values: list[float]) -> float:
    return sorted(values)[max(0, round(len(values) * 0.99) - 1)]


@contextmanager
def _api_server(env: dict[str, str]) -> Iterator[str]:
    """A running `ledgerflow api-server` on a free port: its base URL; stopped on leaving."""
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "ledgerflow.cli", "api-server", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/api/v2/version", timeout=1)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"api-server did not start: {server.stderr.read()[-800:]}") from None
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(30)


def _seeded(ctx: Context) -> tuple[str, str]:
    """Two copies of the backfilled year: one for the API, one for the CLI's clear."""
    if ctx.backfilled:
        return (ctx.dbs.fresh("api", template=dbname(ctx.backfilled)),
                ctx.dbs.fresh("api_cli_clear", template=dbname(ctx.backfilled)))
    url = ctx.dbs.fresh("api")
    backfill_m(ctx, url)
    return url, ctx.dbs.fresh("api_cli_clear", template=dbname(url))


def _year_clear(ctx: Context, client: httpx.Client) -> float:
    """Seconds of a clearTaskInstances of every task instance of the year (not a dry run)."""
    body = {"dry_run": False, "only_failed": False, "start_date": f"{BENCH_START}Z",
            "end_date": f"{ctx.sizes.hourly_end}Z", "note": "benchmark"}
    t0 = time.perf_counter()
    answer = client.post("/api/v2/dags/bench_hourly/clearTaskInstances", json=body)
    seconds = time.perf_counter() - t0
    answer.raise_for_status()
    return seconds


def scenario_api(ctx: Context) -> None:
    env = dag_env(ctx, None)
    if not Cli(env, 60).available("api-server"):
        raise NotAvailable("ledgerflow api-server is not built")
    url, cli_url = _seeded(ctx)
    cli = Cli(dag_env(ctx, url), 120)
    made = subprocess.run([sys.executable, "-m", "ledgerflow.cli", "users", "create", "bench", "--role", "operator",
                           "--password-stdin", "-y"], input=PASSWORD + "\n", env=cli.env, capture_output=True,
                          text=True, timeout=120)
    if made.returncode != 0:
        raise RuntimeError(f"users create exited {made.returncode}: {made.stderr[-800:]}")
    runs = ctx.sizes.hourly_runs
    middle = f"backfill__{_logical_date(runs // 2)}"
    calls = 50 if ctx.quick else CALLS
    with _api_server(cli.env) as base:
        token = httpx.post(f"{base}/auth/token", json={"username": "bench", "password": PASSWORD}).json()
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token['access_token']}"},
                          timeout=ctx.sizes.timeout) as client:
            page = client.get("/api/v2/dags/bench_hourly/dagRuns", params={"limit": 100, "offset": runs // 2})
            if page.json()["total_entries"] != runs or len(page.json()["dag_runs"]) != 100:
                raise RuntimeError(f"GET dagRuns counts {page.json()['total_entries']} runs, not {runs}")
            figures = {
                "dags": _timed(client, "/api/v2/dags", calls),
                "dag_runs": _timed(client, f"/api/v2/dags/bench_hourly/dagRuns?limit=100&offset={runs // 2}", calls),
                "task_instances": _timed(client, f"/api/v2/dags/bench_hourly/dagRuns/{middle}/taskInstances",
                                         calls),
            }
            http_clear = _year_clear(ctx, client)
    http_clear += cleared_all(ctx, url, "clearTaskInstances")
    for name, values in figures.items():
        median = statistics.median(values)
        ctx.report.add("13 HTTP API reads", f"api_{name}_median_ms", median, "ms", "<= 20 ms", median <= 20,
                       f"GET {name} over {runs:,} runs, median of {calls} calls; p99 {_p99(values):.1f} ms")
    ran, extra = cli_clear(ctx, cli_url)
    ratio = http_clear / (ran.seconds + extra)
    ctx.report.add("13 HTTP API clear", "api_clear_ratio", ratio, "x", "<= 1.2x tasks clear", ratio <= 1.2,
                   f"clearTaskInstances of {runs * len(TASKS):,} TIs {http_clear:.2f} s; `tasks clear` of the "
                   f"same {ran.seconds + extra:.2f} s")


def _logical_date(hour: int) -> str:
    return (datetime(BENCH_YEAR, 1, 1, tzinfo=UTC) + timedelta(hours=hour)).isoformat()
