"""`dags backfill` flags for the tasks: which are executed, which only listed or marked
(-n, -i, -t, -m); one test (at least) per flag, each failing if the flag were ignored."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dagfiles import backfill, cli, event_count, make_dags, run_states, runs, ti_changes, ti_map

pytestmark = pytest.mark.usefixtures("sequential_executor")


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
    assert runs("chain", "-S", str(dags.folder)) == []  # a DAG file, no history: no rows
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
