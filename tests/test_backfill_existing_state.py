"""Backfilling over what already exists: kept successes, reported failures, adoption, resets (7: 19-25, 40)."""

from __future__ import annotations

import json

import psycopg
import pytest
from dagfiles import (
    backfill,
    cli,
    event_count,
    events,
    make_dags,
    run_states,
    runs,
    seed_run,
    ti_changes,
    ti_map,
)

pytestmark = pytest.mark.usefixtures("sequential_executor")


def _clear_numbers(database_url: str, dag_id: str) -> dict[str, int]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT logical_date, clear_number FROM dag_run WHERE dag_id = %s", (dag_id,)).fetchall()
    return {r[0].strftime("%Y-%m-%d"): r[1] for r in rows}


def _b_fails_on_the_10th(tmp_path):
    dags = make_dags(tmp_path, "chain")
    dags.fail("b", "2024-01-10")
    first = backfill(dags, "chain", "-s", "2024-01-10", "-e", "2024-01-11")
    return dags, first


def test_rerunning_a_completed_backfill_executes_nothing_and_exits_0(tmp_path):
    dags = make_dags(tmp_path, "chain")
    assert backfill(dags, "chain", "-s", "2024-01-01", "-e", "2024-01-03").exit_code == 0
    dags.forget()
    again = backfill(dags, "chain", "-s", "2024-01-01", "-e", "2024-01-03")
    assert again.exit_code == 0, again.output
    assert dags.executions() == []
    assert set(run_states("chain").values()) == {"success"}
    assert {t["try_number"] for t in ti_map("chain").values()} == {1}


def test_a_failed_task_fails_its_run_marks_its_downstream_upstream_failed_and_exits_1(tmp_path):
    dags, result = _b_fails_on_the_10th(tmp_path)
    assert result.exit_code == 1, result.output
    found = ti_map("chain")
    assert [(found[t, "2024-01-10"]["state"], found[t, "2024-01-10"]["try_number"]) for t in "abc"] == [
        ("success", 1),
        ("failed", 1),
        ("upstream_failed", 0),
    ]
    assert {found[t, "2024-01-11"]["state"] for t in "abc"} == {"success"}
    assert run_states("chain") == {"2024-01-10": "failed", "2024-01-11": "success"}
    assert ("c", "2024-01-10") not in dags.executions()
    table = result.output.split("Some task instances failed:")[1]
    failed_rows = [line for line in table.splitlines() if "backfill__" in line]
    assert len(failed_rows) == 2
    assert all("backfill__2024-01-10" in line for line in failed_rows)
    assert [row.split("│")[2].strip() for row in failed_rows] == ["b", "c"]


def test_rerunning_over_earlier_failures_executes_nothing_and_reports_them_again(tmp_path):
    dags, first = _b_fails_on_the_10th(tmp_path)
    dags.heal("b", "2024-01-10")
    dags.forget()
    again = backfill(dags, "chain", "-s", "2024-01-10", "-e", "2024-01-11")
    assert again.exit_code == 1, again.output
    assert dags.executions() == []
    assert "Some task instances failed:" in again.output
    table = again.output.split("Some task instances failed:")[1]
    assert [line.split("│")[2].strip() for line in table.splitlines() if "backfill__" in line] == ["b", "c"]
    assert run_states("chain") == {"2024-01-10": "failed", "2024-01-11": "success"}


def test_rerun_failed_tasks_reruns_failed_and_upstream_failed_task_instances_only(tmp_path):
    dags, first = _b_fails_on_the_10th(tmp_path)
    dags.heal("b", "2024-01-10")
    dags.forget()
    again = backfill(dags, "chain", "-s", "2024-01-10", "-e", "2024-01-11", "--rerun-failed-tasks")
    assert again.exit_code == 0, again.output
    assert dags.executions() == [("b", "2024-01-10"), ("c", "2024-01-10")]
    found = ti_map("chain")
    assert (found["b", "2024-01-10"]["state"], found["b", "2024-01-10"]["try_number"]) == ("success", 2)
    assert (found["c", "2024-01-10"]["state"], found["c", "2024-01-10"]["try_number"]) == ("success", 1)
    assert found["a", "2024-01-10"]["try_number"] == 1
    assert {t["max_tries"] for t in found.values()} == {0}
    assert run_states("chain") == {"2024-01-10": "success", "2024-01-11": "success"}


