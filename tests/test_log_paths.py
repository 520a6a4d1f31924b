"""Task logs stay under LEDGERFLOW_HOME/logs: run ids are checked where given (dag and task ids in
test_dag_api), and every log path is confined."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from clear_support import run_events
from cli_contract_support import dags as dags  # a fixture, named here so pytest finds it
from dagfiles import cli, make_dags, seed_run

MANUAL = '''
with DAG("manual", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    PythonTask("a", work)
'''


def events(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM ledgerflow_events").fetchone()[0]


def log_files(top: Path) -> list[Path]:
    return sorted(top.rglob("attempt=*.log"))


@pytest.mark.parametrize("run_id", ["/tmp/anywhere", "../../x", "..", ".", "a/b", "a b", "tab\there",
                                    "x" * 251])
def test_a_run_id_outside_the_contract_is_refused_with_one_line_exit_2_and_nothing_written(
    dags, database_url, run_id
):
    before = events(database_url)
    result = cli("dags", "trigger", "daily", "-e", "2024-01-02", "-r", run_id)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: invalid run_id")
    assert events(database_url) == before


def test_a_run_id_of_250_letters_digits_and_the_allowed_signs_is_accepted(dags, database_url):
    run_id = ("Az09._:+-~" * 25)[:250]
    result = cli("dags", "trigger", "daily", "-e", "2024-01-02", "-r", run_id)
    assert result.exit_code == 0, result.output
    assert run_id in result.stdout


@pytest.mark.usefixtures("sequential_executor")
@pytest.mark.parametrize("escape", ["../../escaped", "absolute"])
def test_a_recorded_run_whose_log_would_land_outside_the_logs_folder_fails_its_try_writing_nothing(
    tmp_path, database_url, escape
):
    """A run recorded without the check (as before it existed): its try is refused, not run."""
    run_id = str(tmp_path / "anywhere") if escape == "absolute" else escape
    dags = make_dags(tmp_path, manual=MANUAL)
    seed_run(dags, "manual", "2024-02-01", run_type="manual", state="queued", run_id=run_id)
    result = cli("scheduler", "-S", str(dags.folder), "-n", "1")
    assert result.exit_code == 1 and "1 run(s) failed" in result.output
    [failed] = [c for e in run_events(database_url, "TaskInstancesChanged") for c in e["changes"]
                if c["to"] == "failed"]
    assert failed["task_id"] == "a" and "would be outside" in failed["error"]
    assert dags.lines() == []  # the task never ran
    outside = [p for p in log_files(tmp_path) if not p.is_relative_to(tmp_path / "home" / "logs")]
    assert outside == []
    assert not (tmp_path / "anywhere").exists() and not (tmp_path / "home" / "escaped").exists()


def test_the_log_path_is_the_ids_under_the_logs_folder_or_none(tmp_path):
    from ledgerflow.engine.runtime.jobs import confined_log_path

    logs = (tmp_path / "home" / "logs").resolve()
    assert confined_log_path("d", "manual__2024-01-01T00:00:00+00:00", "t", 2) == (
        logs / "d" / "manual__2024-01-01T00:00:00+00:00" / "t" / "attempt=2.log")
    for dag_id, run_id, task_id in [("d", "../x", "t"), ("d", "/abs", "t"), ("d", ".", "t"),
                                    ("..", "r", "t"), ("d", "r", ".."), ("d", "a/b", "t")]:
        assert confined_log_path(dag_id, run_id, task_id, 1) is None, (dag_id, run_id, task_id)
