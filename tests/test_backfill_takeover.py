"""A foreground backfill's object, its lease and takeover: kill -9, Ctrl-C, resuming with the same command."""

from __future__ import annotations

import signal
from collections import Counter

import psycopg
import pytest
from cli_runner import finished
from dagfiles import backfill, cli, cli_json, make_dags, run_states, spawn_backfill, wait_for

pytestmark = pytest.mark.usefixtures("sequential_executor")

SLOW = '''
with DAG("slowd", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True, max_active_runs=2) as dag:
    PythonTask("a", slow, op_kwargs={"seconds": "0.4"}) >> PythonTask("b", slow, op_kwargs={"seconds": "0.4"})
'''
FIRST = ("-s", "2024-01-01", "-e", "2024-01-04")


def _running_tries(database_url):
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM ledgerflow_events WHERE topic LIKE %s "
            "AND convert_from(state, 'UTF8')::jsonb -> 'changes' @> '[{\"to\": \"running\"}]'",
            ("%DagRun.TaskInstancesChanged",)).fetchone()[0]


def _backfills():
    return [(r["id"], r["from_date"][:10], r["state"]) for r in cli_json("backfill", "list", "-o", "json")]


def test_dags_backfill_records_a_backfill_object_with_a_decision_per_date(tmp_path):
    dags = make_dags(tmp_path, "pychain")
    assert backfill(dags, "pychain", "-s", "2024-01-01", "-e", "2024-01-02", "--reason", "reload").exit_code == 0
    assert backfill(dags, "pychain", "-s", "2024-01-02", "-e", "2024-01-03").exit_code == 0
    rows = cli_json("backfill", "list", "--dag-id", "pychain", "-o", "json")
    assert [(r["id"], r["state"], r["reprocess_behavior"], r["max_active_runs"]) for r in rows] == [
        (1, "completed", None, 16), (2, "completed", None, 16)]
    assert [(d["logical_date"][:10], d["decision"], d["state"]) for d in cli_json("backfill", "show", "2", "-o", "json")
            ] == [("2024-01-02", "adopted", "success"), ("2024-01-03", "created", "success")]


def test_a_dry_run_of_dags_backfill_records_no_backfill(tmp_path):
    dags = make_dags(tmp_path, "pychain")
    assert backfill(dags, "pychain", "-s", "2024-01-01", "-n").exit_code == 0
    assert cli_json("backfill", "list", "-o", "json") == []


def test_ctrl_c_pauses_the_backfill_and_the_same_command_resumes_it(tmp_path, database_url):
    dags = make_dags(tmp_path, slowd=SLOW)
    proc = spawn_backfill(dags, database_url, "slowd", *FIRST)
    wait_for(lambda: _running_tries(database_url) >= 1, what="a running try")
    proc.send_signal(signal.SIGINT)
    code, out, err = finished(proc)
    assert code == 1, out + err
    assert _backfills() == [(1, "2024-01-01", "paused")]
    assert cli_json("backfill", "list", "-o", "json")[0]["is_paused"] is True
    resumed = backfill(dags, "slowd", *FIRST)
    assert resumed.exit_code == 0, resumed.output
    assert _backfills() == [(1, "2024-01-01", "completed")]
    assert set(Counter(dags.executions()).values()) == {1} and len(dags.executions()) == 8


