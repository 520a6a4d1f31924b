"""`dags backfill` flags for what is recorded about a backfill: the DAG code it ran (-x, -S) and who
asked for it and why (--actor, --reason); one test (at least) per flag, each failing if it were ignored."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import pytest
from dagfiles import backfill, cli, events, make_dags, run_states, runs, ti_changes, ti_map

pytestmark = pytest.mark.usefixtures("sequential_executor")


# -- -x/--donot-pickle: the DAG code fingerprint ------------------------------------------------


def test_every_try_records_the_sha256_of_the_dag_file_it_ran_with(tmp_path, database_url):
    dags = make_dags(tmp_path, "pychain")
    digest = hashlib.sha256((dags.folder / "pychain.py").read_bytes()).hexdigest()
    assert backfill(dags, "pychain", "-s", "2024-01-01").exit_code == 0
    finished = [c for c in ti_changes(database_url, "pychain") if c["to"] == "success"]
    assert len(finished) == 3
    assert {c["dag_fingerprint"] for c in finished} == {digest}
    created = [e for e in events(database_url) if e["kind"] == "Created" and "DagRun" in e["topic"]]
    assert {e["dag_fingerprint"] for e in created} == {digest}


def test_a_dag_file_changed_after_planning_stops_the_backfill_once_without_burning_a_try(tmp_path, database_url):
    dags = make_dags(tmp_path, "selfedit")
    result = backfill(dags, "selfedit", "-s", "2024-01-01", "-e", "2024-01-06")
    assert result.exit_code == 1, result.output
    assert dags.executions() == [("edit", "2024-01-01")]  # nothing started once the change was seen
    assert result.output.count("Stopped once") == 1 and "Some task instances failed" not in result.output
    after = {k[1]: v for k, v in ti_map("selfedit").items() if k[0] == "after"}
    assert (after["2024-01-01"]["state"], after["2024-01-01"]["try_number"]) == (None, 0)
    assert not [c for c in ti_changes(database_url, "selfedit") if c["to"] == "failed"]
    (refused,) = [c for c in ti_changes(database_url, "selfedit") if c.get("refused")]
    assert "changed since the command planned" in refused["refused"]
    assert {r["state"] for r in runs("selfedit")} == {"queued"}  # left for the same command to plan again


def test_donot_pickle_lets_a_worker_run_the_changed_file_and_records_that_files_fingerprint(tmp_path, database_url):
    dags = make_dags(tmp_path, "selfedit")
    path = dags.folder / "selfedit.py"
    planned = hashlib.sha256(path.read_bytes()).hexdigest()
    result = backfill(dags, "selfedit", "-s", "2024-01-01", "-x")
    assert result.exit_code == 0, result.output
    edited = hashlib.sha256(path.read_bytes()).hexdigest()
    assert edited != planned
    assert dags.executions() == [("edit", "2024-01-01"), ("after", "2024-01-01")]
    done = {c["task_id"]: c["dag_fingerprint"] for c in ti_changes(database_url, "selfedit") if c["to"] == "success"}
    assert done == {"edit": planned, "after": edited}


def _job(dags, dag_id: str, task_id: str, planned: str, check: bool):
    from ledgerflow.engine.runtime.jobs import TaskJob

    moment = datetime(2024, 1, 1, tzinfo=UTC)
    return TaskJob(
        run_uuid=str(uuid.uuid4()),
        dag_id=dag_id,
        task_id=task_id,
        run_id="backfill__2024-01-01T00:00:00+00:00",
        run_type="backfill",
        try_number=1,
        logical_date=moment,
        data_interval_start=moment,
        data_interval_end=datetime(2024, 1, 2, tzinfo=UTC),
        conf={},
        fileloc=str(dags.folder / f"{dag_id}.py"),
        dag_folder=str(dags.folder),
        planned_fingerprint=planned,
        check_fingerprint=check,
        log_path=str(dags.state / f"{task_id}.log"),
    )


def test_the_worker_refuses_a_job_planned_with_other_code_unless_told_not_to_check(tmp_path):
    from ledgerflow.engine.runtime.worker import execute

    dags = make_dags(tmp_path, "pychain")
    actual = hashlib.sha256((dags.folder / "pychain.py").read_bytes()).hexdigest()
    other = "0" * 64
    refused = execute(_job(dags, "pychain", "a", other, check=True))
    assert refused.state == "refused"
    assert "changed since the command planned" in refused.error
    assert dags.executions() == []
    allowed = execute(_job(dags, "pychain", "a", other, check=False))
    assert (allowed.state, allowed.error, allowed.fingerprint) == ("success", None, actual)
    assert dags.executions() == [("a", "2024-01-01")]
    same = execute(_job(dags, "pychain", "b", actual, check=True))
    assert (same.state, same.fingerprint) == ("success", actual)


# -- -S/--subdir ---------------------------------------------------------------------------------


def test_subdir_names_the_dag_folder_or_file_instead_of_the_configured_one(tmp_path, monkeypatch):
    dags = make_dags(tmp_path, "pychain")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("LEDGERFLOW_DAGS_FOLDER", str(elsewhere))
    missing = cli("dags", "backfill", "pychain", "-s", "2024-01-01")
    assert missing.exit_code == 2, missing.output
    assert "pychain" in missing.output
    by_folder = cli("dags", "backfill", "pychain", "-s", "2024-01-01", "-S", str(dags.folder))
    assert by_folder.exit_code == 0, by_folder.output
    by_file = cli("dags", "backfill", "pychain", "-s", "2024-01-02", "--subdir", str(dags.folder / "pychain.py"))
    assert by_file.exit_code == 0, by_file.output
    assert run_states("pychain") == {"2024-01-01": "success", "2024-01-02": "success"}


def test_without_subdir_the_dags_folder_setting_is_used(tmp_path, monkeypatch):
    dags = make_dags(tmp_path, "pychain")
    monkeypatch.setenv("LEDGERFLOW_DAGS_FOLDER", str(dags.folder))
    result = cli("dags", "backfill", "pychain", "-s", "2024-01-01")
    assert result.exit_code == 0, result.output
    assert len(dags.executions()) == 3


# -- --reason, --actor ---------------------------------------------------------------------------


def test_reason_and_actor_are_recorded_on_the_operation_and_every_event_it_caused(tmp_path, database_url):
    dags = make_dags(tmp_path, "pychain")
    result = backfill(
        dags,
        "pychain",
        "-s",
        "2024-01-01",
        "-e",
        "2024-01-02",
        "--reason",
        "restate after the vendor fix",
        "--actor",
        "alice",
    )
    assert result.exit_code == 0, result.output
    recorded = events(database_url)
    (started,) = [e for e in recorded if e["topic"].endswith("Operation.Started")]
    assert (started["name"], started["actor"], started["reason"]) == (
        "dags backfill",
        "alice",
        "restate after the vendor fix",
    )
    assert started["arguments"]["dag_id"] == "pychain"
    run_events = [e for e in recorded if "DagRun" in e["topic"]]
    assert len(run_events) >= 2 + 6
    assert {(e["actor"], e["reason"], e["operation"]) for e in run_events} == {
        ("alice", "restate after the vendor fix", "dags backfill")
    }
    assert {e["operation_id"] for e in run_events} == {str(started["originator_id"])}
    (ended,) = [e for e in recorded if e["topic"].endswith("Operation.Ended")]
    assert ended["outcome"] == "success"


def test_without_actor_the_configured_actor_is_recorded_and_the_reason_is_empty(tmp_path, database_url):
    dags = make_dags(tmp_path, "pychain")
    assert backfill(dags, "pychain", "-s", "2024-01-01").exit_code == 0
    run_events = [e for e in events(database_url) if "DagRun" in e["topic"]]
    assert {(e["actor"], e["reason"]) for e in run_events} == {("tester", None)}
