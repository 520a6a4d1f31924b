"""depends_on_past and wait_for_downstream: blocked reports, up-front refusals, -I (section 7, 41-46)."""

from __future__ import annotations

import pytest
from dagfiles import (
    backfill,
    event_count,
    make_dags,
    run_states,
    runs,
    seed_run,
    spawn_backfill,
    states,
)

pytestmark = pytest.mark.usefixtures("sequential_executor")


def _p_failed_on_the_5th(tmp_path):
    dags = make_dags(tmp_path, "dop")
    dags.fail("p", "2024-01-05")
    result = backfill(dags, "dop", "-s", "2024-01-05", "-e", "2024-01-06")
    assert result.exit_code == 1, result.output
    return dags, result


def test_a_failed_previous_run_blocks_depends_on_past_and_leaves_the_run_queued(tmp_path, database_url):
    dags = make_dags(tmp_path, "dop")
    dags.fail("p", "2024-01-05")
    proc = spawn_backfill(dags, database_url, "dop", "-s", "2024-01-05", "-e", "2024-01-06")
    out, err = proc.communicate(timeout=60)  # blocked work is reported, never waited on forever
    assert proc.returncode == 1, out + err
    assert "p @ 2024-01-06 blocked: depends_on_past, previous run 2024-01-05 is failed" in out
    assert "q @ 2024-01-06 blocked" in out
    table = out.split("Some task instances failed:")[1]
    failed_rows = [line for line in table.splitlines() if "backfill__" in line]
    assert [row.split("│")[2].strip() for row in failed_rows] == ["p", "q"]
    assert all("2024-01-05" in row for row in failed_rows)
    assert run_states("dop") == {"2024-01-05": "failed", "2024-01-06": "queued"}
    assert states("dop") == {
        ("p", "2024-01-05"): "failed",
        ("q", "2024-01-05"): "upstream_failed",
        ("p", "2024-01-06"): None,
        ("q", "2024-01-06"): None,
    }
    assert dags.executions() == [("p", "2024-01-05")]


def test_a_first_run_whose_previous_run_failed_the_task_is_refused_up_front_naming_it(tmp_path, database_url):
    dags, _ = _p_failed_on_the_5th(tmp_path)
    dags.forget()
    before = event_count(database_url)
    result = backfill(dags, "dop", "-s", "2024-01-06")
    assert result.exit_code == 2, result.output
    assert "p @ 2024-01-06" in result.output
    assert "previous run 2024-01-05 is failed" in result.output
    assert "-I" in result.output
    assert event_count(database_url) == before
    assert dags.executions() == []


def test_an_off_schedule_start_is_checked_against_the_run_before_its_first_date(tmp_path, database_url):
    dags, _ = _p_failed_on_the_5th(tmp_path)
    before = event_count(database_url)
    result = backfill(dags, "dop", "-s", "2024-01-05T12:00", "-e", "2024-01-06")
    assert result.exit_code == 2, result.output
    assert "previous run 2024-01-05 is failed" in result.output
    assert event_count(database_url) == before


def test_ignore_first_depends_on_past_waives_the_check_for_the_first_run(tmp_path):
    dags, _ = _p_failed_on_the_5th(tmp_path)
    dags.forget()
    result = backfill(dags, "dop", "-s", "2024-01-06", "-I")
    assert result.exit_code == 0, result.output
    assert dags.executions() == [("p", "2024-01-06"), ("q", "2024-01-06")]
    assert run_states("dop") == {"2024-01-05": "failed", "2024-01-06": "success"}


def test_ignore_first_depends_on_past_waives_only_the_first_run(tmp_path):
    dags = make_dags(tmp_path, "dop")
    seed_run(
        dags,
        "dop",
        "2024-01-04",
        run_type="backfill",
        state="failed",
        ti_states={"p": "failed", "q": "upstream_failed"},
    )
    dags.fail("p", "2024-01-05")
    result = backfill(dags, "dop", "-s", "2024-01-05", "-e", "2024-01-06", "-I")
    assert result.exit_code == 1, result.output
    assert dags.executions() == [("p", "2024-01-05")]
    assert "p @ 2024-01-06 blocked: depends_on_past, previous run 2024-01-05 is failed" in result.output
    assert run_states("dop")["2024-01-06"] == "queued"


def test_ignore_dependencies_also_ignores_depends_on_past(tmp_path):
    dags, _ = _p_failed_on_the_5th(tmp_path)
    dags.forget()
    result = backfill(dags, "dop", "-s", "2024-01-06", "-i")
    assert result.exit_code == 0, result.output
    assert sorted(dags.executions()) == [("p", "2024-01-06"), ("q", "2024-01-06")]


