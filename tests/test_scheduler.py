"""`ledgerflow scheduler`: scheduled runs, every queued run whatever its run_type, limits, SIGTERM."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta

import pytest
from clear_support import clear, run_events, scheduler
from dagfiles import backfill, cli, make_dags, query, run_map, spans, spawn, states, ti_map, wait_for

DAILY = '''
with DAG("daily", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 3),
         catchup={catchup}) as dag:
    PythonTask("a", work) >> PythonTask("b", work)
'''

TIMED = '''
with DAG("timed", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 4),
         catchup=True, max_active_runs={mar}) as dag:
    PythonTask("t", timed, op_kwargs={{"seconds": "0.4"}})
'''

POOLED = '''
with DAG("pooled", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 1),
         catchup=True) as dag:
    for name in ("t1", "t2", "t3"):
        PythonTask(name, timed, op_kwargs={{"seconds": "0.4"}}{pool})
'''

MANUAL = '''
with DAG("manual", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    PythonTask("a", work)
'''

HANG = '''
with DAG("hang", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    PythonTask("a", hang_once)
'''


pytestmark = pytest.mark.usefixtures("sequential_executor")


def _spans(dags) -> list[tuple[float, float]]:
    return sorted(spans(dags.lines()))


def _overlap(spans: list[tuple[float, float]]) -> bool:
    return any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))


# -- creating scheduled runs -------------------------------------------------------------------------

def test_catchup_creates_every_missed_interval_between_start_and_end_date_and_runs_it(tmp_path):
    dags = make_dags(tmp_path, daily=DAILY.format(catchup=True))
    result = scheduler(dags, "-n", "1")
    assert result.exit_code == 0, result.output
    assert "daily: created 3 scheduled run(s); 3 run(s) succeeded" in result.output
    got = run_map("daily")
    assert {d: (r["run_id"], r["run_type"], r["state"]) for d, r in got.items()} == {
        d: (f"scheduled__{d}T00:00:00+00:00", "scheduled", "success")
        for d in ("2024-01-01", "2024-01-02", "2024-01-03")
    }
    assert got["2024-01-02"]["data_interval_end"] == "2024-01-03T00:00:00+00:00"
    assert scheduler(dags, "-n", "1").exit_code == 0
    assert len(run_map("daily")) == 3  # nothing created twice


def test_without_catchup_only_the_latest_interval_is_created(tmp_path):
    dags = make_dags(tmp_path, daily=DAILY.format(catchup=False))
    assert scheduler(dags, "-n", "1").exit_code == 0
    assert list(run_map("daily")) == ["2024-01-03"]


def test_without_end_date_the_latest_complete_interval_is_the_one_that_ended_before_now(tmp_path):
    dags = make_dags(tmp_path, daily=DAILY.format(catchup=False).replace(", end_date=datetime(2024, 1, 3)", ""))
    assert scheduler(dags, "-n", "1").exit_code == 0
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    assert list(run_map("daily")) == [yesterday]


def test_max_active_runs_bounds_how_many_runs_run_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "local")
    dags = make_dags(tmp_path, timed=TIMED.format(mar=1))
    assert scheduler(dags, "-n", "1").exit_code == 0
    assert len(_spans(dags)) == 4 and not _overlap(_spans(dags))
    assert {r["state"] for r in run_map("timed").values()} == {"success"}
    other = make_dags(tmp_path / "wide", timed=TIMED.format(mar=4))
    cli("tasks", "clear", "timed", "-S", str(other.folder), "-y")
    assert scheduler(other, "-n", "1").exit_code == 0
    assert _overlap(_spans(other))


# -- every queued run, whatever its run_type -------------------------------------------------------

def test_scenario_56_cleared_scheduled_and_backfill_runs_are_both_rerun_by_the_scheduler(tmp_path, database_url):
    dags = make_dags(tmp_path, daily=DAILY.format(catchup=True))
    assert scheduler(dags, "-n", "1").exit_code == 0
    assert backfill(dags, "daily", "-s", "2024-01-05", "-e", "2024-01-05").exit_code == 0
    assert run_map("daily")["2024-01-05"]["run_type"] == "backfill"
    result = clear(dags, "daily", "-s", "2024-01-02", "-e", "2024-01-05", "-y")
    assert "3 queued run(s) (1 backfill, 2 scheduled) will be run by `ledgerflow scheduler`" in result.output
    dags.forget()
    result = scheduler(dags, "-n", "1")
    assert result.exit_code == 0, result.output
    assert sorted(dags.lines()) == [f"{t} 2024-01-0{d}" for t in "ab" for d in "235"]
    got = ti_map("daily")
    for d in ("2024-01-02", "2024-01-03", "2024-01-05"):
        assert (got[("a", d)]["state"], got[("a", d)]["try_number"]) == ("success", 2)
    assert {d: r["state"] for d, r in run_map("daily").items()} == dict.fromkeys(
        ("2024-01-01", "2024-01-02", "2024-01-03", "2024-01-05"), "success")
    assert run_map("daily")["2024-01-05"]["run_type"] == "backfill"


def test_a_triggered_manual_run_is_picked_up(tmp_path):
    dags = make_dags(tmp_path, manual=MANUAL)
    assert cli("dags", "trigger", "manual", "-S", str(dags.folder), "-e", "2024-02-01").exit_code == 0
    result = scheduler(dags, "-n", "1")
    assert result.exit_code == 0, result.output
    [run] = run_map("manual").values()
    assert (run["run_type"], run["state"]) == ("manual", "success")
    assert dags.lines() == ["a 2024-02-01"]


def test_a_failed_run_is_reported_and_not_retried_by_later_loops(tmp_path):
    dags = make_dags(tmp_path, daily=DAILY.format(catchup=False))
    dags.fail("a", "2024-01-03")
    result = scheduler(dags, "-n", "2")
    assert "1 run(s) failed: scheduled__2024-01-03T00:00:00+00:00" in result.output
    assert dags.lines() == ["a 2024-01-03"]
    assert run_map("daily")["2024-01-03"]["state"] == "failed"


def test_blocked_runs_are_left_queued_with_the_reason(tmp_path):
    dop = '''
with DAG("dop", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 2),
         catchup=True) as dag:
    PythonTask("p", work, depends_on_past=True)
'''
    dags = make_dags(tmp_path, dop=dop)
    dags.fail("p", "2024-01-01")
    result = scheduler(dags, "-n", "1")
    assert "left queued, p @ 2024-01-02 blocked: depends_on_past" in result.output
    assert run_map("dop")["2024-01-02"]["state"] == "queued"


# -- --num-runs, the DAG lock, pools, SIGTERM -------------------------------------------------------

def test_num_runs_bounds_the_loop(tmp_path, database_url):
    dags = make_dags(tmp_path, manual=MANUAL)
    result = scheduler(dags, "-n", "2")
    assert result.exit_code == 0 and "Scheduler done: 2 loop(s)." in result.output
    [op] = query(database_url, "SELECT outcome, summary FROM operation WHERE name = 'scheduler'")
    assert (op["outcome"], op["summary"]["loops"]) == ("success", 2)
    assert scheduler(dags, "-n", "0").exit_code == 2


def test_a_dag_another_process_drives_is_skipped_for_the_loop(tmp_path, ledger):
    from ledgerflow.engine.infrastructure.locks import dag_lock

    dags = make_dags(tmp_path, daily=DAILY.format(catchup=True))
    with dag_lock(ledger, "daily"):
        result = scheduler(dags, "-n", "1")
    assert "daily: skipped this loop, a backfill is driving it" in result.output
    assert run_map("daily", "-S", str(dags.folder)) == {}  # a DAG file, no history: no rows


def test_pools_bound_concurrent_tries_in_scheduler_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "local")
    monkeypatch.setenv("LEDGERFLOW_PARALLELISM", "4")
    assert cli("pools", "set", "serial", "1").exit_code == 0
    dags = make_dags(tmp_path, pooled=POOLED.format(pool=', pool="serial"'))
    assert scheduler(dags, "-n", "1").exit_code == 0
    assert len(_spans(dags)) == 3 and not _overlap(_spans(dags))
    free = make_dags(tmp_path / "free", pooled=POOLED.format(pool=""))
    cli("tasks", "clear", "pooled", "-S", str(free.folder), "-y")
    assert scheduler(free, "-n", "1").exit_code == 0
    assert _overlap(_spans(free))


def test_sigterm_stops_cleanly_recording_the_interrupted_try(tmp_path, database_url):
    dags = make_dags(tmp_path, hang=HANG)
    assert cli("dags", "trigger", "hang", "-S", str(dags.folder), "-e", "2024-02-01").exit_code == 0
    proc = spawn(dags, database_url, "scheduler", "-S", str(dags.folder), LEDGERFLOW_EXECUTOR="local")
    try:
        wait_for(lambda: states("hang").get(("a", "2024-02-01")) == "running", what="the try to run")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, out + err
    assert "Scheduler stopped" in out
    assert states("hang")[("a", "2024-02-01")] is None
    assert run_map("hang")["2024-02-01"]["state"] == "queued"
    interrupted = [c for e in run_events(database_url, "TaskInstancesChanged") for c in e["changes"]
                   if c.get("interrupted")]
    assert [(c["task_id"], c["from"], c["to"]) for c in interrupted] == [("a", "running", None)]
    [op] = query(database_url, "SELECT outcome FROM operation WHERE name = 'scheduler'")
    assert op["outcome"] == "stopped"
    assert scheduler(dags, "-n", "1").exit_code == 0  # resumes: try 2 returns at once
    assert (ti_map("hang")[("a", "2024-02-01")]["state"], ti_map("hang")[("a", "2024-02-01")]["try_number"]) == (
        "success", 2)
