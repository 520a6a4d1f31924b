"""DAG files and readers for the clear, scheduler and sub-DAG tests.

Every DAG file gets a state directory baked in: its tasks append "<task_id> <ds>"
to `<state>/executions.log` when they run, and fail when a marker file
`<state>/fail__<task_id>__<ds>` exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from typer.testing import CliRunner, Result

REPO = Path(__file__).resolve().parent.parent

PRELUDE = '''
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

from engine import DAG, BashTask, EmptyTask, PythonTask, SubDagTask

STATE = Path({state!r})


def record(line):
    with open(STATE / "executions.log", "a") as f:
        f.write(line + "\\n")


def work(ds, task_id):
    record(f"{{task_id}} {{ds}}")
    if (STATE / f"fail__{{task_id}}__{{ds}}").exists():
        raise RuntimeError(f"{{task_id}} fails on {{ds}} (failure switch)")


def timed(ds, task_id, seconds):
    record(f"start {{task_id}} {{ds}} {{time.time():.6f}}")
    time.sleep(float(seconds))
    record(f"end {{task_id}} {{ds}} {{time.time():.6f}}")


def hang_once(ds, task_id, try_number):
    """The first try announces itself and hangs until stopped; later tries return."""
    record(f"start {{task_id}} {{ds}} try={{try_number}}")
    if try_number == 1:
        time.sleep(60)
    record(f"end {{task_id}} {{ds}} try={{try_number}}")
'''


@dataclass
class Dags:
    folder: Path
    state: Path

    def write(self, name: str, body: str) -> Path:
        path = self.folder / f"{name}.py"
        path.write_text(PRELUDE.format(state=str(self.state)) + textwrap.dedent(body))
        return path

    def fail(self, task_id: str, ds: str) -> None:
        (self.state / f"fail__{task_id}__{ds}").touch()

    def heal(self, task_id: str, ds: str) -> None:
        (self.state / f"fail__{task_id}__{ds}").unlink(missing_ok=True)

    def lines(self) -> list[str]:
        log = self.state / "executions.log"
        return log.read_text().splitlines() if log.exists() else []

    def forget(self) -> None:
        (self.state / "executions.log").unlink(missing_ok=True)


def make_dags(tmp_path: Path, **bodies: str) -> Dags:
    dags = Dags(tmp_path / "dags", tmp_path / "state")
    dags.folder.mkdir(parents=True, exist_ok=True)
    dags.state.mkdir(parents=True, exist_ok=True)
    for name, body in bodies.items():
        dags.write(name, body)
    return dags


CHAIN = '''
with DAG("chain", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 31),
         catchup=True) as dag:
    PythonTask("a", work) >> PythonTask("b", work) >> PythonTask("c", work)
'''

DOP = '''
with DAG("dop", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 31),
         catchup=True) as dag:
    PythonTask("p", work, depends_on_past=True) >> PythonTask("q", work)
'''


# -- driving the CLI ---------------------------------------------------------------------------

def cli(*args: str, input: str | None = None) -> Result:
    from cli.main import app

    return CliRunner().invoke(app, list(args), input=input)


def clear(dags: Dags, dag_id: str, *args: str, input: str | None = None) -> Result:
    return cli("tasks", "clear", dag_id, "-S", str(dags.folder), *args, input=input)


def backfill(dags: Dags, dag_id: str, *args: str) -> Result:
    result = cli("dags", "backfill", dag_id, "-S", str(dags.folder), *args)
    return result


def scheduler(dags: Dags, *args: str) -> Result:
    return cli("scheduler", "-S", str(dags.folder), *args)


def env_for(dags: Dags, database_url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "LEDGERFLOW_DATABASE_URL": database_url,
           "LEDGERFLOW_DAGS_FOLDER": str(dags.folder), "PYTHONPATH": str(REPO),
           "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


def spawn(dags: Dags, database_url: str, *args: str, **extra_env: str) -> subprocess.Popen[str]:
    """`python -m cli ARGS` as a separate process."""
    return subprocess.Popen(
        [sys.executable, "-m", "cli", *args], cwd=dags.folder.parent,
        env=env_for(dags, database_url, **extra_env), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# -- reading what was recorded -----------------------------------------------------------------

def tis(dag_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """{(task_id, ds): task instance row} from `tasks states -o json`."""
    result = cli("tasks", "states", dag_id, "-o", "json")
    assert result.exit_code == 0, result.output
    return {(t["task_id"], t["logical_date"][:10]): t for t in json.loads(result.stdout)}


def states(dag_id: str) -> dict[tuple[str, str], str | None]:
    return {k: v["state"] for k, v in tis(dag_id).items()}


def runs(dag_id: str) -> dict[str, dict[str, Any]]:
    """{ds: run row} from `dags list-runs -o json`."""
    result = cli("dags", "list-runs", dag_id, "-o", "json")
    assert result.exit_code == 0, result.output
    return {r["logical_date"][:10]: r for r in json.loads(result.stdout)}


def query(database_url: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def event_count(database_url: str) -> int:
    return query(database_url, "SELECT count(*) AS n FROM ledgerflow_events")[0]["n"]


def run_events(database_url: str, kind: str | None = None) -> list[dict[str, Any]]:
    """DagRun events in notification order, payload decoded, with the run's dag_id and ds."""
    rows = query(database_url, "SELECT originator_id, originator_version, topic, state FROM "
                               "ledgerflow_events WHERE topic LIKE '%%DagRun.%%' ORDER BY notification_id")
    created: dict[Any, dict[str, Any]] = {}
    found = []
    for row in rows:
        payload = json.loads(bytes(row["state"]))
        event_kind = row["topic"].rsplit(".", 1)[-1]
        if event_kind == "Created":
            created[row["originator_id"]] = payload
        run = created[row["originator_id"]]
        if kind is None or event_kind == kind:
            found.append({**payload, "kind": event_kind, "run_uuid": row["originator_id"],
                          "version": row["originator_version"], "dag_id": run["dag_id"],
                          "ds": run["logical_date"][:10]})
    return found


def ti_history(database_url: str, dag_id: str, task_id: str, ds: str) -> list[tuple[Any, Any]]:
    """(from, to) of every recorded change of one task instance, in order."""
    return [
        (c["from"], c["to"])
        for e in run_events(database_url)
        if e["dag_id"] == dag_id and e["ds"] == ds
        for c in e.get("changes", ())
        if c["task_id"] == task_id
    ]
