"""One test (at least) per `dags backfill` flag, each failing if the flag were ignored."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dagfiles import (
    backfill,
    cli,
    event_count,
    events,
    finish_run,
    make_dags,
    run_states,
    runs,
    seed_run,
    spawn_backfill,
    ti_changes,
    ti_map,
)

pytestmark = pytest.mark.usefixtures("sequential_executor")


# -- -c/--conf ---------------------------------------------------------------------------------


def test_conf_is_stored_on_new_runs_and_templates_see_it_as_dag_run_conf_and_as_params(tmp_path):
    dags = make_dags(tmp_path, "templ")
    result = backfill(dags, "templ", "-s", "2024-01-01", "-e", "2024-01-02", "-c", '{"who": "alice"}')
    assert result.exit_code == 0, result.output
    assert dags.lines() == [
        '2024-01-01 who=alice n=5 conf={"who": "alice"}',
        '2024-01-02 who=alice n=5 conf={"who": "alice"}',
    ]
    assert [r["conf"] for r in runs("templ")] == [{"who": "alice"}, {"who": "alice"}]


def test_without_conf_templates_see_the_dags_params_and_an_empty_conf(tmp_path):
    dags = make_dags(tmp_path, "templ")
    assert backfill(dags, "templ", "-s", "2024-01-01").exit_code == 0
    assert dags.lines() == ["2024-01-01 who=nobody n=5 conf={}"]
    assert [r["conf"] for r in runs("templ")] == [{}]


# -- --continue-on-failures, --delay-on-limit (max_active_runs=1) ------------------------------


def test_without_continue_on_failures_a_failure_stops_later_dates_from_starting(tmp_path):
    dags = make_dags(tmp_path, "mar1")
    dags.fail("t", "2024-01-01")
    result = backfill(dags, "mar1", "-s", "2024-01-01", "-e", "2024-01-03")
    assert result.exit_code == 1, result.output
    assert run_states("mar1") == {"2024-01-01": "failed"}
    assert dags.executions() == [("t", "2024-01-01")]
    assert "Not started" in result.output and "2024-01-02" in result.output


def test_continue_on_failures_starts_the_later_dates_but_still_exits_1(tmp_path):
    dags = make_dags(tmp_path, "mar1")
    dags.fail("t", "2024-01-11")
    result = backfill(dags, "mar1", "-s", "2024-01-11", "-e", "2024-01-13", "--continue-on-failures")
    assert result.exit_code == 1, result.output
    assert run_states("mar1") == {"2024-01-11": "failed", "2024-01-12": "success", "2024-01-13": "success"}
    assert dags.executions() == [("t", "2024-01-11"), ("t", "2024-01-12"), ("t", "2024-01-13")]
    assert "Some task instances failed:" in result.output


def test_max_active_runs_one_drives_one_run_at_a_time_in_date_order(tmp_path, database_url):
    dags = make_dags(tmp_path, "mar1")
    assert backfill(dags, "mar1", "-s", "2024-01-01", "-e", "2024-01-03").exit_code == 0
    # A run is only started once the previous one finished: its state change comes later.
    order = [
        (e["kind"], e.get("logical_date", "")[:10], e.get("to_state"))
        for e in events(database_url)
        if e["kind"] in ("Created", "StateChanged") and "DagRun" in e["topic"]
    ]
    created = [i for i, o in enumerate(order) if o[0] == "Created"]
    finished = [i for i, o in enumerate(order) if o[2] == "success"]
    assert len(created) == len(finished) == 3
    assert created[1] > finished[0] and created[2] > finished[1]


def _foreign_running_run(dags, run_type="scheduled"):
    seed_run(
        dags,
        "mar1",
        "2023-12-25",
        run_type=run_type,
        state="running",
        ti_states={"t": "running"},
        run_id=f"{run_type}__2023-12-25T00:00:00+00:00",
    )


def test_a_slot_held_by_a_foreign_scheduled_run_makes_the_backfill_give_up_after_waiting(tmp_path, database_url):
    dags = make_dags(tmp_path, "mar1")
    _foreign_running_run(dags)
    started = time.monotonic()
    fast = backfill(dags, "mar1", "-s", "2024-01-01", "--delay-on-limit", "0.02")
    fast_elapsed = time.monotonic() - started
    assert fast.exit_code == 1, fast.output
    assert "scheduled__2023-12-25T00:00:00+00:00" in fast.output
    assert "max_active_runs" in fast.output
    assert [r["logical_date"][:10] for r in runs("mar1")] == ["2023-12-25"]
    assert dags.executions() == []

    proc = spawn_backfill(dags, database_url, "mar1", "-s", "2024-01-01", "--delay-on-limit", "0.2")
    started = time.monotonic()
    out, err = proc.communicate(timeout=60)  # it must give up on its own, never hang
    slow_elapsed = time.monotonic() - started
    assert proc.returncode == 1, out + err
    waits = [line for line in err.splitlines() if "waiting 0.2s" in line]
    assert len(waits) >= 2
    assert slow_elapsed >= 0.2 * len(waits) * 0.9
    assert slow_elapsed - fast_elapsed >= (0.2 - 0.02) * len(waits) * 0.8
    assert "max_active_runs" in out + err
    assert [r["logical_date"][:10] for r in runs("mar1")] == ["2023-12-25"]


def test_the_backfill_waits_for_a_held_slot_and_runs_once_it_is_released(tmp_path, database_url):
    dags = make_dags(tmp_path, "mar1")
    _foreign_running_run(dags)
    proc = spawn_backfill(dags, database_url, "mar1", "-s", "2024-01-01", "--delay-on-limit", "0.3")
    first = proc.stderr.readline()
    assert "scheduled__2023-12-25T00:00:00+00:00" in first and "waiting 0.3s" in first, first
    finish_run("mar1", "2023-12-25")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err
    assert run_states("mar1") == {"2023-12-25": "success", "2024-01-01": "success"}
    assert dags.executions() == [("t", "2024-01-01")]


def test_a_backfill_run_left_running_by_a_killed_backfill_holds_the_slot_and_is_named(tmp_path):
    dags = make_dags(tmp_path, "mar1")
    _foreign_running_run(dags, run_type="backfill")
    result = backfill(dags, "mar1", "-s", "2024-01-01", "--delay-on-limit", "0.01")
    assert result.exit_code == 1, result.output
    assert "backfill__2023-12-25T00:00:00+00:00" in result.output
    assert [r["logical_date"][:10] for r in runs("mar1")] == ["2023-12-25"]


def test_a_running_manual_run_does_not_hold_a_max_active_runs_slot(tmp_path):
    dags = make_dags(tmp_path, "mar1")
    _foreign_running_run(dags, run_type="manual")
    result = backfill(dags, "mar1", "-s", "2024-01-01", "--delay-on-limit", "0.02")
    assert result.exit_code == 0, result.output
    assert run_states("mar1")["2024-01-01"] == "success"


# -- -x/--donot-pickle: the DAG code fingerprint ------------------------------------------------


def test_every_try_records_the_sha256_of_the_dag_file_it_ran_with(tmp_path, database_url):
    dags = make_dags(tmp_path, "pychain")
    digest = hashlib.sha256((dags.folder / "pychain.py").read_bytes()).hexdigest()
    assert backfill(dags, "pychain", "-s", "2024-01-01").exit_code == 0
    finished = [c for c in ti_changes(database_url, "pychain") if c["to"] == "success"]
    assert len(finished) == 3
    assert {c["dag_fingerprint"] for c in finished} == {digest}
    assert {e["dag_fingerprint"] for e in events(database_url) if e["kind"] == "Created"} == {digest}


def test_a_worker_refuses_a_dag_file_that_changed_after_planning(tmp_path, database_url):
    dags = make_dags(tmp_path, "selfedit")
    result = backfill(dags, "selfedit", "-s", "2024-01-01")
    assert result.exit_code == 1, result.output
    assert dags.executions() == [("edit", "2024-01-01")]
    states = {k[0]: v["state"] for k, v in ti_map("selfedit").items()}
    assert states == {"edit": "success", "after": "failed"}
    (refused,) = [c for c in ti_changes(database_url, "selfedit") if c["task_id"] == "after" and c["to"] == "failed"]
    assert "changed since the command planned" in refused["error"]


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
    assert refused.state == "failed"
    assert "changed since the command planned" in refused.error
    assert dags.executions() == []
    allowed = execute(_job(dags, "pychain", "a", other, check=False))
    assert (allowed.state, allowed.error, allowed.fingerprint) == ("success", None, actual)
    assert dags.executions() == [("a", "2024-01-01")]
    same = execute(_job(dags, "pychain", "b", actual, check=True))
    assert (same.state, same.fingerprint) == ("success", actual)


# -- -n/--dry-run --------------------------------------------------------------------------------


def test_a_dry_run_prints_each_task_and_date_with_its_rendered_command_and_writes_nothing(tmp_path, database_url):
    dags = make_dags(tmp_path, "chain")
    result = backfill(dags, "chain", "-s", "2024-01-05", "-e", "2024-01-06", "-t", "^b$", "--dry-run")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.count("Dry run of DAG chain on 2024-01-05 00:00:00+00:00") == 1
    located = [line for line in out.splitlines() if line.startswith("Task ")]
    assert located == [
        "Task a located in DAG chain for 2024-01-05",
        "Task b located in DAG chain for 2024-01-05",
        "Task a located in DAG chain for 2024-01-06",
        "Task b located in DAG chain for 2024-01-06",
    ]
    assert f'echo "b 2024-01-06" >> {dags.state}/executions.log' in out
    assert f'echo "a 2024-01-05" >> {dags.state}/executions.log' in out
    assert "{{" not in out
    assert event_count(database_url) == 0
    assert runs("chain") == []
    assert dags.executions() == []


def test_a_dry_run_does_not_apply_reset_dagruns(tmp_path, database_url):
    dags = make_dags(tmp_path, "pychain")
    assert backfill(dags, "pychain", "-s", "2024-01-01").exit_code == 0
    before = event_count(database_url)
    dags.forget()
    result = backfill(dags, "pychain", "-s", "2024-01-01", "-n", "--reset-dagruns", "-y")
    assert result.exit_code == 0, result.output
    assert event_count(database_url) == before
    assert dags.executions() == []


# -- -i/--ignore-dependencies, -t/--task-regex -------------------------------------------------


def test_ignore_dependencies_runs_tasks_whose_upstream_failed_and_the_run_succeeds_but_exits_1(tmp_path):
    dags = make_dags(tmp_path, "chain")
    dags.fail("a", "2024-01-27")
    result = backfill(dags, "chain", "-s", "2024-01-27", "-i")
    assert result.exit_code == 1, result.output
    assert sorted(dags.executions()) == [("a", "2024-01-27"), ("b", "2024-01-27"), ("c", "2024-01-27")]
    assert {k[0]: v["state"] for k, v in ti_map("chain").items()} == {"a": "failed", "b": "success", "c": "success"}
    assert run_states("chain") == {"2024-01-27": "success"}


def test_a_task_regex_runs_the_matching_task_after_its_upstream(tmp_path):
    dags = make_dags(tmp_path, "chain")
    result = backfill(dags, "chain", "-s", "2024-01-25", "-t", "^c$")
    assert result.exit_code == 0, result.output
    assert dags.executions() == [("a", "2024-01-25"), ("b", "2024-01-25"), ("c", "2024-01-25")]


def test_a_task_regex_with_ignore_dependencies_runs_only_the_matching_task(tmp_path):
    dags = make_dags(tmp_path, "chain")
    result = backfill(dags, "chain", "-s", "2024-01-26", "-t", "^c$", "-i")
    assert result.exit_code == 0, result.output
    assert dags.executions() == [("c", "2024-01-26")]
    assert set(ti_map("chain")) == {("c", "2024-01-26")}


@pytest.mark.parametrize("options_first", [True, False], ids=["options-before-dag-id", "options-after-dag-id"])
def test_the_seed_example_backfills_13_hourly_runs_of_some_task_and_its_upstream_only(tmp_path, options_first):
    dags = make_dags(tmp_path, "some_dag")
    dates = ["-s", "2022-09-01T00:10:00", "-e", "2022-09-01T12:10:00"]
    if options_first:
        args = ["dags", "backfill", "-t", "some_task", "some_dag", *dates, "-S", str(dags.folder)]
    else:
        args = ["dags", "backfill", "some_dag", *dates, "-S", str(dags.folder), "-t", "some_task"]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    found = runs("some_dag")
    assert len(found) == 13
    assert [r["logical_date"] for r in found] == [f"2022-09-01T{h:02d}:10:00+00:00" for h in range(13)]
    assert {(r["run_type"], r["state"]) for r in found} == {("backfill", "success")}
    assert {k[0] for k in ti_map("some_dag")} == {"upstream_task", "some_task"}
    ran = dags.executions()
    assert len(ran) == 26
    assert {t for t, _ in ran} == {"upstream_task", "some_task"}


# -- -m/--mark-success ---------------------------------------------------------------------------


def test_mark_success_executes_nothing_and_marks_every_task_success(tmp_path, database_url):
    dags = make_dags(tmp_path, "chain")
    dags.fail("a", "2024-01-15")
    result = backfill(dags, "chain", "-s", "2024-01-15", "-e", "2024-01-16", "-m")
    assert result.exit_code == 0, result.output
    assert dags.executions() == []
    assert not (Path(os.environ["LEDGERFLOW_HOME"]) / "logs").exists()
    assert {(v["state"], v["try_number"]) for v in ti_map("chain").values()} == {("success", 1)}
    assert run_states("chain") == {"2024-01-15": "success", "2024-01-16": "success"}
    marked = [c for c in ti_changes(database_url, "chain") if c["to"] == "success"]
    assert len(marked) == 6 and all(c.get("mark_success") for c in marked)


def test_mark_success_keeps_an_existing_failure_unless_failed_tasks_are_rerun(tmp_path):
    dags = make_dags(tmp_path, "chain")
    dags.fail("b", "2024-01-15")
    assert backfill(dags, "chain", "-s", "2024-01-15").exit_code == 1
    dags.forget()
    kept = backfill(dags, "chain", "-s", "2024-01-15", "-m")
    assert kept.exit_code == 1, kept.output
    assert ti_map("chain")["b", "2024-01-15"]["state"] == "failed"
    rerun = backfill(dags, "chain", "-s", "2024-01-15", "-m", "--rerun-failed-tasks")
    assert rerun.exit_code == 0, rerun.output
    assert {v["state"] for v in ti_map("chain").values()} == {"success"}
    assert dags.executions() == []


# -- -B/--run-backwards --------------------------------------------------------------------------


def test_run_backwards_starts_with_the_newest_date(tmp_path):
    dags = make_dags(tmp_path, "pychain")
    result = backfill(dags, "pychain", "-s", "2024-01-01", "-e", "2024-01-02", "-B")
    assert result.exit_code == 0, result.output
    assert dags.executions() == [
        ("a", "2024-01-02"),
        ("a", "2024-01-01"),
        ("b", "2024-01-02"),
        ("b", "2024-01-01"),
        ("c", "2024-01-02"),
        ("c", "2024-01-01"),
    ]
    assert set(run_states("pychain").values()) == {"success"}


def test_run_backwards_is_allowed_when_the_selected_tasks_do_not_depend_on_the_past(tmp_path):
    dags = make_dags(tmp_path, "dop")
    result = backfill(dags, "dop", "-s", "2024-01-01", "-e", "2024-01-02", "-B", "-t", "^q$", "-i")
    assert result.exit_code == 0, result.output
    assert dags.executions() == [("q", "2024-01-02"), ("q", "2024-01-01")]


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


# -- -v/--verbose --------------------------------------------------------------------------------


def test_verbose_prints_the_decision_taken_for_every_date(tmp_path):
    dags = make_dags(tmp_path, "chain")
    dags.fail("b", "2024-01-02")
    backfill(dags, "chain", "-s", "2024-01-01", "-e", "2024-01-02")
    quiet = backfill(dags, "chain", "-s", "2024-01-01", "-e", "2024-01-03")
    assert "2024-01-03: create backfill run" not in quiet.output
    loud = backfill(dags, "chain", "-s", "2024-01-01", "-e", "2024-01-04", "-v")
    lines = [line.strip() for line in loud.output.splitlines()]
    assert "2024-01-01: adopt backfill__2024-01-01T00:00:00+00:00 (backfill, success)" in lines
    assert any(
        line.startswith("2024-01-02: adopt backfill__2024-01-02T00:00:00+00:00 (backfill, failed)")
        and "failed b, c kept" in line
        for line in lines
    )
    assert "2024-01-04: create backfill run" in lines
    assert any(line.startswith("Plan: 4 run(s), 1 to create, 3 to adopt") for line in lines)


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
