"""Backfill and clear commands over a year of hourly runs, run as a user would run them:
scenario 4 + 9 (backfill -m, its memory), 5 (real backfills, local executor) and 6 (tasks clear)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import psycopg
from bench_dag_files import dag_env
from bench_harness import BENCH_START, TASKS, Cli, Context, Ran, dbname, last_hour
from bench_histories import catch_up, count_tis, server_copy_seconds, views_position
from bench_report import at_most


def backfill_m(ctx: Context, url: str) -> Ran:
    cli = Cli(dag_env(ctx, url), ctx.sizes.timeout)
    ran = cli.run("dags", "backfill", "bench_hourly", "-s", BENCH_START,
                  "-e", ctx.sizes.hourly_end, "-m", "-y").check("dags backfill -m")
    want = ctx.sizes.hourly_runs * len(TASKS)
    pos, top = views_position(url)
    tis, runs = count_tis(url, "bench_hourly", "success")
    if (tis, runs) != (want, ctx.sizes.hourly_runs) or pos != top:
        raise RuntimeError(f"backfill -m left {tis} success task instances in {runs} runs "
                           f"(expected {want} in {ctx.sizes.hourly_runs}), views at {pos}/{top}")
    listed = cli.run("dags", "list-runs", "bench_hourly", "-o", "json").check("dags list-runs")
    rows = json.loads(listed.stdout)
    if len(rows) != ctx.sizes.hourly_runs or any(r["state"] != "success" for r in rows):
        raise RuntimeError("dags list-runs -o json does not show every run succeeded")
    return ran


def scenario_backfill_m(ctx: Context) -> None:
    url = ctx.dbs.fresh("backfill_m")
    ran = backfill_m(ctx, url)
    ctx.backfilled = url
    tis = ctx.sizes.hourly_runs * len(TASKS)
    rows, copy_s = server_copy_seconds(url)
    help_ran = Cli(dag_env(ctx, url), 60).run("--help").check("--help")
    target, ok = at_most(ran.seconds, 10.0, ctx.quick, ctx.sizes.hourly_runs / 8_760)
    ctx.report.add(
        "4 backfill -m", "backfill_m_seconds", ran.seconds, "s", target, ok,
        f"{ctx.sizes.hourly_runs:,} runs, {tis:,} TIs ({tis / ran.seconds:,.0f} TI/s); "
        f"{rows:,} events written, server-side copy of them {copy_s:.2f} s; "
        f"CLI start (--help) {help_ran.seconds:.2f} s",
    )
    ctx.report.add("9 memory", "backfill_m_peak_rss_mb", ran.peak_mb, "MB", "<= 500 MB",
                   ran.peak_mb <= 500, f"`ledgerflow --help` peak RSS {help_ran.peak_mb:.0f} MB")


def scenario_backfill_object(ctx: Context) -> None:
    """`backfill create` of the hourly year (a decision per date) and the scheduler driving it, against
    `dags backfill -m` over the same range of the same empty-task DAG, each in a fresh database."""
    reference = Cli(dag_env(ctx, ctx.dbs.fresh("backfill_object_ref")), ctx.sizes.timeout)
    ref = reference.run("dags", "backfill", "bench_empty", "-s", BENCH_START, "-e", ctx.sizes.hourly_end,
                        "-m", "-y").check("dags backfill -m")
    cli = Cli(dag_env(ctx, ctx.dbs.fresh("backfill_object")), ctx.sizes.timeout)
    for dag_id in ("bench_hourly", "bench_python", "bench_bash", "bench_empty"):  # only the backfill runs
        cli.run("dags", "pause", dag_id).check("dags pause")
    created = cli.run("backfill", "create", "--dag-id", "bench_empty", "--from-date", BENCH_START,
                      "--to-date", ctx.sizes.hourly_end, "-y").check("backfill create")
    driven = cli.run("scheduler", "-n", "1").check("scheduler")
    shown = cli.run("backfill", "show", "1", "-o", "json").check("backfill show")
    dates = json.loads(shown.stdout)
    if len(dates) != ctx.sizes.hourly_runs or any(d["state"] != "success" for d in dates):
        raise RuntimeError("the scheduler did not drive every date of the backfill to success")
    total = created.seconds + driven.seconds
    ctx.report.add("4b backfill object", "backfill_object_seconds", total, "s",
                   f"<= 2x dags backfill -m ({2 * ref.seconds:.1f} s)", total <= 2 * ref.seconds,
                   f"create {created.seconds:.2f} s + scheduler {driven.seconds:.2f} s; "
                   f"dags backfill -m of the same {ctx.sizes.hourly_runs:,} dates {ref.seconds:.2f} s")


_SPAWN = r"""
import multiprocessing, subprocess, sys, time
jobs, slots, bash = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "bash"
def noop():
    pass
