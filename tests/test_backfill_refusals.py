"""Everything a backfill refuses up front: exit 2, a clear message, and not one event written."""

from __future__ import annotations

import pytest
from dagfiles import backfill, event_count, make_dags, runs, seed_run

pytestmark = pytest.mark.usefixtures("sequential_executor")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "provide a start date"),
        (("-s", "notadate"), "notadate"),
        (("-s", "2024-01-01", "-e", "2024-13-45"), "2024-13-45"),
        (("-s", "2024-01-01", "--delay-on-limit", "abc"), "--delay-on-limit"),
        (("-s", "2024-01-01", "--delay-on-limit", "-1"), "--delay-on-limit"),
        (("-s", "2024-01-01", "-c", "{bad"), "invalid JSON"),
        (("-s", "2024-01-01", "-c", "[1, 2]"), "JSON object"),
        (("-s", "2024-01-01", "-c", "7"), "JSON object"),
        (("-s", "2024-01-01", "-t", "zzz"), "zzz"),
        (("-s", "2024-01-01", "-t", "(unclosed"), "(unclosed"),
        (("-s", "2024-01-01", "--pool", "nosuchpool"), "nosuchpool"),
    ],
    ids=[
        "no-dates",
        "bad-start",
        "bad-end",
        "delay-not-a-number",
        "negative-delay",
        "bad-json",
        "json-array",
        "json-number",
        "no-task-matches",
        "bad-regex",
        "unknown-pool",
    ],
)
def test_invalid_input_is_refused_with_exit_2_and_nothing_written(tmp_path, database_url, args, message):
    dags = make_dags(tmp_path, "pychain")
    result = backfill(dags, "pychain", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert event_count(database_url) == 0
    assert dags.executions() == []


def test_an_unknown_dag_is_refused_with_exit_2(tmp_path, database_url):
    dags = make_dags(tmp_path, "pychain")
    result = backfill(dags, "nosuchdag", "-s", "2024-01-01")
    assert result.exit_code == 2, result.output
    assert "nosuchdag" in result.output
    assert event_count(database_url) == 0


def test_a_task_whose_own_pool_does_not_exist_is_refused_naming_the_pool(tmp_path, database_url):
    dags = make_dags(tmp_path, "king")
    result = backfill(dags, "king", "-s", "2024-01-01")
    assert result.exit_code == 2, result.output
    assert "king_pool" in result.output
    assert event_count(database_url) == 0
    assert dags.executions() == []


def test_running_backwards_is_refused_naming_the_tasks_that_depend_on_the_past(tmp_path, database_url):
    dags = make_dags(tmp_path, "dop")
    result = backfill(dags, "dop", "-s", "2024-01-01", "-e", "2024-01-02", "-B")
    assert result.exit_code == 2, result.output
    assert "depend on the past: p" in result.output
    assert runs("dop", "-S", str(dags.folder)) == []  # a DAG file, no history: no rows
    assert event_count(database_url) == 0


def test_running_backwards_is_refused_when_a_selected_tasks_upstream_depends_on_the_past(tmp_path, database_url):
    dags = make_dags(tmp_path, "dop")
    result = backfill(dags, "dop", "-s", "2024-01-01", "-e", "2024-01-02", "-B", "-t", "^q$")
    assert result.exit_code == 2, result.output
    assert "p" in result.output.split("depend on the past:")[1]
    assert event_count(database_url) == 0


@pytest.mark.parametrize("run_type", ["manual", "scheduled"])
def test_a_running_scheduler_run_in_the_range_refuses_the_whole_backfill(tmp_path, database_url, run_type):
    dags = make_dags(tmp_path, "pychain")
    seed_run(
        dags,
        "pychain",
        "2024-01-20",
        run_type=run_type,
        state="running",
        ti_states={"a": "running"},
        run_id=f"{run_type}_run_0120",
    )
    before = event_count(database_url)
    result = backfill(dags, "pychain", "-s", "2024-01-19", "-e", "2024-01-21")
    assert result.exit_code == 2, result.output
    assert f"{run_type}_run_0120" in result.output
    assert event_count(database_url) == before
    assert [(r["run_id"], r["state"], r["run_type"]) for r in runs("pychain")] == [
        (f"{run_type}_run_0120", "running", run_type)
    ]
    assert dags.executions() == []


def test_a_mutating_backfill_without_a_reason_is_refused_when_reasons_are_required(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_REQUIRE_REASON", "1")
    dags = make_dags(tmp_path, "pychain")
    refused = backfill(dags, "pychain", "-s", "2024-01-01")
    assert refused.exit_code == 2, refused.output
    assert "--reason" in refused.output
    assert event_count(database_url) == 0
    dry = backfill(dags, "pychain", "-s", "2024-01-01", "-n")
    assert dry.exit_code == 0, dry.output
    done = backfill(dags, "pychain", "-s", "2024-01-01", "--reason", "restate January")
    assert done.exit_code == 0, done.output
    assert len(dags.executions()) == 3
