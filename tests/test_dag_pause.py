"""`dags pause | unpause`: events in the audit trail; the scheduler leaves a paused DAG alone, backfills do not."""

from __future__ import annotations

import pytest
from clear_support import scheduler
from dagfiles import backfill, cli, cli_json, event_count, make_dags, run_states
from refusals import assert_refused

pytestmark = pytest.mark.usefixtures("sequential_executor")

DAILY = '''
with DAG("daily", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 3),
         catchup=True) as dag:
    PythonTask("a", work)
{extra}
'''

MANUAL = '''
with DAG("manual", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    PythonTask("a", work)
'''


def _dags(tmp_path, extra=""):
    return make_dags(tmp_path, daily=DAILY.format(extra=extra), manual=MANUAL)


def _pause(dags, dag_id, *args):
    return cli("dags", "pause", dag_id, "-S", str(dags.folder), *args)


def test_pausing_is_an_event_with_its_actor_and_reason_in_the_audit_log(tmp_path):
    dags = _dags(tmp_path)
    result = _pause(dags, "daily", "--actor", "alice", "--reason", "quarter-end freeze")
    assert result.exit_code == 0, result.output
    assert "Dag: daily, paused: True" in result.output
    unpaused = cli("dags", "unpause", "daily", "-S", str(dags.folder), "--actor", "bob")
    assert "Dag: daily, paused: False" in unpaused.output
    log = [e for e in cli_json("audit", "log", "--dag-id", "daily", "-o", "json") if e["event"].startswith("Dag.")]
    assert [(e["event"], e["to_state"], e["actor"], e["reason"], e["operation"]) for e in log] == [
        ("Dag.Sighted", "unpaused", "alice", "quarter-end freeze", "dags pause"),
        ("Dag.Paused", "paused", "alice", "quarter-end freeze", "dags pause"),
        ("Dag.Unpaused", "unpaused", "bob", None, "dags unpause"),
    ]


def test_pausing_a_paused_dag_writes_nothing(tmp_path, database_url):
    dags = _dags(tmp_path)
    assert _pause(dags, "daily").exit_code == 0
    before = event_count(database_url)
    again = _pause(dags, "daily")
    assert again.exit_code == 0 and "paused: True (already)" in again.output
    assert event_count(database_url) == before


def test_pausing_an_unknown_dag_is_refused(tmp_path, database_url):
    dags = _dags(tmp_path)
    assert_refused(_pause(dags, "nope"), database_url, event_count(database_url), "nope")


def test_the_scheduler_creates_no_runs_for_a_paused_dag_and_starts_none_of_its_queued_runs(tmp_path):
    dags = _dags(tmp_path)
    assert _pause(dags, "daily").exit_code == 0
    assert _pause(dags, "manual").exit_code == 0
    assert cli("dags", "trigger", "manual", "-S", str(dags.folder), "-e", "2024-01-05").exit_code == 0
    result = scheduler(dags, "-n", "2")
    assert result.exit_code == 0, result.output
    assert "daily: skipped this loop, the DAG is paused (its backfills still run)" in result.output
    assert cli_json("dags", "list-runs", "daily", "-S", str(dags.folder), "-o", "json") == []
    assert run_states("manual") == {"2024-01-05": "queued"}
    assert dags.executions() == []
    for dag_id in ("daily", "manual"):
        assert cli("dags", "unpause", dag_id, "-S", str(dags.folder)).exit_code == 0
    assert scheduler(dags, "-n", "1").exit_code == 0
    assert run_states("daily") == {"2024-01-01": "success", "2024-01-02": "success", "2024-01-03": "success"}
    assert run_states("manual") == {"2024-01-05": "success"}


def test_a_backfill_still_runs_a_paused_dag(tmp_path):
    dags = _dags(tmp_path)
    assert _pause(dags, "daily").exit_code == 0
    result = backfill(dags, "daily", "-s", "2024-01-01", "-e", "2024-01-02")
    assert result.exit_code == 0, result.output
    assert run_states("daily") == {"2024-01-01": "success", "2024-01-02": "success"}


def test_is_paused_upon_creation_is_the_flag_of_the_first_sighting_and_later_changes_to_it_change_nothing(tmp_path):
    dags = _dags(tmp_path, extra="dag.is_paused_upon_creation = True")
    assert scheduler(dags, "-n", "1").exit_code == 0
    assert cli_json("dags", "list-runs", "daily", "-S", str(dags.folder), "-o", "json") == []
    sighted = [e for e in cli_json("audit", "log", "--dag-id", "daily", "-o", "json") if e["event"] == "Dag.Sighted"]
    assert [(e["to_state"], e["operation"]) for e in sighted] == [("paused", "scheduler")]
    dags.write("daily", DAILY.format(extra="dag.is_paused_upon_creation = False"))
    assert scheduler(dags, "-n", "1").exit_code == 0
    assert cli_json("dags", "list-runs", "daily", "-S", str(dags.folder), "-o", "json") == []
    assert cli("dags", "unpause", "daily", "-S", str(dags.folder)).exit_code == 0
    assert scheduler(dags, "-n", "1").exit_code == 0
    assert len(run_states("daily")) == 3
