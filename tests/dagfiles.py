"""DAG files written into a test's tmp dir, plus ways to drive and read them.

Shared by the backfill, clear, scheduler and sub-DAG tests (clear_support.py
holds what only the latter need).

Every DAG file has the path of a state directory baked in. Its tasks append
one line per execution to `<state>/executions.log` ("<task_id> <ds>"), so a
test can see what ran and in which order, and fail when a marker file
`<state>/fail__<task_id>__<ds>` exists (a per-(task, date) failure switch).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
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

from ledgerflow import DAG, BashTask, EmptyTask, PythonTask, SubDagTask

STATE = Path({state!r})


def record(line):
    with open(STATE / "executions.log", "a") as f:
        f.write(line + "\\n")


def work(ds, task_id):
    """Records the execution, then fails when this (task, date) has a failure switch."""
    record(f"{{task_id}} {{ds}}")
    if (STATE / f"fail__{{task_id}}__{{ds}}").exists():
        raise RuntimeError(f"{{task_id}} fails on {{ds}} (failure switch)")


def timed(ds, task_id, seconds):
    """Records start and end instants (for overlap checks), sleeping in between."""
    record(f"start {{task_id}} {{ds}} {{time.time():.6f}}")
    time.sleep(float(seconds))
    record(f"end {{task_id}} {{ds}} {{time.time():.6f}}")


def slow(ds, task_id, seconds):
    """Sleeps, then records that it finished: the line is the task's side effect."""
    time.sleep(float(seconds))
    record(f"{{task_id}} {{ds}}")
    if (STATE / f"fail__{{task_id}}__{{ds}}").exists():
        raise RuntimeError(f"{{task_id}} fails on {{ds}} (failure switch)")


def hang_once(ds, task_id, try_number):
    """The first try announces itself and hangs until stopped; later tries return."""
    record(f"start {{task_id}} {{ds}} try={{try_number}}")
    if try_number == 1:
        time.sleep(60)
    record(f"end {{task_id}} {{ds}} try={{try_number}}")