def test_a_queued_manual_run_in_range_is_adopted_keeping_its_run_id_run_type_interval_and_conf(tmp_path):
    dags = make_dags(tmp_path, "pychain")
    made = cli("dags", "trigger", "pychain", "-S", str(dags.folder), "-e", "2024-01-20", "-c", '{"orig": 1}')
    assert made.exit_code == 0, made.output
    (before,) = runs("pychain")
    result = backfill(dags, "pychain", "-s", "2024-01-20")
    assert result.exit_code == 0, result.output
    (after,) = runs("pychain")
    assert after == {**before, "state": "success"}
    assert after["run_type"] == "manual"
    assert after["conf"] == {"orig": 1}
    assert sorted(dags.executions()) == [("a", "2024-01-20"), ("b", "2024-01-20"), ("c", "2024-01-20")]


def test_conf_given_to_a_backfill_replaces_an_adopted_runs_conf_through_a_recorded_event(tmp_path, database_url):
    dags = make_dags(tmp_path, "pychain")
    cli("dags", "trigger", "pychain", "-S", str(dags.folder), "-e", "2024-01-20")
    result = backfill(dags, "pychain", "-s", "2024-01-20", "-c", '{"x": 1}', "--reason", "new conf")
    assert result.exit_code == 0, result.output
    (run,) = runs("pychain")
    assert (run["run_id"], run["run_type"], run["conf"], run["state"]) == (
        "manual__2024-01-20T00:00:00+00:00",
        "manual",
        {"x": 1},
        "success",
    )
    adopted = [e for e in events(database_url) if e["kind"] == "Adopted"]
    assert [(e["conf"], e["reason"], e["operation"]) for e in adopted] == [({"x": 1}, "new conf", "dags backfill")]


def test_an_adopted_successful_scheduled_run_is_not_executed_again_and_stays_scheduled(tmp_path):
    dags = make_dags(tmp_path, "pychain")
    seed_run(
        dags,
        "pychain",
        "2024-01-05",
        run_type="scheduled",
        state="success",
        ti_states={"a": "success", "b": "success", "c": "success"},
    )
    result = backfill(dags, "pychain", "-s", "2024-01-05")
    assert result.exit_code == 0, result.output
    assert dags.executions() == []
    (run,) = runs("pychain")
    assert (run["run_id"], run["run_type"], run["state"]) == (
        "scheduled__2024-01-05T00:00:00+00:00",
        "scheduled",
        "success",
    )


def test_task_instances_left_running_or_queued_by_a_dead_process_are_reset_and_run(tmp_path, database_url):
    dags = make_dags(tmp_path, "pychain")
    seed_run(
        dags,
        "pychain",
        "2024-01-07",
        run_type="backfill",
        state="running",
        ti_states={"a": "success", "b": "running", "c": "queued"},
    )
    result = backfill(dags, "pychain", "-s", "2024-01-07")
    assert result.exit_code == 0, result.output
    assert dags.executions() == [("b", "2024-01-07"), ("c", "2024-01-07")]
    found = ti_map("pychain")
    assert [(found[t, "2024-01-07"]["state"], found[t, "2024-01-07"]["try_number"]) for t in "abc"] == [
        ("success", 1),
        ("success", 2),
        ("success", 2),
    ]
    resets = [c for c in ti_changes(database_url, "pychain") if c.get("orphan_reset")]
    assert sorted((c["task_id"], c["from"], c["to"]) for c in resets) == [("b", "running", None), ("c", "queued", None)]


@pytest.mark.parametrize("left_as", ["queued", "running"])
def test_an_adopted_run_whose_task_instances_all_finished_gets_its_final_state(tmp_path, left_as):
    dags = make_dags(tmp_path, "pychain")
    seed_run(
        dags,
        "pychain",
        "2024-01-07",
        run_type="backfill",
        state=left_as,
        ti_states={"a": "success", "b": "success", "c": "success"},
    )
    seed_run(
        dags,
        "pychain",
        "2024-01-08",
        run_type="backfill",
        state=left_as,
        ti_states={"a": "success", "b": "failed", "c": "upstream_failed"},
    )
    result = backfill(dags, "pychain", "-s", "2024-01-07", "-e", "2024-01-08")
    assert result.exit_code == 1, result.output
    assert dags.executions() == []
    assert run_states("pychain") == {"2024-01-07": "success", "2024-01-08": "failed"}


def test_a_run_missing_some_tasks_gets_them_added_and_run_without_rerunning_the_others(tmp_path):
    dags = make_dags(tmp_path, "pychain")
    partial = backfill(dags, "pychain", "-s", "2024-01-26", "-t", "^c$", "-i")
    assert partial.exit_code == 0, partial.output
    assert dags.executions() == [("c", "2024-01-26")]
    assert set(ti_map("pychain")) == {("c", "2024-01-26")}
    full = backfill(dags, "pychain", "-s", "2024-01-26")
    assert full.exit_code == 0, full.output
    assert dags.executions() == [("c", "2024-01-26"), ("a", "2024-01-26"), ("b", "2024-01-26")]
    assert {k: v["state"] for k, v in ti_map("pychain").items()} == {
        ("a", "2024-01-26"): "success",
        ("b", "2024-01-26"): "success",
        ("c", "2024-01-26"): "success",
    }


