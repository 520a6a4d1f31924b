"""A try left running by a backfill killed with kill -9 ends in its worker; the resume waits for it."""

from __future__ import annotations

import signal

import pytest
from cli_runner import finished
from dagfiles import make_dags, spawn_backfill, states, ti_changes, wait_for

LONG = """
def until_told(ds, task_id):
    record(f"start {task_id} {ds}")
    for _ in range(1200):  # a minute at most
        if (STATE / "go").exists():
            break
        time.sleep(0.05)
    record(f"end {task_id} {ds}")


with DAG("long", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("long", until_told)
"""


@pytest.fixture(autouse=True)
def _local(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "local")


def test_the_resume_waits_for_the_try_a_killed_backfill_left_running_and_records_it_without_running_it_again(
        tmp_path, database_url):
    dags = make_dags(tmp_path, long=LONG)
    proc = spawn_backfill(dags, database_url, "long", "-s", "2024-01-01", "-e", "2024-01-01")
    wait_for(lambda: any(line.startswith("start long") for line in dags.lines()), what="the try to start")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert not any(line.startswith("end long") for line in dags.lines())  # still running, in its worker
    resumed = spawn_backfill(dags, database_url, "long", "-s", "2024-01-01", "-e", "2024-01-01")
    said = resumed.stderr.readline()
    assert "Waiting for 1 tries" in said, said
    (dags.state / "go").touch()
    code, out, err = finished(resumed)
    assert code == 0, out + err
    assert [line.split(" ")[0] for line in dags.lines()] == ["start", "end"]
    assert states("long") == {("long", "2024-01-01"): "success"}
    [ended] = [c for c in ti_changes(database_url, "long") if c["to"] == "success"]
    assert (ended["recovered"], ended["try_number"]) == (True, 1)
