"""Interrupting a backfill (SIGTERM, Ctrl-C, kill -9) and resuming it with the same command (section 7, 33)."""

from __future__ import annotations

import signal
import time

import pytest
from dagfiles import (
    backfill,
    event_count,
    events,
    make_dags,
    run_states,
    seed_run,
    spawn_backfill,
    states,
    ti_changes,
)
from seeded_runs import live_driver

RANGE = ("-s", "2024-01-01", "-e", "2024-01-03")
ALL = {(t, f"2024-01-0{d}") for t in "abc" for d in (1, 2, 3)}



@pytest.fixture(autouse=True)
def _local(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "local")
    monkeypatch.setenv("LEDGERFLOW_PARALLELISM", "3")


def _wait_for_lines(dags, n: int, proc, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while len(dags.lines()) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the backfill did not get going"
        time.sleep(0.02)


def _wait_for_successes(database_url, n: int, proc, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while len([c for c in ti_changes(database_url, "sleepy") if c["to"] == "success"]) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the backfill did not get going"
        time.sleep(0.05)


def _interrupt(dags, database_url, sig):
    proc = spawn_backfill(dags, database_url, "sleepy", *RANGE)
    _wait_for_successes(database_url, 3, proc)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


def _resume_finishes_without_running_finished_work_twice(dags, succeeded_before):
    result = backfill(dags, "sleepy", *RANGE)
    assert result.exit_code == 0, result.output
    assert set(states("sleepy").values()) == {"success"}
    assert set(run_states("sleepy").values()) == {"success"}
    counts = dags.counts()
    assert {tuple(line.split(" ")) for line in counts} == ALL
    assert {key: counts[" ".join(key)] for key in succeeded_before} == {key: 1 for key in succeeded_before}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signalled_backfill_records_the_interruption_leaves_runs_queued_and_exits_1(tmp_path, database_url, sig):
    dags = make_dags(tmp_path, "sleepy")
    code, out, err = _interrupt(dags, database_url, sig)
    assert code == 1, out + err
    assert "interrupted" in err
    assert "Traceback" not in err
    ended = [e for e in events(database_url) if e["topic"].endswith("Operation.Ended")]
    assert [e["outcome"] for e in ended] == ["interrupted"]
    assert "queued" in run_states("sleepy").values()
    assert "running" not in run_states("sleepy").values()
    assert not {s for s in states("sleepy").values()} & {"running", "queued", "scheduled"}
    succeeded = {key for key, s in states("sleepy").items() if s == "success"}
    assert 3 <= len(succeeded) < 9
    _resume_finishes_without_running_finished_work_twice(dags, succeeded)


def test_a_sigterm_with_the_sequential_executor_stops_after_the_running_try_and_resumes(
    tmp_path, database_url, monkeypatch
):
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "sequential")
    dags = make_dags(tmp_path, "sleepy")
    code, out, err = _interrupt(dags, database_url, signal.SIGTERM)
    assert code == 1, out + err
    assert "interrupted" in err
    assert "running" not in run_states("sleepy").values()
    assert not {s for s in states("sleepy").values()} & {"running", "queued", "scheduled"}
    succeeded = {key for key, s in states("sleepy").items() if s == "success"}
    assert 3 <= len(succeeded) < 9
    _resume_finishes_without_running_finished_work_twice(dags, succeeded)


def test_after_kill_9_the_tries_it_left_running_end_in_their_workers_and_the_resume_records_them(
    tmp_path, database_url
):
    dags = make_dags(tmp_path, "sleepy")
    code, out, err = _interrupt(dags, database_url, signal.SIGKILL)
    assert code == -signal.SIGKILL
    left = states("sleepy")
    succeeded = {key for key, s in left.items() if s == "success"}
    assert 3 <= len(succeeded) < 9
    running = {key for key, s in left.items() if s == "running"}
    assert running, "kill -9 came while no try ran"
    _resume_finishes_without_running_finished_work_twice(dags, succeeded | running)
    recovered = {(c["task_id"], c["ds"]) for c in ti_changes(database_url, "sleepy") if c.get("recovered")}
    assert recovered == running
    assert not [c for c in ti_changes(database_url, "sleepy") if c.get("orphan_reset")]


def test_a_second_backfill_of_a_dag_being_backfilled_is_refused(tmp_path, database_url):
    dags = make_dags(tmp_path, "sleepy")
    proc = spawn_backfill(dags, database_url, "sleepy", "-s", "2024-01-01")
    try:
        _wait_for_lines(dags, 1, proc)
        before = event_count(database_url)
        second = backfill(dags, "sleepy", "-s", "2024-01-02")
        assert second.exit_code == 2, second.output
        assert "another backfill" in second.output
        assert not [r for r in events(database_url)[before:] if r.get("logical_date", "").startswith("2024-01-02")]
    finally:
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, out + err
    assert run_states("sleepy") == {"2024-01-01": "success"}


def test_a_sigterm_while_waiting_for_a_max_active_runs_slot_stops_the_backfill_at_once(tmp_path, database_url):
    dags = make_dags(tmp_path, "mar1")
    seed_run(dags, "mar1", "2023-12-25", run_type="scheduled", state="running", ti_states={"t": "running"})
    with live_driver("mar1", "2023-12-25"):
        _stops_while_waiting(dags, database_url)


def _stops_while_waiting(dags, database_url):
    proc = spawn_backfill(dags, database_url, "mar1", "-s", "2024-01-01", "--delay-on-limit", "5")
    first = proc.stderr.readline()
    assert "max_active_runs" in first, first
    signalled = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - signalled < 3, "the signal was ignored while waiting for a slot"
    assert proc.returncode == 1, out + err
    assert "interrupted" in err
    ended = [e for e in events(database_url) if e["topic"].endswith("Operation.Ended")]
    assert [e["outcome"] for e in ended][-1] == "interrupted"
    assert dags.executions() == []
