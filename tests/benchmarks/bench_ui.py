"""The web UI's grid in a real browser: a year of hourly runs (8,760 x 10 task instances) opened in the system's
Chromium, from the request to the loaded first screen, median of 5."""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench_harness import TASKS, Context
from bench_histories import catch_up, operation, run_batches
from bench_report import NotAvailable, at_most

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
PER_RUN = 1 + 3 * len(TASKS)  # Created, then queued, running, success for each task
PASSWORD = "benchmark password"


def seed(url: str, dag_id: str, runs: int) -> float:
    """`runs` hourly runs whose 10 tasks all succeeded, appended in batches; seconds."""
    from ledgerflow.engine.infrastructure.store import Ledger

    ledger = Ledger(url)
    op = operation("bench ui seed")
    t0 = time.perf_counter()
    try:
        first = True
        for batch in run_batches(op, dag_id, runs * PER_RUN, per_run=PER_RUN):
            ledger.append(*([op.started()] if first else []), *batch)
            first = False
        ledger.append(op.ended("success"))
    finally:
        ledger.close()
    return time.perf_counter() - t0


@contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def ui_server(url: str) -> Iterator[str]:
    """The API server with its web UI over the database, in a thread; an admin user to log in as."""
    import socket

    import uvicorn

    from ledgerflow.api.app import create_app
    from ledgerflow.engine.application.commands import CreateUser
    from ledgerflow.engine.application.service import Ledgerflow

    with Ledgerflow(url) as svc:
        svc.create_user(CreateUser(username="bench", role="admin", password=PASSWORD, reason="benchmark"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(svc), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(20)


def open_grid(page: Any, base: str, dag_id: str) -> float:
    t0 = time.perf_counter()
    page.goto(f"{base}/dags/{dag_id}/grid", wait_until="load")
    seconds = time.perf_counter() - t0
    cells = page.locator('[data-testid="ti-cell"]').count()
    if cells != 100 * len(TASKS):
        raise RuntimeError(f"the grid's first screen shows {cells} cells, not {100 * len(TASKS)}")
    return seconds


def scenario_ui_grid(ctx: Context) -> None:
    if not Path(CHROMIUM).exists():
        raise NotAvailable(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    url = ctx.dbs.fresh("ui_grid")
    runs = ctx.sizes.hourly_runs
    seed_s = seed(url, "bench_grid", runs)
    fold_s = catch_up(url)
    folder = ctx.tmp / "ui_dags"
    folder.mkdir(exist_ok=True)
    with environment(LEDGERFLOW_DATABASE_URL=url, LEDGERFLOW_HOME=str(ctx.tmp / "ui_home"),
                     LEDGERFLOW_DAGS_FOLDER=str(folder)), ui_server(url) as base, sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(f"{base}/login")
        page.get_by_test_id("login-username").fill("bench")
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        page.wait_for_url(f"{base}/")
        open_grid(page, base, "bench_grid")  # warm: the first read of a page of the views
        timings = [open_grid(page, base, "bench_grid") for _ in range(5)]
        browser.close()
    seconds = statistics.median(timings)
    target, ok = at_most(seconds, 1.0, ctx.quick, scale=runs / 8_760)
    ctx.report.add("12 ui grid", "ui_grid_first_screen_seconds", seconds, "s", target, ok,
                   f"{runs:,} runs x {len(TASKS)} tasks ({runs * PER_RUN:,} events seeded in {seed_s:.1f} s, "
                   f"folded in {fold_s:.1f} s); Chromium, request to load of the first 100 runs, median of 5")
