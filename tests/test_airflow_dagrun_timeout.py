"""dagrun_timeout: a scheduler-driven run running longer fails, its tries in flight stopped and its
unfinished task instances skipped, as Airflow's scheduler does; a backfill is not timed out."""

from __future__ import annotations

import time

import pytest
from airflow_corpus import backfill, by_day, states, write_dag
from cli_runner import cli, cli_json
from recorded import ti_changes

pytestmark = pytest.mark.usefixtures("database_url")

TIMED_OUT = """
from datetime import datetime, timedelta
from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("{dag_id}", schedule="@once", start_date=datetime(2024, 1, 1), is_paused_upon_creation=False,
         dagrun_timeout=timedelta(seconds=2)):
    BashOperator(task_id="slow", bash_command="sleep {seconds}") >> BashOperator(task_id="after", bash_command="true")
    BashOperator(task_id="quick", bash_command="true")
"""


def test_a_scheduled_run_past_its_dagrun_timeout_fails_and_skips_what_is_unfinished(tmp_path, database_url):
    folder = write_dag(tmp_path, TIMED_OUT.format(dag_id="timed_out", seconds=60))
    began = time.monotonic()
    cli("scheduler", "-S", str(folder), "-n", "1")
    assert time.monotonic() - began < 30  # the sleeping try was stopped, not waited for
    assert by_day(states("timed_out")) == {("slow", "2024-01-01"): "skipped", ("after", "2024-01-01"): "skipped",
                                           ("quick", "2024-01-01"): "success"}
    assert [r["state"] for r in cli_json("dags", "list-runs", "timed_out", "-o", "json")] == ["failed"]
    timed = [c for c in ti_changes(database_url) if "dagrun_timeout" in c]
    assert {(c["task_id"], c.get("stopped", False)) for c in timed} == {("slow", True), ("after", False)}


def test_a_backfill_is_not_timed_out(tmp_path):
    folder = write_dag(tmp_path, TIMED_OUT.format(dag_id="backfilled", seconds=3))
    assert backfill(folder, "backfilled", "-s", "2024-01-01").exit_code == 0
    assert set(by_day(states("backfilled")).values()) == {"success"}


def test_a_timed_out_run_calls_the_dags_failure_callback_with_reason_timed_out(tmp_path, monkeypatch):
    journal = tmp_path / "reasons.txt"
    monkeypatch.setenv("REASONS", str(journal))
    source = TIMED_OUT.format(dag_id="timed_out_cb", seconds=60).replace(
        "dagrun_timeout=timedelta(seconds=2)",
        "dagrun_timeout=timedelta(seconds=2),\n         on_failure_callback=lambda context: open("
        "__import__('os').environ['REASONS'], 'a').write(context['reason'])")
    folder = write_dag(tmp_path, source)
    cli("scheduler", "-S", str(folder), "-n", "1")
    assert journal.read_text() == "timed_out"
