"""The sequential executor under a scheduler driving several DAGs at once (one thread each): tries
run in the scheduler's own process one at a time, and each try's log holds its own output only."""

from __future__ import annotations

import pytest
from clear_support import scheduler
from dag_folders import most_at_once
from dagfiles import cli, make_dags, run_states

pytestmark = pytest.mark.usefixtures("sequential_executor")

NAMES = ("sa", "sb", "sc")
CHATTY = '''
import sys


def chatty(ds, task_id):
    """Prints through sys.stdout, sys.stderr and file descriptor 1 while it sleeps."""
    record(f"start {{task_id}} {{ds}} {{time.time():.6f}}")
    for i in range(4):
        print(f"out {{task_id}} {{ds}} {{i}}", flush=True)
        print(f"err {{task_id}} {{ds}} {{i}}", file=sys.stderr, flush=True)
        os.write(1, f"fd {{task_id}} {{ds}} {{i}}\\n".encode())
        time.sleep(0.05)
    record(f"end {{task_id}} {{ds}} {{time.time():.6f}}")


with DAG("{dag_id}", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 2),
         catchup=True) as dag:
    PythonTask("{dag_id}_py", chatty) >> BashTask("{dag_id}_sh", "echo sh {dag_id} {{{{ ds }}}}; echo sherr >&2")
'''


def _expected(dag_id: str, task: str, ds: str) -> list[str]:
    if task == "sh":
        return [f"sh {dag_id} {ds}", "sherr"]
    task_id = f"{dag_id}_py"
    return [f"{kind} {task_id} {ds} {i}" for i in range(4) for kind in ("out", "err", "fd")]


def test_tries_of_dags_driven_at_once_run_one_at_a_time_each_logging_only_its_own_output(tmp_path):
    dags = make_dags(tmp_path, **{name: CHATTY.format(dag_id=name) for name in NAMES})
    for name in NAMES:
        assert cli("dags", "unpause", name, "-S", str(dags.folder)).exit_code == 0
    result = scheduler(dags, "-n", "1")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert all(run_states(name) == {"2024-01-01": "success", "2024-01-02": "success"} for name in NAMES)
    assert len(dags.lines()) == 12
    assert most_at_once(dags.lines()) == 1  # sequential: one try at a time, whichever DAG it is of
    logs = tmp_path / "home" / "logs"
    for name in NAMES:
        for ds in ("2024-01-01", "2024-01-02"):
            for task in ("py", "sh"):
                (log,) = (logs / name).glob(f"*{ds}*/{name}_{task}/attempt=1.log")
                assert sorted(log.read_text().splitlines()) == sorted(_expected(name, task, ds)), log


CALLBACK = '''
import sys
import time
from datetime import datetime
from airflow import DAG
from airflow.operators.python import PythonOperator


def say(what):
    for i in range(4):
        print(f"{{what}} {{i}}", flush=True)
        print(f"{{what}} err {{i}}", file=sys.stderr, flush=True)
        time.sleep(0.05)


with DAG("{dag_id}", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 3),
         catchup=True, on_success_callback=lambda context: say("callback {dag_id} " + context["ds"])):
    PythonOperator(task_id="t", python_callable=lambda ds: say("task {dag_id} " + ds))
'''


@pytest.mark.parametrize("executor", ["sequential", "local"])  # local: DAG callbacks of several DAGs at once
def test_dag_callbacks_and_the_tries_of_other_dags_each_log_only_their_own_output(tmp_path, monkeypatch, executor):
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", executor)
    folder = tmp_path / "dags"
    folder.mkdir()
    for name in NAMES:
        (folder / f"{name}.py").write_text(CALLBACK.format(dag_id=name))
        assert cli("dags", "unpause", name, "-S", str(folder)).exit_code == 0
    result = cli("scheduler", "-S", str(folder), "-n", "1")
    assert result.exit_code == 0, result.output
    days = ("2024-01-01", "2024-01-02", "2024-01-03")
    assert all(run_states(name) == dict.fromkeys(days, "success") for name in NAMES)
    logs = tmp_path / "home" / "logs"
    for name in NAMES:
        for ds in days:
            said = [f"{what} {i}" for i in range(4) for what in (f"{{}} {name} {ds}", f"{{}} {name} {ds} err")]
            (run,) = (logs / name).glob(f"*{ds}*")
            printed = [line for line in (run / "t" / "attempt=1.log").read_text().splitlines()
                       if not line.startswith("Done. Returned value")]  # the operator's own line
            assert sorted(printed) == sorted(line.format("task") for line in said)
            assert sorted((run / "dag_callbacks.log").read_text().splitlines()) == sorted(
                line.format("callback") for line in said)
