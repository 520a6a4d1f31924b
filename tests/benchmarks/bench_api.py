"""Scenario 13: the HTTP API against a running `ledgerflow api-server` (uvicorn in its own process) over
the year of hourly runs (8,760 runs, 87,600 task instances): median and p99 of GET dags, a page of 100
dagRuns and the taskInstances of one run, each as a client calls it (a request on a keep-alive
connection with a bearer token); then a clearTaskInstances of the whole year next to the CLI's
`tasks clear` of the same selection, each on its own copy of the same database, in ROUNDS alternating
rounds: the figure is the ratio of their medians, as one clear of each swings with the machine's load."""

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
ROUNDS = 3
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


def _seeded(ctx: Context) -> str:
    """A copy of the backfilled year, with the benchmark's user."""
    if ctx.backfilled:
        url = ctx.dbs.fresh("api", template=dbname(ctx.backfilled))
    else:
        url = ctx.dbs.fresh("api")
        backfill_m(ctx, url)
    made = subprocess.run([sys.executable, "-m", "ledgerflow.cli", "users", "create", "bench", "--role", "operator",
                           "--password-stdin", "-y"], input=PASSWORD + "\n", env=Cli(dag_env(ctx, url), 120).env,
                          capture_output=True, text=True, timeout=120)
    if made.returncode != 0:
        raise RuntimeError(f"users create exited {made.returncode}: {made.stderr[-800:]}")
    return url


@contextmanager
def _client(ctx: Context, url: str) -> Iterator[httpx.Client]:
    """A client of an api-server on the database, with the benchmark user's token."""
    with _api_server(Cli(dag_env(ctx, url), 120).env) as base:
        token = httpx.post(f"{base}/auth/token", json={"username": "bench", "password": PASSWORD}).json()
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token['access_token']}"},
                          timeout=ctx.sizes.timeout) as client:
            yield client


def _year_clear(ctx: Context, url: str) -> float:
    """Seconds of a clearTaskInstances of every task instance of the year (not a dry run), after a dry run of
    one day that loads what a clear needs; with the views' catching up, if the clear left them behind."""
    path, year = "/api/v2/dags/bench_hourly/clearTaskInstances", {"only_failed": False, "note": "benchmark"}
    with _client(ctx, url) as client:
        client.post(path, json={**year, "dry_run": True, "start_date": f"{BENCH_START}Z",
                                "end_date": f"{BENCH_START}Z"}).raise_for_status()
        t0 = time.perf_counter()
        answer = client.post(path, json={**year, "dry_run": False, "start_date": f"{BENCH_START}Z",
                                         "end_date": f"{ctx.sizes.hourly_end}Z"})
        seconds = time.perf_counter() - t0
        answer.raise_for_status()
    return seconds + cleared_all(ctx, url, "clearTaskInstances")


def _clears(ctx: Context, url: str) -> tuple[list[float], list[float]]:
    """Seconds of each round's clear over HTTP and `tasks clear`, each on a fresh copy of the year."""
    http, cli = [], []
    for n in range(ROUNDS):
        http.append(_year_clear(ctx, ctx.dbs.fresh(f"api_clear_{n}", template=dbname(url))))
        ran, extra = cli_clear(ctx, ctx.dbs.fresh(f"api_cli_clear_{n}", template=dbname(url)))
        cli.append(ran.seconds + extra)
    return http, cli


def scenario_api(ctx: Context) -> None:
    env = dag_env(ctx, None)
    if not Cli(env, 60).available("api-server"):
        raise NotAvailable("ledgerflow api-server is not built")
    url = _seeded(ctx)
    runs = ctx.sizes.hourly_runs
    middle = f"backfill__{_logical_date(runs // 2)}"
    calls = 50 if ctx.quick else CALLS
    with _client(ctx, url) as client:
        page = client.get("/api/v2/dags/bench_hourly/dagRuns", params={"limit": 100, "offset": runs // 2})
        if page.json()["total_entries"] != runs or len(page.json()["dag_runs"]) != 100:
            raise RuntimeError(f"GET dagRuns counts {page.json()['total_entries']} runs, not {runs}")
        figures = {
            "dags": _timed(client, "/api/v2/dags", calls),
            "dag_runs": _timed(client, f"/api/v2/dags/bench_hourly/dagRuns?limit=100&offset={runs // 2}", calls),
            "task_instances": _timed(client, f"/api/v2/dags/bench_hourly/dagRuns/{middle}/taskInstances", calls),
        }
    http, cli = _clears(ctx, url)
    for name, values in figures.items():
        median = statistics.median(values)
        ctx.report.add("13 HTTP API reads", f"api_{name}_median_ms", median, "ms", "<= 20 ms", median <= 20,
                       f"GET {name} over {runs:,} runs, median of {calls} calls; p99 {_p99(values):.1f} ms")
    ratio = statistics.median(http) / statistics.median(cli)
    ctx.report.add("13 HTTP API clear", "api_clear_ratio", ratio, "x", "<= 1.2x tasks clear", ratio <= 1.2,
                   f"clearTaskInstances of {runs * len(TASKS):,} TIs {_seconds(http)}; `tasks clear` of the "
                   f"same {_seconds(cli)} (median of {ROUNDS} rounds each)")


def _seconds(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({', '.join(f'{v:.2f}' for v in values)})"


def _logical_date(hour: int) -> str:
    return (datetime(BENCH_YEAR, 1, 1, tzinfo=UTC) + timedelta(hours=hour)).isoformat()
