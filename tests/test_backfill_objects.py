"""Backfills as objects: `backfill create | list | show | pause | unpause | cancel`, driven by the scheduler."""

from __future__ import annotations

import pytest
from clear_support import scheduler
from dagfiles import backfill, cli, cli_json, event_count, make_dags, run_states, seed_run
from refusals import assert_refused

pytestmark = pytest.mark.usefixtures("sequential_executor")

SIX = ("--from-date", "2024-01-01", "--to-date", "2024-01-06")


def _create(dags, *args: str):
    return cli("backfill", "create", "--dag-id", "pychain", *args, "-S", str(dags.folder), "-y")


def _paused_pychain(tmp_path):
    """pychain catches up from 2024 when unpaused: paused, the scheduler runs only its backfills."""
    dags = make_dags(tmp_path, "pychain")
    assert cli("dags", "pause", "pychain", "-S", str(dags.folder)).exit_code == 0
    return dags


def test_a_created_backfill_is_driven_to_completion_by_the_scheduler_with_six_decisions(tmp_path):
    dags = _paused_pychain(tmp_path)
    result = _create(dags, *SIX, "--reason", "restate Q1")
    assert result.exit_code == 0, result.output
    assert "Created backfill 1 of pychain, 6 date(s): 6 created, 0 adopted, 0 skipped" in result.output
    [row] = cli_json("backfill", "list", "-o", "json")
    assert row["state"] == "running" and row["reprocess_behavior"] == "none" and row["completed_at"] is None
    done = scheduler(dags, "-n", "1")
    assert done.exit_code == 0, done.output
    assert run_states("pychain") == {f"2024-01-0{d}": "success" for d in range(1, 7)}
    [row] = cli_json("backfill", "list", "-o", "json")
    assert row["state"] == "completed" and row["completed_at"] is not None
    dates = cli_json("backfill", "show", "1", "-o", "json")
    assert [(d["logical_date"][:10], d["decision"], d["state"]) for d in dates] == [
        (f"2024-01-0{d}", "created", "success") for d in range(1, 7)]
    assert dates[0]["run_id"] == "backfill__2024-01-01T00:00:00+00:00"


def test_a_dry_run_shows_each_dates_decision_and_writes_nothing(tmp_path, database_url):
    dags = _paused_pychain(tmp_path)
    seed_run(dags, "pychain", "2024-01-02", ti_states={"a": "success", "b": "success", "c": "success"})
    before = event_count(database_url)
    dates = cli_json("backfill", "create", "--dag-id", "pychain", "--from-date", "2024-01-01", "--to-date",
                     "2024-01-03", "--dry-run", "-S", str(dags.folder), "-o", "json")
    assert [(d["logical_date"][:10], d["decision"]) for d in dates] == [
        ("2024-01-01", "created"), ("2024-01-02", "skipped: already succeeded (reprocess_behavior none)"),
        ("2024-01-03", "created")]
    assert event_count(database_url) == before
    assert cli_json("backfill", "list", "-o", "json") == []


SEEDED = {"2024-01-01": "success", "2024-01-02": "failed", "2024-01-04": "running"}


def _seeded(tmp_path):
    dags = _paused_pychain(tmp_path)
    seed_run(dags, "pychain", "2024-01-01", ti_states={"a": "success", "b": "success", "c": "success"})
    seed_run(dags, "pychain", "2024-01-02", state="failed", ti_states={"a": "success", "b": "failed",
                                                                         "c": "upstream_failed"})
    seed_run(dags, "pychain", "2024-01-04", state="running", ti_states={"a": "running"})
    return dags