def test_fixing_the_failed_run_lets_the_same_range_finish_the_blocked_run(tmp_path):
    dags, _ = _p_failed_on_the_5th(tmp_path)
    dags.heal("p", "2024-01-05")
    dags.forget()
    result = backfill(dags, "dop", "-s", "2024-01-05", "-e", "2024-01-06", "--rerun-failed-tasks")
    assert result.exit_code == 0, result.output
    ran = dags.executions()
    assert sorted(ran) == [("p", "2024-01-05"), ("p", "2024-01-06"), ("q", "2024-01-05"), ("q", "2024-01-06")]
    assert ran.index(("p", "2024-01-05")) < ran.index(("p", "2024-01-06"))
    assert run_states("dop") == {"2024-01-05": "success", "2024-01-06": "success"}


def test_with_no_previous_run_at_all_the_first_run_passes(tmp_path):
    dags = make_dags(tmp_path, "dop")
    result = backfill(dags, "dop", "-s", "2024-01-05", "-e", "2024-01-07")
    assert result.exit_code == 0, result.output
    assert [d for t, d in dags.executions() if t == "p"] == ["2024-01-05", "2024-01-06", "2024-01-07"]
    assert set(run_states("dop").values()) == {"success"}


def test_wait_for_downstream_blocks_the_next_run_until_the_direct_child_succeeded(tmp_path):
    dags = make_dags(tmp_path, "wfd")
    dags.fail("y", "2024-01-01")
    result = backfill(dags, "wfd", "-s", "2024-01-01", "-e", "2024-01-02")
    assert result.exit_code == 1, result.output
    assert dags.executions() == [("x", "2024-01-01"), ("y", "2024-01-01")]
    assert "x @ 2024-01-02 blocked: wait_for_downstream, y in previous run 2024-01-01 is failed" in result.output
    assert states("wfd")["x", "2024-01-02"] is None
    assert run_states("wfd") == {"2024-01-01": "failed", "2024-01-02": "queued"}


def test_wait_for_downstream_runs_the_next_run_after_the_previous_child_succeeded(tmp_path):
    dags = make_dags(tmp_path, "wfd")
    result = backfill(dags, "wfd", "-s", "2024-01-01", "-e", "2024-01-02")
    assert result.exit_code == 0, result.output
    ran = dags.executions()
    assert ran.index(("y", "2024-01-01")) < ran.index(("x", "2024-01-02"))


def _manual_failure_between_successes(dags, dag_id):
    seed_run(
        dags, dag_id, "2024-01-08", run_type="backfill", state="success", ti_states={"p": "success", "q": "success"}
    )
    seed_run(
        dags,
        dag_id,
        "2024-01-09",
        run_type="manual",
        state="failed",
        ti_states={"p": "failed", "q": "upstream_failed"},
        run_id="manual_0109",
    )


def test_with_catchup_a_manual_run_is_not_the_previous_run(tmp_path):
    dags = make_dags(tmp_path, "dop")
    _manual_failure_between_successes(dags, "dop")
    result = backfill(dags, "dop", "-s", "2024-01-10")
    assert result.exit_code == 0, result.output
    assert dags.executions() == [("p", "2024-01-10"), ("q", "2024-01-10")]


def test_without_catchup_a_manual_run_is_the_previous_run(tmp_path, database_url):
    dags = make_dags(tmp_path, "dop_nocatchup")
    _manual_failure_between_successes(dags, "dop_nocatchup")
    before = event_count(database_url)
    result = backfill(dags, "dop_nocatchup", "-s", "2024-01-10")
    assert result.exit_code == 2, result.output
    assert "previous run 2024-01-09 is failed" in result.output
    assert event_count(database_url) == before
    assert dags.executions() == []


def test_a_task_new_to_the_dag_passes_when_it_never_ran_before(tmp_path):
    dags = make_dags(tmp_path, "dop")
    assert backfill(dags, "dop", "-s", "2024-01-01", "-t", "^q$", "-i").exit_code == 0
    result = backfill(dags, "dop", "-s", "2024-01-02")
    assert result.exit_code == 0, result.output
    assert ("p", "2024-01-02") in dags.executions()
    assert states("dop")["p", "2024-01-02"] == "success"


def test_a_previous_run_without_the_task_blocks_it_when_an_older_run_had_it(tmp_path, database_url):
    dags = make_dags(tmp_path, "dop")
    assert backfill(dags, "dop", "-s", "2024-01-01").exit_code == 0
    assert backfill(dags, "dop", "-s", "2024-01-02", "-t", "^q$", "-i").exit_code == 0
    before = event_count(database_url)
    result = backfill(dags, "dop", "-s", "2024-01-03")
    assert result.exit_code == 2, result.output
    assert "previous run 2024-01-02 has no p" in result.output
    assert event_count(database_url) == before
    assert [r["logical_date"][:10] for r in runs("dop")] == ["2024-01-01", "2024-01-02"]
