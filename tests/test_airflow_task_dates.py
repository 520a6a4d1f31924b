"""A task's own start_date/end_date: scheduled runs outside them have no instance of the task (and
its downstream does not wait for it); backfills ignore them, as in Airflow 2."""

from __future__ import annotations

import pytest
from airflow_corpus import backfill, by_day, states, write_dag
from cli_runner import cli

pytestmark = pytest.mark.usefixtures("database_url")

DATED = """
from datetime import datetime
from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("{dag_id}", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 3),
         catchup=True, is_paused_upon_creation=False):
    late = BashOperator(task_id="late", bash_command="true", start_date=datetime(2024, 1, 2))
    early = BashOperator(task_id="early", bash_command="true", end_date="2024-01-02")
    late >> BashOperator(task_id="after", bash_command="true")
"""


def test_scheduled_runs_have_no_instance_outside_a_tasks_own_dates(tmp_path):
    folder = write_dag(tmp_path, DATED.format(dag_id="dated"))
    result = cli("scheduler", "-S", str(folder), "-n", "1")
    assert result.exit_code == 0, result.output
    assert by_day(states("dated")) == {
        ("early", "2024-01-01"): "success", ("after", "2024-01-01"): "success",
        ("late", "2024-01-02"): "success", ("early", "2024-01-02"): "success", ("after", "2024-01-02"): "success",
        ("late", "2024-01-03"): "success", ("after", "2024-01-03"): "success",
    }


def test_a_backfill_runs_every_task_whatever_its_own_dates(tmp_path):
    folder = write_dag(tmp_path, DATED.format(dag_id="dated_backfill"))
    assert backfill(folder, "dated_backfill", "-s", "2024-01-01", "-e", "2024-01-01").exit_code == 0
    assert by_day(states("dated_backfill")) == {("late", "2024-01-01"): "success",
                                                ("early", "2024-01-01"): "success",
                                                ("after", "2024-01-01"): "success"}