@pytest.mark.parametrize(("behavior", "decisions", "ran"), [
    ("none", ["skipped: already succeeded (reprocess_behavior none)",
              "skipped: already failed (reprocess_behavior none)", "created", "skipped: already running"],
     [("a", "2024-01-03"), ("b", "2024-01-03"), ("c", "2024-01-03")]),
    ("failed", ["skipped: already succeeded", "adopted", "created", "skipped: already running"],
     [("b", "2024-01-02"), ("c", "2024-01-02"), ("a", "2024-01-03"), ("b", "2024-01-03"), ("c", "2024-01-03")]),
    ("completed", ["adopted", "adopted", "created", "skipped: already running"],
     [(t, f"2024-01-0{d}") for d in (1, 2, 3) for t in "abc"]),
])
def test_each_reprocess_behavior_decides_every_date_and_the_scheduler_reruns_what_it_adopted(
        tmp_path, behavior, decisions, ran):
    dags = _seeded(tmp_path)
    result = _create(dags, "--from-date", "2024-01-01", "--to-date", "2024-01-04", "--reprocess-behavior", behavior)
    assert result.exit_code == 0, result.output
    assert [d["decision"] for d in cli_json("backfill", "show", "1", "-o", "json")] == decisions
    assert scheduler(dags, "-n", "1").exit_code == 0
    assert sorted(dags.executions(), key=lambda e: (e[1], e[0])) == ran
    states = run_states("pychain")
    assert all(states[f"2024-01-0{d}"] == "success" for d in (1, 3)), states
    assert states["2024-01-02"] == ("failed" if behavior == "none" else "success")
    assert cli_json("backfill", "list", "-o", "json")[0]["state"] == "completed"


def test_a_second_active_backfill_of_the_dag_is_refused_naming_the_first(tmp_path, database_url):
    dags = _paused_pychain(tmp_path)
    assert _create(dags, *SIX).exit_code == 0
    for args in (("backfill", "create", "--dag-id", "pychain", "--from-date", "2024-02-01", "--to-date", "2024-02-02",
                  "-y"), ("dags", "backfill", "pychain", "-s", "2024-03-01")):
        before = event_count(database_url)
        assert_refused(cli(*args, "-S", str(dags.folder)), database_url, before, "backfill 1 of DAG pychain is active")
    assert cli("backfill", "pause", "1", "-y").exit_code == 0  # paused, it is still active
    before = event_count(database_url)
    assert_refused(_create(dags, "--from-date", "2024-02-01", "--to-date", "2024-02-02"), database_url, before,
                   "backfill 1")
    assert cli("backfill", "cancel", "1", "-y").exit_code == 0
    assert _create(dags, "--from-date", "2024-02-01", "--to-date", "2024-02-02").exit_code == 0


def test_a_paused_backfill_starts_no_run_until_unpaused(tmp_path):
    dags = _paused_pychain(tmp_path)
    assert _create(dags, *SIX).exit_code == 0
    paused = cli("backfill", "pause", "1", "-y", "--reason", "hold on")
    assert paused.exit_code == 0 and "Backfill 1 is paused." in paused.output
    assert cli_json("backfill", "list", "-o", "json")[0]["is_paused"] is True
    assert scheduler(dags, "-n", "1").exit_code == 0
    assert cli_json("dags", "list-runs", "pychain", "-S", str(dags.folder), "-o", "json") == []
    assert cli("backfill", "unpause", "1", "-y").exit_code == 0
    assert scheduler(dags, "-n", "1").exit_code == 0
    assert len(run_states("pychain")) == 6
    assert cli_json("backfill", "list", "-o", "json")[0]["state"] == "completed"


def test_cancelling_records_every_date_not_started_as_skipped_cancelled(tmp_path):
    dags = _paused_pychain(tmp_path)
    assert _create(dags, *SIX).exit_code == 0
    cancelled = cli("backfill", "cancel", "1", "-y", "--reason", "wrong range")
    assert cancelled.exit_code == 0, cancelled.output
    assert {d["decision"] for d in cli_json("backfill", "show", "1", "-o", "json")} == {"skipped: cancelled"}
    [row] = cli_json("backfill", "list", "-o", "json")
    assert row["state"] == "cancelled" and row["completed_at"] is not None
    assert scheduler(dags, "-n", "1").exit_code == 0
    assert cli_json("dags", "list-runs", "pychain", "-S", str(dags.folder), "-o", "json") == []
    log = cli_json("audit", "log", "--dag-id", "pychain", "-o", "json")
    entries = [e for e in log if e["event"].startswith("Backfill")]
    assert [(e["event"], e["reason"]) for e in entries] == [("Backfill.Created", None),
                                                            ("Backfill.Cancelled", "wrong range")]


