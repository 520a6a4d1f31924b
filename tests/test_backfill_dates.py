"""Which logical dates a backfill covers: -s/-e, alignment, cron schedules (section 7, 8-17)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dagfiles import backfill, event_count, make_dags, run_states, runs, tis

pytestmark = pytest.mark.usefixtures("sequential_executor")


def test_a_three_day_backfill_creates_three_successful_backfill_runs_each_task_tried_once(tmp_path):
    dags = make_dags(tmp_path, "chain")
    result = backfill(dags, "chain", "-s", "2024-01-01", "-e", "2024-01-03")
    assert result.exit_code == 0, result.output
    assert "Backfill done for DAG chain: 3 of 3 run(s) finished" in result.output
    found = runs("chain")
    assert [r["run_id"] for r in found] == [f"backfill__2024-01-0{d}T00:00:00+00:00" for d in (1, 2, 3)]
    assert {(r["run_type"], r["state"], str(r["conf"])) for r in found} == {("backfill", "success", "{}")}
    assert [(r["data_interval_start"], r["data_interval_end"]) for r in found][-1] == (
        "2024-01-03T00:00:00+00:00",
        "2024-01-04T00:00:00+00:00",
    )
    instances = tis("chain")
    assert len(instances) == 9
    assert {(t["state"], t["try_number"], t["max_tries"]) for t in instances} == {("success", 1, 0)}


def test_tasks_run_in_dependency_order_across_all_runs_breadth_first(tmp_path):
    dags = make_dags(tmp_path, "chain")
    assert backfill(dags, "chain", "-s", "2024-01-01", "-e", "2024-01-03").exit_code == 0
    assert dags.executions() == [(t, f"2024-01-0{d}") for t in "abc" for d in (1, 2, 3)]


@pytest.mark.parametrize("flag", ["-s", "-e"])
def test_a_start_or_an_end_date_alone_backfills_exactly_that_one_date(tmp_path, flag):
    dags = make_dags(tmp_path, "pychain")
    result = backfill(dags, "pychain", flag, "2024-01-04")
    assert result.exit_code == 0, result.output
    assert run_states("pychain") == {"2024-01-04": "success"}
    assert sorted(dags.executions()) == [("a", "2024-01-04"), ("b", "2024-01-04"), ("c", "2024-01-04")]


def test_an_off_schedule_start_aligns_forward_to_the_next_schedule_point(tmp_path):
    dags = make_dags(tmp_path, "pychain")
    result = backfill(dags, "pychain", "-s", "2024-01-04T00:00:01", "-e", "2024-01-05")
    assert result.exit_code == 0, result.output
    assert run_states("pychain") == {"2024-01-05": "success"}


def test_the_end_date_is_inclusive_even_though_its_interval_ends_after_it(tmp_path):
    dags = make_dags(tmp_path, "pychain")
    assert backfill(dags, "pychain", "-s", "2024-01-02T12:00", "-e", "2024-01-03T00:00:00").exit_code == 0
    (only,) = runs("pychain")
    assert (only["logical_date"], only["data_interval_end"]) == (
        "2024-01-03T00:00:00+00:00",
        "2024-01-04T00:00:00+00:00",
    )


def test_a_cron_schedule_creates_runs_at_its_own_points_with_intervals_to_the_next_point(tmp_path):
    dags = make_dags(tmp_path, "cron6")
    result = backfill(dags, "cron6", "-s", "2024-01-01", "-e", "2024-01-03")
    assert result.exit_code == 0, result.output
    assert [(r["logical_date"], r["data_interval_start"], r["data_interval_end"]) for r in runs("cron6")] == [
        ("2024-01-01T06:00:00+00:00", "2024-01-01T06:00:00+00:00", "2024-01-02T06:00:00+00:00"),
        ("2024-01-02T06:00:00+00:00", "2024-01-02T06:00:00+00:00", "2024-01-03T06:00:00+00:00"),
    ]


def test_a_day_whose_schedule_point_is_after_the_range_creates_nothing_and_exits_0(tmp_path, database_url):
    dags = make_dags(tmp_path, "cron6")
    result = backfill(dags, "cron6", "-s", "2024-01-02")
    assert result.exit_code == 0, result.output
    assert "No run dates were found" in result.output
    assert runs("cron6", "-S", str(dags.folder)) == []  # a DAG file, no history: no rows
    assert event_count(database_url) == 0
    assert dags.executions() == []


def test_a_start_with_an_offset_is_the_same_instant_in_utc(tmp_path):
    dags = make_dags(tmp_path, "cron6")
    result = backfill(dags, "cron6", "-s", "2024-01-02T07:00:00+01:00")
    assert result.exit_code == 0, result.output
    assert [r["logical_date"] for r in runs("cron6")] == ["2024-01-02T06:00:00+00:00"]
    assert dags.executions() == [("t", "2024-01-02")]


def test_a_date_before_the_dags_start_date_is_backfilled(tmp_path):
    dags = make_dags(tmp_path, "pychain")
    result = backfill(dags, "pychain", "-s", "2023-12-30")
    assert result.exit_code == 0, result.output
    assert run_states("pychain") == {"2023-12-30": "success"}


def test_a_dag_without_a_schedule_has_no_dates_to_backfill_and_exits_0(tmp_path, database_url):
    dags = make_dags(tmp_path, "unscheduled")
    result = backfill(dags, "unscheduled", "-s", "2024-01-01", "-e", "2024-01-05")
    assert result.exit_code == 0, result.output
    assert "No run dates were found" in result.output
    assert runs("unscheduled", "-S", str(dags.folder)) == []  # a DAG file, no history: no rows
    assert event_count(database_url) == 0


def test_an_end_before_the_start_is_refused_with_exit_2_and_nothing_written(tmp_path, database_url):
    dags = make_dags(tmp_path, "pychain")
    result = backfill(dags, "pychain", "-s", "2024-01-06", "-e", "2024-01-04")
    assert result.exit_code == 2, result.output
    assert "before start date" in result.output
    assert event_count(database_url) == 0
    assert dags.executions() == []


def test_a_range_reaching_into_the_future_is_refused_up_front(tmp_path, database_url):
    dags = make_dags(tmp_path, "pychain")
    soon = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d")
    result = backfill(dags, "pychain", "-s", "2024-01-01", "-e", soon)
    assert result.exit_code == 2, result.output
    assert "future" in result.output
    assert event_count(database_url) == 0
    assert dags.executions() == []


def test_naive_dates_are_read_in_the_dags_timezone_and_offsets_are_honoured(tmp_path):
    dags = make_dags(tmp_path, "ams")
    naive = backfill(dags, "ams", "-s", "2024-01-02", "-e", "2024-01-03")
    assert naive.exit_code == 0, naive.output
    assert [r["logical_date"] for r in runs("ams")] == ["2024-01-01T23:00:00+00:00", "2024-01-02T23:00:00+00:00"]
    utc = backfill(dags, "ams", "-s", "2024-01-04T00:00:00Z", "-e", "2024-01-05T00:00:00Z")
    assert utc.exit_code == 0, utc.output
    assert [r["logical_date"] for r in runs("ams")][2:] == ["2024-01-04T23:00:00+00:00"]