def test_after_kill_9_a_backfill_of_another_range_takes_over_the_dead_runs_and_the_first_resumes(
        tmp_path, database_url):
    dags = make_dags(tmp_path, slowd=SLOW)
    proc = spawn_backfill(dags, database_url, "slowd", *FIRST)
    wait_for(lambda: _running_tries(database_url) >= 2, what="two running tries")
    proc.kill()
    proc.wait()
    left = run_states("slowd")
    assert "running" in left.values(), left
    second = backfill(dags, "slowd", "-s", "2024-01-10", "-e", "2024-01-11", "--delay-on-limit", "0.01")
    assert second.exit_code == 0, second.output  # no slot is held by the dead runs
    assert _backfills() == [(1, "2024-01-01", "running"), (2, "2024-01-10", "completed")]
    taken = [e for e in cli_json("audit", "log", "--dag-id", "slowd", "-o", "json") if e["event"] == "TakenOver"]
    assert {e["run_id"] for e in taken} == {f"backfill__2024-01-0{d}T00:00:00+00:00"
                                            for d, state in ((int(k[-1]), v) for k, v in left.items())
                                            if state == "running"}
    assert {e["operation"] for e in taken} == {"dags backfill"}
    first = backfill(dags, "slowd", *FIRST)
    assert first.exit_code == 0, first.output
    assert _backfills() == [(1, "2024-01-01", "completed"), (2, "2024-01-10", "completed")]
    assert set(run_states("slowd").values()) == {"success"}
    done = Counter(dags.executions())
    assert set(done.values()) == {1} and len(done) == 12  # no finished try ran twice


def test_a_foreground_backfill_paused_from_another_terminal_starts_no_new_run(tmp_path, database_url):
    dags = make_dags(tmp_path, slowd=SLOW)
    proc = spawn_backfill(dags, database_url, "slowd", *FIRST)
    wait_for(lambda: _backfills(), what="the backfill object")
    assert cli("backfill", "pause", "1", "-y", "--reason", "not now").exit_code == 0
    code, out, err = finished(proc)
    assert code == 1, out + err
    assert "Backfill 1 was paused by another command" in out
    assert len(run_states("slowd")) < 4
    assert _backfills() == [(1, "2024-01-01", "paused")]


def test_a_foreground_backfill_paused_by_ctrl_c_and_unpaused_is_finished_by_the_scheduler(tmp_path, database_url):
    dags = make_dags(tmp_path, slowd=SLOW)
    assert cli("dags", "pause", "slowd", "-S", str(dags.folder)).exit_code == 0  # only its backfill runs
    proc = spawn_backfill(dags, database_url, "slowd", *FIRST)
    wait_for(lambda: _running_tries(database_url) >= 1, what="a running try")
    proc.send_signal(signal.SIGINT)
    assert finished(proc)[0] == 1
    assert cli("backfill", "unpause", "1", "-y").exit_code == 0
    assert cli("scheduler", "-S", str(dags.folder), "-n", "1").exit_code == 0
    assert _backfills() == [(1, "2024-01-01", "completed")]
    assert set(run_states("slowd").values()) == {"success"}
    done = Counter(dags.executions())
    assert set(done.values()) == {1} and len(done) == 8


def test_the_scheduler_finishes_the_runs_a_killed_backfill_left_running_on_a_paused_dag(tmp_path, database_url):
    dags = make_dags(tmp_path, slowd=SLOW)
    assert cli("dags", "pause", "slowd", "-S", str(dags.folder)).exit_code == 0  # it gets no run of its own
    proc = spawn_backfill(dags, database_url, "slowd", *FIRST)
    wait_for(lambda: _running_tries(database_url) >= 2, what="two running tries")
    proc.kill()
    proc.wait()
    left = {ld for ld, state in run_states("slowd").items() if state == "running"}
    assert left
    assert cli("scheduler", "-S", str(dags.folder), "-n", "1").exit_code == 0
    after = run_states("slowd")
    assert "running" not in after.values(), after
    assert {ld for ld, state in after.items() if state == "success"} >= left
    taken = [e for e in cli_json("audit", "log", "--dag-id", "slowd", "-o", "json") if e["event"] == "TakenOver"]
    assert {e["run_id"][10:20] for e in taken} == left and {e["operation"] for e in taken} == {"scheduler"}
    assert _backfills() == [(1, "2024-01-01", "running")]  # abandoned: its own command resumes the rest
    first = backfill(dags, "slowd", *FIRST)
    assert first.exit_code == 0, first.output
    assert set(run_states("slowd").values()) == {"success"} and len(run_states("slowd")) == 4
    done = Counter(dags.executions())
    assert set(done.values()) == {1} and len(done) == 8  # no finished try ran twice
