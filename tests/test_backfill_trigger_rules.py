"""Trigger rules, skipped/upstream_failed propagation, retries (section 3.4, 3.5; section 7, 37-38, 47-49)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dagfiles import backfill, make_dags, run_states, spans, states, ti_changes, ti_map

pytestmark = pytest.mark.usefixtures("sequential_executor")


def _final(dag_id: str) -> dict[str, str | None]:
    return {task: state for (task, _), state in states(dag_id).items()}


def test_one_task_per_trigger_rule_ends_as_airflow_observed_with_a_failing_and_a_succeeding_upstream(tmp_path):
    dags = make_dags(tmp_path, "d_trig")
    dags.fail("bad", "2024-01-01")
    result = backfill(dags, "d_trig", "-s", "2024-01-01")
    assert result.exit_code == 1, result.output
    assert _final("d_trig") == {
        "bad": "failed",
        "good": "success",
        "all_success": "upstream_failed",
        "after": "upstream_failed",
        "all_failed": "skipped",
        "all_done": "success",
        "one_success": "success",
        "one_failed": "success",
        "one_done": "success",
        "none_failed": "upstream_failed",
        "none_failed_min_one_success": "upstream_failed",
        "none_skipped": "success",
        "all_skipped": "skipped",
        "always": "success",
    }
    assert sorted(t for t, _ in dags.executions()) == sorted(
        ["bad", "good", "all_done", "one_success", "one_failed", "one_done", "none_skipped", "always"]
    )
    assert run_states("d_trig") == {"2024-01-01": "failed"}
    table = result.output.split("Some task instances failed:")[1]
    listed = sorted(line.split("│")[2].strip() for line in table.splitlines() if "backfill__" in line)
    assert listed == sorted(["bad", "all_success", "after", "none_failed", "none_failed_min_one_success"])


def test_skipped_upstreams_propagate_and_min_one_success_needs_a_success(tmp_path):
    dags = make_dags(tmp_path, "d_skip")
    result = backfill(dags, "d_skip", "-s", "2024-01-01")
    assert result.exit_code == 0, result.output
    assert _final("d_skip") == {
        "good": "success",
        "s1": "skipped",
        "s2": "skipped",
        "one_success_all_skipped": "skipped",
        "nfmos_all_skipped": "skipped",
        "nfmos_one_success": "success",
        "none_skipped": "skipped",
        "all_success_after_skip": "skipped",
        "grandchild": "skipped",
        "all_skipped": "success",
    }
    assert sorted(t for t, _ in dags.executions()) == ["all_skipped", "good", "nfmos_one_success"]
    assert run_states("d_skip") == {"2024-01-01": "success"}
    assert "Some task instances failed" not in result.output


def test_an_always_task_starts_without_waiting_for_its_running_upstream(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "local")
    monkeypatch.setenv("LEDGERFLOW_PARALLELISM", "4")
    dags = make_dags(tmp_path, "d_always")
    result = backfill(dags, "d_always", "-s", "2024-01-01")
    assert result.exit_code == 0, result.output
    by_task = {line.split(" ")[1]: None for line in dags.lines()}
    assert set(by_task) == {"long", "eager"}
    starts = {line.split(" ")[1]: float(line.split(" ")[3]) for line in dags.lines() if line.startswith("start")}
    ends = {line.split(" ")[1]: float(line.split(" ")[3]) for line in dags.lines() if line.startswith("end")}
    assert starts["eager"] < ends["long"]
    assert len(spans(dags.lines())) == 2


def test_a_task_with_one_retry_succeeds_on_its_second_try_after_the_retry_delay(tmp_path, database_url):
    dags = make_dags(tmp_path, "retry")
    result = backfill(dags, "retry", "-s", "2024-01-01")
    assert result.exit_code == 1, result.output
    found = ti_map("retry")
    assert (found["flaky", "2024-01-01"]["state"], found["flaky", "2024-01-01"]["try_number"]) == ("success", 2)
    assert [(found["always_fails", "2024-01-01"][k]) for k in ("state", "try_number", "max_tries")] == ["failed", 2, 1]
    assert run_states("retry") == {"2024-01-01": "failed"}
    assert sorted(t for t, _ in dags.executions()) == ["always_fails", "always_fails", "flaky", "flaky"]
    history = [c for c in ti_changes(database_url, "retry") if c["task_id"] == "always_fails"]
    assert [(c["to"], c["try_number"]) for c in history] == [
        ("running", 1),
        ("up_for_retry", 1),
        ("running", 2),
        ("failed", 2),
    ]
    assert history[2]["at"] - history[1]["at"] >= timedelta(seconds=1)
    table = result.output.split("Some task instances failed:")[1]
    assert [line.split("│")[2].strip() for line in table.splitlines() if "backfill__" in line] == ["always_fails"]


def test_rerunning_a_task_that_used_up_its_retries_gives_exactly_one_more_try(tmp_path):
    dags = make_dags(tmp_path, "retry")
    assert backfill(dags, "retry", "-s", "2024-01-01").exit_code == 1
    dags.forget()
    result = backfill(dags, "retry", "-s", "2024-01-01", "--rerun-failed-tasks")
    assert result.exit_code == 1, result.output
    assert dags.executions() == [("always_fails", "2024-01-01")]
    found = ti_map("retry")
    assert [(found["always_fails", "2024-01-01"][k]) for k in ("state", "try_number", "max_tries")] == ["failed", 3, 1]
    assert found["flaky", "2024-01-01"]["try_number"] == 2