ctx = multiprocessing.get_context("fork")
t0 = time.perf_counter()
running = []
def reap(p):
    p.wait() if bash else p.join()
for _ in range(jobs):
    while len(running) >= slots:
        reap(running.pop(0))
    if bash:
        running.append(subprocess.Popen(["bash", "-c", "true"]))
    else:
        proc = ctx.Process(target=noop)
        proc.start()
        running.append(proc)
for p in running:
    reap(p)
print(time.perf_counter() - t0)
"""


def spawn_reference(jobs: int, slots: int, bash: bool) -> float:
    """Seconds to run `jobs` no-op forks (or `bash -c true`), `slots` at a time, from a small
    fresh process (forking this one, grown by earlier scenarios, would cost more)."""
    out = subprocess.run(
        [sys.executable, "-c", _SPAWN, str(jobs), str(slots), "bash" if bash else "python"],
        capture_output=True, text=True, check=True, timeout=300,
    )
    return float(out.stdout.strip())


def scenario_backfill_real(ctx: Context) -> None:
    from ledgerflow.engine.infrastructure.settings import parallelism

    url = ctx.dbs.fresh("backfill_real")
    runs = ctx.sizes.real_runs
    end = last_hour(runs)
    slots = parallelism()
    cli = Cli(dag_env(ctx, url), ctx.sizes.timeout)
    cli.run("db", "migrate").check("db migrate")
    scale = runs / 24
    for dag_id, label, limit, bash in (("bench_python", "python", 2.0, False),
                                       ("bench_bash", "bash", 4.0, True)):
        ran = cli.run("dags", "backfill", dag_id, "-s", BENCH_START, "-e", end,
                      "-l", "-y").check(f"dags backfill {dag_id}")
        tis, got_runs = count_tis(url, dag_id, "success")
        if (tis, got_runs) != (runs * len(TASKS), runs):
            raise RuntimeError(f"{dag_id}: {tis} success task instances in {got_runs} runs, "
                               f"expected {runs * len(TASKS)} in {runs}")
        ref = spawn_reference(runs * len(TASKS), slots, bash)
        target, ok = at_most(ran.seconds, limit, ctx.quick, scale)
        what = "no-op fork" if not bash else "`bash -c true`"
        ctx.report.add(
            f"5 real backfill ({label})", f"backfill_{label}_seconds", ran.seconds, "s", target,
            ok, f"{runs} runs x 10-task chain, parallelism {slots}; "
                f"{runs * len(TASKS)} x {what}, {slots} at a time: {ref:.2f} s",
        )


def cli_clear(ctx: Context, url: str) -> tuple[Ran, float]:
    """`tasks clear` of every task instance of the backfilled year: the command, and the seconds the views
    then took to catch up (0 when the command left them caught up)."""
    ran = Cli(dag_env(ctx, url), ctx.sizes.timeout).run("tasks", "clear", "bench_hourly", "-s", BENCH_START,
                                                         "-e", ctx.sizes.hourly_end, "-y").check("tasks clear")
    return ran, cleared_all(ctx, url, "tasks clear")


def cleared_all(ctx: Context, url: str, what: str) -> float:
    """Seconds to catch the views up after a clear of the year (0 if caught up), once every task instance
    has no state."""
    pos, top = views_position(url)
    extra = catch_up(url) if pos != top else 0.0  # views left behind: catching up is part of the figure
    tis = ctx.sizes.hourly_runs * len(TASKS)
    cleared, _ = count_tis(url, "bench_hourly", None)
    if cleared != tis:
        raise RuntimeError(f"{what} left {cleared} of {tis} task instances with no state")
    return extra


def scenario_clear(ctx: Context) -> None:
    Cli(dag_env(ctx, None), 60).require("tasks", "clear")
    if ctx.backfilled:
        url = ctx.dbs.fresh("clear", template=dbname(ctx.backfilled))
    else:
        url = ctx.dbs.fresh("clear")
        backfill_m(ctx, url)
    tis = ctx.sizes.hourly_runs * len(TASKS)
    ran, extra = cli_clear(ctx, url)
    with psycopg.connect(url) as conn:  # what a mutable-row design does: one UPDATE, undone
        t0 = time.perf_counter()
        conn.execute("UPDATE task_instance SET state = 'success'")
        conn.execute("UPDATE dag_run SET state = 'success'")
        update_s = time.perf_counter() - t0
        conn.rollback()
    total = ran.seconds + extra
    target, ok = at_most(total, 3.0, ctx.quick, ctx.sizes.hourly_runs / 8_760)
    note = f" + catch-up {extra:.2f} s" if extra else ", views caught up by the command"
    ctx.report.add("6 tasks clear", "clear_seconds", total, "s", target, ok,
                   f"{tis:,} TIs; command {ran.seconds:.2f} s{note}; plain SQL UPDATE of every "
                   f"task_instance and dag_run row (rolled back) {update_s:.2f} s")
