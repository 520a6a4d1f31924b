"""`dags backfill` flags for the runs: what they carry (-c), how many run at once and in which order
(--continue-on-failures, --delay-on-limit, -B), what is decided for each date (-v); one test (at least)
per flag, each failing if the flag were ignored."""

from __future__ import annotations

import time

import pytest
from dagfiles import backfill, cli_json, events, finish_run, make_dags, run_states, runs, seed_run, spawn_backfill
from seeded_runs import live_driver

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
    with live_driver("mar1", "2023-12-25"):
        _waits_then_gives_up(dags, database_url)


def _waits_then_gives_up(dags, database_url):
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
    with live_driver("mar1", "2023-12-25"):
        proc = spawn_backfill(dags, database_url, "mar1", "-s", "2024-01-01", "--delay-on-limit", "0.3")
        first = proc.stderr.readline()
        assert "scheduled__2023-12-25T00:00:00+00:00" in first and "waiting 0.3s" in first, first
        finish_run("mar1", "2023-12-25")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err
    assert run_states("mar1") == {"2023-12-25": "success", "2024-01-01": "success"}
    assert dags.executions() == [("t", "2024-01-01")]


@pytest.mark.parametrize("run_type", ["backfill", "scheduled"])
def test_a_run_left_running_by_a_process_that_is_gone_holds_no_slot_and_its_takeover_is_recorded(tmp_path, run_type):
    dags = make_dags(tmp_path, "mar1")
    _foreign_running_run(dags, run_type=run_type)
    result = backfill(dags, "mar1", "-s", "2024-01-01", "--delay-on-limit", "0.01")
    assert result.exit_code == 0, result.output
    assert run_states("mar1") == {"2023-12-25": "queued", "2024-01-01": "success"}
    taken = [e for e in cli_json("audit", "log", "--dag-id", "mar1", "-o", "json") if e["event"] == "TakenOver"]
    assert [(e["run_id"], e["operation"]) for e in taken] == [(f"{run_type}__2023-12-25T00:00:00+00:00",
                                                                "dags backfill")]
    assert dags.executions() == [("t", "2024-01-01")]


def test_a_running_manual_run_does_not_hold_a_max_active_runs_slot(tmp_path):
    dags = make_dags(tmp_path, "mar1")
    _foreign_running_run(dags, run_type="manual")
    result = backfill(dags, "mar1", "-s", "2024-01-01", "--delay-on-limit", "0.02")
    assert result.exit_code == 0, result.output
    assert run_states("mar1")["2024-01-01"] == "success"


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