'''


def bash_work(state: Path) -> str:
    """Bash version of `work`: the command line is what a dry run must show rendered."""
    return (
        f'echo "{{{{ task_id }}}} {{{{ ds }}}}" >> {state}/executions.log && '
        f"test ! -e {state}/fail__{{{{ task_id }}}}__{{{{ ds }}}}"
    )


DAGS: dict[str, str] = {
    # AIRFLOW_SEMANTICS section 7: a >> b >> c, @daily, bash tasks with failure switches.
    "chain": """
with DAG("chain", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    a = BashTask("a", bash_command=BASH_WORK)
    b = BashTask("b", bash_command=BASH_WORK)
    c = BashTask("c", bash_command=BASH_WORK)
    a >> b >> c
""",
    # Same shape with python tasks (cheaper, and runs in-process with the sequential executor).
    "pychain": """
with DAG("pychain", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    a = PythonTask("a", work)
    b = PythonTask("b", work)
    c = PythonTask("c", work)
    a >> b >> c
""",
    "dop": """
with DAG("dop", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    p = PythonTask("p", work, depends_on_past=True)
    q = PythonTask("q", work)
    p >> q
""",
    "wfd": """
with DAG("wfd", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    x = PythonTask("x", work, wait_for_downstream=True)
    y = PythonTask("y", work)
    x >> y
""",
    "mar1": """
with DAG("mar1", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True,
         max_active_runs=1) as dag:
    PythonTask("t", work)
""",
    "cron6": """
with DAG("cron6", schedule="0 6 * * *", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("t", work)
""",
    "unscheduled": """
with DAG("unscheduled", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    PythonTask("t", work)
""",
    "retry": """
def flaky_once(ds, task_id):
    record(f"{{task_id}} {{ds}}")
    marker = STATE / f"flaky_failed_once__{{ds}}"
    if not marker.exists():
        marker.touch()
        raise RuntimeError("flaky fails the first time")


def fail_always(ds, task_id):
    record(f"{{task_id}} {{ds}}")
    raise RuntimeError("always fails")


with DAG("retry", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True,
         default_args={{"retries": 1, "retry_delay": timedelta(seconds=1)}}) as dag:
    PythonTask("flaky", flaky_once)
    PythonTask("always_fails", fail_always)
""",
    "d_trig": """
RULES = ["all_success", "all_failed", "all_done", "one_success", "one_failed", "one_done",
         "none_failed", "none_failed_min_one_success", "none_skipped", "all_skipped", "always"]
with DAG("d_trig", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    bad = PythonTask("bad", work)
    good = PythonTask("good", work)
    for rule in RULES:
        [bad, good] >> PythonTask(rule, work, trigger_rule=rule)
    dag.tasks["all_success"] >> PythonTask("after", work)
""",
    # Conf and params reach templates: dag_run.conf and params (conf overrides params).
    "templ": """
with DAG("templ", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True,
         params={{"who": "nobody", "n": 5}}) as dag:
    BashTask("show", bash_command=(
        "echo '{{{{ ds }}}} who={{{{ params.who }}}} n={{{{ params.n }}}} "
        "conf={{{{ dag_run.conf | tojson }}}}' >> {state}/executions.log"
    ))
""",
    # Seed example: `dags backfill -t some_task some_dag -s 2022-09-01T00:10:00 -e 2022-09-01T12:10:00`.
    "some_dag": """
with DAG("some_dag", schedule="10 * * * *", start_date=datetime(2022, 9, 1), catchup=True) as dag:
    up = PythonTask("upstream_task", work)
    some = PythonTask("some_task", work)
    down = PythonTask("downstream_task", work)
    up >> some >> down
""",
    # Four dates whose single task sleeps in a 1-slot pool.
    "pooled": """
with DAG("pooled", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("work", timed, op_kwargs={{"seconds": "0.3"}}, pool="serial")
""",
    # No pool: the same sleeping task, to show that it does overlap without one.
    "parallel": """
with DAG("parallel", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("work", timed, op_kwargs={{"seconds": "0.3"}})
""",
    "mat2": """
with DAG("mat2", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True,
         max_active_tasks=2) as dag:
    PythonTask("work", timed, op_kwargs={{"seconds": "0.3"}})
""",
    "king": """
with DAG("king", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("t", work, pool="king_pool")
""",
    # Tasks that take a while: a backfill can be signalled mid-run.
    "sleepy": """
with DAG("sleepy", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    a = PythonTask("a", slow, op_kwargs={{"seconds": "0.25"}})
    b = PythonTask("b", slow, op_kwargs={{"seconds": "0.25"}})
    c = PythonTask("c", slow, op_kwargs={{"seconds": "0.25"}})
    a >> b >> c
""",
    "timeout": """
with DAG("timeout", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("hangs", slow, op_kwargs={{"seconds": "30"}},
               execution_timeout=timedelta(seconds=1))
    BashTask("bash_hangs", bash_command="sleep 30", execution_timeout=timedelta(seconds=1))
""",
    # Records the process id of every try: which process ran it.
    "whereami": """
def where(ds, task_id):
    record(f"{{task_id}} {{ds}} {{os.getpid()}}")


with DAG("whereami", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("a", where) >> PythonTask("b", where)
""",
    # Task `edit` changes the DAG file it is defined in: later tries see different code.
    "selfedit": """
def edit(ds, task_id):
    record(f"{{task_id}} {{ds}}")
    with open(__file__, "a") as f:
        f.write("\\n# edited by a task\\n")


with DAG("selfedit", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("edit", edit) >> PythonTask("after", work)
""",
    "dop_nocatchup": """
with DAG("dop_nocatchup", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    p = PythonTask("p", work, depends_on_past=True)
    q = PythonTask("q", work)
    p >> q
""",
    # Skipped upstreams: s1, s2 (all_failed after a success) always end skipped.
    "d_skip": """
with DAG("d_skip", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    good = PythonTask("good", work)
    s1 = PythonTask("s1", work, trigger_rule="all_failed")
    s2 = PythonTask("s2", work, trigger_rule="all_failed")
    good >> [s1, s2]
    [s1, s2] >> PythonTask("one_success_all_skipped", work, trigger_rule="one_success")
    [s1, s2] >> PythonTask("nfmos_all_skipped", work, trigger_rule="none_failed_min_one_success")
    [s1, good] >> PythonTask("nfmos_one_success", work, trigger_rule="none_failed_min_one_success")
    [s1, good] >> PythonTask("none_skipped", work, trigger_rule="none_skipped")
    s1 >> PythonTask("all_success_after_skip", work) >> PythonTask("grandchild", work)
    [s1, s2] >> PythonTask("all_skipped", work, trigger_rule="all_skipped")
""",
    # `always` must not wait for its long-running upstream.
    "d_always": """
with DAG("d_always", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("long", timed, op_kwargs={{"seconds": "1.5"}}) >> PythonTask(
        "eager", timed, op_kwargs={{"seconds": "0"}}, trigger_rule="always")
""",
    # A task that ends its process the way scripts do: sys.exit(3).
    "exits": """
import sys


def bye(ds, task_id):
    record(f"{{task_id}} {{ds}}")
    sys.exit(3)


with DAG("exits", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("bye", bye) >> PythonTask("after", work)
""",
    # Midnight in Amsterdam: 23:00Z in winter.
    "ams": """
with DAG("ams", schedule="0 0 * * *", start_date=datetime(2024, 1, 1), catchup=True,
         timezone="Europe/Amsterdam") as dag:
    PythonTask("t", work)
""",
    "noisy": """
def shout(ds):
    print(f"hello from {{ds}}")


with DAG("noisy", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("py", shout)
    BashTask("sh", bash_command="echo bash says {{{{ ds }}}}")
""",
}


@dataclass
class Dags:
    """A DAG folder and the state directory its DAG files report to."""

    folder: Path
    state: Path

    def write(self, name: str, body: str | None = None) -> Path:
        """Writes DAG file `<name>.py` after the PRELUDE.

        Without a body it is DAGS[name], a template formatted with the state directory;
        a given body is plain source, written as it is.
        """
        source = PRELUDE.format(state=str(self.state))
        source += f"\nBASH_WORK = {bash_work(self.state)!r}\n"
        source += textwrap.dedent(DAGS[name].format(state=self.state) if body is None else body)
        path = self.folder / f"{name}.py"
        path.write_text(source)
        return path

    def fail(self, task_id: str, ds: str) -> None:
        (self.state / f"fail__{task_id}__{ds}").touch()

    def heal(self, task_id: str, ds: str) -> None:
        (self.state / f"fail__{task_id}__{ds}").unlink(missing_ok=True)

    def lines(self) -> list[str]:
        log = self.state / "executions.log"
        return log.read_text().splitlines() if log.exists() else []

    def executions(self) -> list[tuple[str, str]]:
        """(task_id, ds) per execution, in order."""
        return [tuple(line.split(" ", 1)) for line in self.lines()]  # type: ignore[misc]

    def counts(self) -> Counter:
        return Counter(self.lines())

    def forget(self) -> None:
        """Empties the executions log."""
        (self.state / "executions.log").unlink(missing_ok=True)


def spans(lines: list[str]) -> list[tuple[float, float]]:
    """(start, end) instants of each `timed` execution, from its start and end lines."""
    starts, ends = {}, {}
    for line in lines:
        kind, task_id, ds, at = line.split(" ")
        (starts if kind == "start" else ends)[task_id, ds] = float(at)
    return [(starts[k], ends[k]) for k in starts if k in ends]


def most_at_once(lines: list[str]) -> int:
    """The largest number of `timed` executions that overlapped in time."""
    points = sorted([(a, 1) for a, _ in spans(lines)] + [(b, -1) for _, b in spans(lines)], key=lambda p: (p[0], p[1]))
    level = peak = 0
    for _, step in points:
        level += step
        peak = max(peak, level)
    return peak


def make_dags(tmp_path: Path, *names: str, **bodies: str) -> Dags:
    """A DAG folder holding DAGS[name] for each name, and `<key>.py` for each key=body (plain source)."""
    dags = Dags(tmp_path / "dags", tmp_path / "state")
    dags.folder.mkdir(parents=True, exist_ok=True)
    dags.state.mkdir(parents=True, exist_ok=True)
    for name in names:
        dags.write(name)
    for name, body in bodies.items():
        dags.write(name, body)
    return dags


# -- driving the CLI -------------------------------------------------------------------------


def cli(*args: str, input: str | None = None) -> Result:
    """Runs `ledgerflow ARGS` in this process (LEDGERFLOW_DATABASE_URL comes from the fixture)."""
    from ledgerflow.cli.main import app

    return CliRunner().invoke(app, list(args), input=input)


def backfill(dags: Dags, dag_id: str, *args: str, input: str | None = None) -> Result:
    return cli("dags", "backfill", dag_id, "-S", str(dags.folder), *args, input=input)


def subprocess_env(dags: Dags, database_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "LEDGERFLOW_DATABASE_URL": database_url,
        "LEDGERFLOW_DAGS_FOLDER": str(dags.folder),
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def spawn(dags: Dags, database_url: str, *args: str, **extra_env: str) -> subprocess.Popen[str]:
    """Starts `python -m ledgerflow.cli ARGS` as a separate process."""
    return subprocess.Popen(
        [sys.executable, "-m", "ledgerflow.cli", *args],
        cwd=dags.folder.parent,
        env=subprocess_env(dags, database_url, **extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def spawn_backfill(dags: Dags, database_url: str, dag_id: str, *args: str, **extra_env: str) -> subprocess.Popen[str]:
    """Starts `python -m ledgerflow.cli dags backfill ...` as a separate process."""
    return spawn(dags, database_url, "dags", "backfill", dag_id, *args, **extra_env)


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Polls until the predicate gives a true value, which it returns."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# -- reading what was recorded ---------------------------------------------------------------


def runs(dag_id: str) -> list[dict[str, Any]]:
    result = cli("dags", "list-runs", dag_id, "-o", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def run_map(dag_id: str) -> dict[str, dict[str, Any]]:
    """{ds: run row}."""
    return {r["logical_date"][:10]: r for r in runs(dag_id)}


def tis(dag_id: str) -> list[dict[str, Any]]:
    result = cli("tasks", "states", dag_id, "-o", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def ti_map(dag_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """{(task_id, ds): task instance row}."""
    return {(t["task_id"], t["logical_date"][:10]): t for t in tis(dag_id)}


def states(dag_id: str) -> dict[tuple[str, str], str | None]:
    return {k: v["state"] for k, v in ti_map(dag_id).items()}


def run_states(dag_id: str) -> dict[str, str]:
    return {ds: r["state"] for ds, r in run_map(dag_id).items()}


def query(database_url: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def events(database_url: str, topic_contains: str | None = None) -> list[dict[str, Any]]:
    """Every stored event, oldest first: its topic and its JSON state."""
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        rows = conn.execute(
            "SELECT notification_id, originator_id, topic, state FROM ledgerflow_events ORDER BY notification_id"
        ).fetchall()
    found = []
    for r in rows:
        if topic_contains and topic_contains not in r["topic"]:
            continue
        state = json.loads(bytes(r["state"]).decode())
        found.append(
            {
                "id": r["notification_id"],
                "originator_id": r["originator_id"],
                "topic": r["topic"],
                "kind": r["topic"].rsplit(".", 1)[-1],
                **state,
            }
        )
    return found


def seed_run(
    dags: Dags,
    dag_id: str,
    logical_date: str,
    *,
    run_type: str = "scheduled",
    state: str = "success",
    ti_states: dict[str, str | None] | None = None,
    conf: dict[str, Any] | None = None,
    run_id: str | None = None,
) -> None:
    """Records a run as if another component (scheduler, trigger) had made it.

    ti_states maps task ids to their state; a finished or running task gets try 1.
    """
    from ledgerflow.engine.application.trigger import new_run
    from ledgerflow.engine.authoring.dagbag import load_dag
    from ledgerflow.engine.domain.dagrun import DagRun
    from ledgerflow.engine.domain.dates import parse_date
    from ledgerflow.engine.domain.operation import new_operation
    from ledgerflow.engine.infrastructure.store import Ledger

    dag = load_dag(dags.folder, dag_id)
    op = new_operation("scheduler", actor="scheduler", reason=None)
    agg = new_run(dag, parse_date(logical_date), run_type, state, conf or {}, op, run_id=run_id)
    changes = [
        {
            "task_id": t,
            "from": None,
            "to": s,
            "try_number": 0 if s in (None, "upstream_failed") else 1,
            "max_tries": dag.tasks[t].retries,
        }
        for t, s in (ti_states or {}).items()
    ]
    if changes:
        agg.trigger_event(DagRun.TaskInstancesChanged, **op.stamp, changes=changes)
    led = Ledger()
    try:
        led.append(op.started(), agg, op.ended("success"))
    finally:
        led.close()


def finish_run(dag_id: str, logical_date: str, state: str = "success") -> None:
    """Records that another component finished a run (its task instances untouched), views caught up."""
    from ledgerflow.engine.domain.dagrun import DagRun
    from ledgerflow.engine.domain.dates import parse_date
    from ledgerflow.engine.domain.operation import new_operation
    from ledgerflow.engine.infrastructure.store import Ledger
    from ledgerflow.projections.projector import ViewProjector
    from ledgerflow.projections.queries import load_runs

    moment = parse_date(logical_date)
    led = Ledger()
    try:
        ((uid, (version, run)),) = load_runs(led, dag_id, moment, moment).items()
        agg = DagRun.resume(uid, version, run)
        op = new_operation("scheduler", actor="scheduler", reason=None)
        agg.trigger_event(DagRun.StateChanged, **op.stamp, from_state=run.state, to_state=state)
        led.append(op.started(), agg, op.ended("success"))
        ViewProjector(led).catch_up()
    finally:
        led.close()


def event_count(database_url: str) -> int:
    return query(database_url, "SELECT count(*) AS n FROM ledgerflow_events")[0]["n"]


def ti_changes(database_url: str, dag_id: str | None = None) -> list[dict[str, Any]]:
    """Every task instance change recorded (TaskInstancesChanged, Reset, Cleared), flattened."""
    created = {}
    out = []
    for e in events(database_url):
        if e["kind"] == "Created" and "DagRun" in e["topic"]:
            created[e["originator_id"]] = e
        if e["kind"] in ("TaskInstancesChanged", "Reset", "Cleared"):
            run = created.get(e["originator_id"])
            if dag_id is not None and (run is None or run["dag_id"] != dag_id):
                continue
            for c in e["changes"]:
                out.append(
                    {
                        **c,
                        "kind": e["kind"],
                        "ds": run["logical_date"][:10] if run else None,
                        "at": datetime.fromisoformat(e["timestamp"]["_data_"]),
                        "operation_id": e["operation_id"],
                        "actor": e["actor"],
                        "reason": e["reason"],
                    }
                )
    return out
