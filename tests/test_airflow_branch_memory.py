"""A branch's choice holds after a clear of what it skipped; LatestOnly skips outside the latest
interval; get_current_context() answers inside a running task."""

from __future__ import annotations

import pytest
from airflow_corpus import backfill, by_day, dag_folder, returns, states
from cli_runner import cli

pytestmark = pytest.mark.usefixtures("database_url")


def test_a_task_the_branch_did_not_follow_is_skipped_again_after_a_clear(tmp_path):
    folder = dag_folder(tmp_path, "branching")
    assert backfill(folder, "branching", "-s", "2024-01-05").exit_code == 0
    cleared = cli("tasks", "clear", "branching", "-S", str(folder), "-t", "^(weekend|weekday)$", "-s", "2024-01-05",
                  "-e", "2024-01-05", "-y")
    assert cleared.exit_code == 0, cleared.output
    assert backfill(folder, "branching", "-s", "2024-01-05").exit_code == 0
    found = by_day(states("branching"))
    assert (found["weekday", "2024-01-05"], found["weekend", "2024-01-05"]) == ("success", "skipped")


def test_latest_only_skips_its_downstream_in_a_past_interval(tmp_path):
    folder = dag_folder(tmp_path, "latest_only")
    assert backfill(folder, "latest_only", "-s", "2024-01-05").exit_code == 0
    assert by_day(states("latest_only")) == {("latest_only", "2024-01-05"): "success",
                                             ("notify", "2024-01-05"): "skipped"}


def test_get_current_context_answers_inside_a_running_task(tmp_path):
    folder = dag_folder(tmp_path, "latest_only")
    assert backfill(folder, "current_context", "-s", "2024-01-05").exit_code == 0
    assert returns("current_context") == {("probe", "2024-01-05"): ["2024-01-05", "probe"]}
