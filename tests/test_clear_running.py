"""Clearing a running task instance: restarting, the driving process stops the try, up_for_retry, re-run."""

from __future__ import annotations

import pytest
from clear_support import clear, run_events, ti_history
from dagfiles import cli, make_dags, query, run_map, spawn, states, ti_map, wait_for

from ledgerflow.engine.infrastructure.locks import _HELD, dag_key

HANG = '''
with DAG("hang", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 10),
         catchup=False) as dag:
    PythonTask("a", hang_once) >> PythonTask("b", work)
'''
UNSCHEDULED = HANG.replace('schedule="@daily"', "schedule=None")


pytestmark = pytest.mark.usefixtures("sequential_executor")


def _running(dags) -> bool:
    return "start a 2024-01-10 try=1" in dags.lines() and states("hang").get(("a", "2024-01-10")) == "running"


@pytest.mark.parametrize("driver", ["backfill", "scheduler"])
def test_a_cleared_running_try_is_stopped_by_the_driving_process_and_runs_again(tmp_path, database_url, driver):
    dags = make_dags(tmp_path, hang=HANG if driver == "backfill" else UNSCHEDULED)
    if driver == "backfill":
        args = ("dags", "backfill", "hang", "-s", "2024-01-10", "-e", "2024-01-10")
    else:
        assert cli_trigger(dags).exit_code == 0
        args = ("scheduler", "-n", "1")
    proc = spawn(dags, database_url, *args, "-S", str(dags.folder), LEDGERFLOW_EXECUTOR="local")
    try:
        wait_for(lambda: _running(dags), what="try 1 of a to run")
        result = clear(dags, "hang", "-r", "-y", "--reason", "restart it")
        assert result.exit_code == 0, result.output
        assert "Cleared 1 task instance(s) in 1 run(s) (1 restarting)" in result.output
        assert "driving this DAG now" in result.output
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, out + err
    assert "end a 2024-01-10 try=1" not in dags.lines()  # try 1 was stopped, never finished
    assert "start a 2024-01-10 try=2" in dags.lines() and "end a 2024-01-10 try=2" in dags.lines()
    assert ti_history(database_url, "hang", "a", "2024-01-10")[-4:] == [
        ("running", "restarting"), ("restarting", "up_for_retry"), ("up_for_retry", "running"),
        ("running", "success"),
    ]
    got = ti_map("hang")[("a", "2024-01-10")]
    assert (got["state"], got["try_number"], got["max_tries"]) == ("success", 2, 0)
    assert states("hang")[("b", "2024-01-10")] == "success"
    assert run_map("hang")["2024-01-10"]["state"] == "success"
    [cleared] = run_events(database_url, "Cleared")
    assert (cleared["run_from"], cleared["run_to"]) == ("running", "running")  # scenario 55/57
    stopped = [c for e in run_events(database_url, "TaskInstancesChanged") for c in e["changes"]
               if c["from"] == "restarting"]
    assert stopped == [{"task_id": "a", "from": "restarting", "to": "up_for_retry", "try_number": 1,
                        "max_tries": 0, "restarted": True, "stopped": True}]


def cli_trigger(dags):
    return cli("dags", "trigger", "hang", "-S", str(dags.folder), "-e", "2024-01-10")


def test_clearing_a_running_try_nobody_drives_says_the_next_driver_resets_it(tmp_path, database_url):
    dags = make_dags(tmp_path, hang=HANG)
    proc = spawn(dags, database_url, "dags", "backfill", "hang", "-s", "2024-01-10", "-e", "2024-01-10",
                 "-S", str(dags.folder), LEDGERFLOW_EXECUTOR="local")
    wait_for(lambda: _running(dags), what="try 1 of a to run")
    proc.kill()  # the driver vanishes: its try stays recorded as running
    proc.wait()
    wait_for(lambda: not query(database_url, _HELD, dag_key("hang"))[0]["held"], what="lock release")
    result = clear(dags, "hang", "-r", "-y")
    assert result.exit_code == 0, result.output
    assert "no process is driving 1 run(s) marked running" in result.output
    assert states("hang")[("a", "2024-01-10")] == "restarting"
    result = cli("scheduler", "-S", str(dags.folder), "-n", "1")
    assert result.exit_code == 0, result.output
    assert states("hang")[("a", "2024-01-10")] == "success"
    assert ti_map("hang")[("a", "2024-01-10")]["try_number"] == 2