def _two_good_days(tmp_path):
    dags = make_dags(tmp_path, "chain")
    assert backfill(dags, "chain", "-s", "2024-01-01", "-e", "2024-01-02").exit_code == 0
    dags.forget()
    return dags


def test_declining_the_reset_prompt_aborts_the_whole_backfill_and_writes_nothing(tmp_path, database_url):
    dags = _two_good_days(tmp_path)
    before = event_count(database_url)
    result = backfill(dags, "chain", "-s", "2024-01-01", "-e", "2024-01-02", "--reset-dagruns", input="n\n")
    assert result.exit_code == 1, result.output
    assert "reset these 6 task instances" in result.output
    listed = [line for line in result.output.splitlines() if line.startswith("  chain.")]
    assert len(listed) == 6
    assert "Cancelled" in result.output
    assert event_count(database_url) == before
    assert dags.executions() == []
    assert {t["try_number"] for t in ti_map("chain").values()} == {1}


def test_answering_yes_at_the_reset_prompt_resets_and_reruns_every_task(tmp_path):
    dags = _two_good_days(tmp_path)
    result = backfill(dags, "chain", "-s", "2024-01-01", "-e", "2024-01-02", "--reset-dagruns", input="y\n")
    assert result.exit_code == 0, result.output
    assert "reset these 6 task instances" in result.output
    assert len(dags.executions()) == 6


def test_reset_dagruns_with_yes_records_resets_keeps_earlier_attempts_and_raises_the_tries(tmp_path, database_url):
    dags = _two_good_days(tmp_path)
    first_attempts = [c for c in ti_changes(database_url, "chain") if c["to"] == "success"]
    assert len(first_attempts) == 6
    result = backfill(dags, "chain", "-s", "2024-01-01", "-e", "2024-01-02", "--reset-dagruns", "-y")
    assert result.exit_code == 0, result.output
    assert "reset these" not in result.output
    assert sorted(dags.executions()) == sorted((t, f"2024-01-0{d}") for t in "abc" for d in (1, 2))
    found = ti_map("chain")
    assert {(t["state"], t["try_number"], t["max_tries"]) for t in found.values()} == {("success", 2, 1)}
    assert run_states("chain") == {"2024-01-01": "success", "2024-01-02": "success"}
    assert _clear_numbers(database_url, "chain") == {"2024-01-01": 1, "2024-01-02": 1}
    resets = [e for e in events(database_url) if e["kind"] == "Reset"]
    assert len(resets) == 2
    assert {(e["run_from"], e["run_to"]) for e in resets} == {("success", "queued")}
    assert sorted(c["task_id"] for e in resets for c in e["changes"]) == ["a", "a", "b", "b", "c", "c"]
    history = ti_changes(database_url, "chain")
    assert [c for c in history if c["to"] == "success" and c["try_number"] == 1] == first_attempts
    assert len([c for c in history if c["to"] == "success" and c["try_number"] == 2]) == 6


def test_reset_dagruns_with_nothing_to_reset_says_so_and_runs_the_backfill(tmp_path):
    dags = make_dags(tmp_path, "pychain")
    result = backfill(dags, "pychain", "-s", "2024-01-01", "--reset-dagruns")
    assert result.exit_code == 0, result.output
    assert "Nothing to clear." in result.output
    assert len(dags.executions()) == 3


def test_runs_and_task_states_in_json_follow_the_public_contract(tmp_path):
    dags = make_dags(tmp_path, "pychain")
    backfill(dags, "pychain", "-s", "2024-01-01", "-c", '{"k": "v"}')
    (run,) = runs("pychain")
    assert run == {
        "dag_id": "pychain",
        "run_id": "backfill__2024-01-01T00:00:00+00:00",
        "logical_date": "2024-01-01T00:00:00+00:00",
        "data_interval_start": "2024-01-01T00:00:00+00:00",
        "data_interval_end": "2024-01-02T00:00:00+00:00",
        "run_type": "backfill",
        "state": "success",
        "conf": {"k": "v"},
    }
    listed = cli("tasks", "states-for-dag-run", "pychain", run["run_id"], "-o", "json")
    assert listed.exit_code == 0, listed.output
    assert [(t["task_id"], t["state"], t["try_number"]) for t in json.loads(listed.stdout)] == [
        ("a", "success", 1),
        ("b", "success", 1),
        ("c", "success", 1),
    ]