def test_list_and_show_read_a_backfill_as_it_was_at_an_instant(tmp_path):
    dags = _paused_pychain(tmp_path)
    assert _create(dags, *SIX).exit_code == 0
    log = cli_json("audit", "log", "--dag-id", "pychain", "-o", "json")
    created_at = next(e["recorded_at"] for e in log if e["event"] == "Backfill.Created")
    assert scheduler(dags, "-n", "1").exit_code == 0
    [then] = cli_json("backfill", "list", "--as-of", created_at, "-o", "json")
    assert then["state"] == "running" and then["completed_at"] is None
    assert {d["state"] for d in cli_json("backfill", "show", "1", "--as-of", created_at, "-o", "json")} == {None}
    assert {d["state"] for d in cli_json("backfill", "show", "1", "-o", "json")} == {"success"}
    assert cli_json("backfill", "list", "--as-of", "2000-01-01", "-o", "json") == []


@pytest.mark.parametrize(("args", "needle"), [
    (("--dag-id", "nope", *SIX), "nope"),
    (("--dag-id", "pychain", "--from-date", "2024-01-06", "--to-date", "2024-01-01"), "is before --from-date"),
    (("--dag-id", "pychain", "--from-date", "2999-01-01", "--to-date", "2999-01-02"), "future"),
    (("--dag-id", "dop", "--run-backwards", *SIX), "depend on the past"),
    (("--dag-id", "pychain", *SIX, "--dag-run-conf", "[1]"), "JSON object"),
    (("--dag-id", "pychain", *SIX, "--max-active-runs", "0"), "--max-active-runs"),
    (("--dag-id", "pychain", *SIX, "--reprocess-behavior", "all"), "reprocess behavior"),
])
def test_bad_input_to_backfill_create_is_one_line_exit_2_and_writes_nothing(tmp_path, database_url, args, needle):
    dags = make_dags(tmp_path, "pychain", "dop")
    before = event_count(database_url)
    assert_refused(cli("backfill", "create", *args, "-S", str(dags.folder), "-y"), database_url, before, needle)


@pytest.mark.parametrize(("command", "needle"), [
    (("pause", "7"), "no backfill 7"), (("cancel", "0"), "backfill id"), (("unpause", "1"), "is running"),
])
def test_pausing_or_cancelling_an_unknown_or_finished_backfill_is_refused(tmp_path, database_url, command, needle):
    dags = _paused_pychain(tmp_path)
    assert _create(dags, *SIX).exit_code == 0
    before = event_count(database_url)
    assert_refused(cli("backfill", *command, "-y"), database_url, before, needle)
    assert cli("backfill", "cancel", "1", "-y").exit_code == 0
    before = event_count(database_url)
    assert_refused(cli("backfill", "pause", "1", "-y"), database_url, before, "backfill 1 is cancelled")


LONG = '''
with DAG("a_long", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    PythonTask("long", slow, op_kwargs={"seconds": "3"})
'''
SHORT = '''
with DAG("b_short", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 3),
         catchup=True) as dag:
    PythonTask("quick", work)
'''


def test_one_scheduler_drives_several_dags_at_once_so_a_long_one_delays_no_other(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "local")  # the sequential executor runs one try at a time in all
    dags = make_dags(tmp_path, a_long=LONG, b_short=SHORT)
    assert cli("dags", "trigger", "a_long", "-S", str(dags.folder), "-e", "2024-01-01").exit_code == 0
    result = scheduler(dags, "-n", "1")
    assert result.exit_code == 0, result.output
    assert [task for task, _ in dags.executions()] == ["quick", "quick", "quick", "long"]
    assert run_states("a_long") == {"2024-01-01": "success"}


def test_tasks_clear_says_who_picks_up_each_cleared_run(tmp_path):
    dags = _paused_pychain(tmp_path)
    assert backfill(dags, "pychain", "-s", "2024-01-01", "-e", "2024-01-02").exit_code == 0
    assert backfill(dags, "pychain", "-s", "2024-01-05").exit_code == 0
    assert _create(dags, "--from-date", "2024-01-01", "--to-date", "2024-01-02", "--reprocess-behavior",
                   "completed").exit_code == 0
    assert cli("backfill", "pause", "3", "-y").exit_code == 0
    cleared = cli("tasks", "clear", "pychain", "-s", "2024-01-01", "-e", "2024-01-05", "-S", str(dags.folder), "-y")
    assert cleared.exit_code == 0, cleared.output
    out = " ".join(cleared.output.split())
    assert "pychain: 2 queued run(s) of backfill 3 will be run by" in out
    assert "once backfill 3 is unpaused (`ledgerflow backfill unpause 3`)" in out
    assert "pychain: the DAG is paused, so its 1 queued run(s) (1 backfill) wait" in out
