"""xcom_pull beyond the current run, as Airflow defines it: include_prior_dates reads earlier runs
newest first, dag_id another DAG's run of the same run_id, run_id (Airflow 3) a named run."""

from __future__ import annotations

import pytest
from airflow_corpus import backfill, returns, write_dag

pytestmark = pytest.mark.usefixtures("database_url")

COUNTER = """
from datetime import datetime
from airflow.decorators import dag, task

@dag(schedule="@daily", start_date=datetime(2024, 1, 1), max_active_runs=1)
def counter():
    @task
    def count(ti=None):
        before = ti.xcom_pull(task_ids="count", include_prior_dates=True)
        return (before or 0) + 1

    @task
    def this_run_only(ti=None):
        return ti.xcom_pull(task_ids="count", key="return_value")

    @task
    def earlier_only(ti=None, ds=None):
        return ti.xcom_pull(task_ids="earlier_only", include_prior_dates=True, default=f"none before {ds}")

    count() >> this_run_only()
    earlier_only()

counter()
"""


def test_include_prior_dates_reads_the_newest_earlier_value(tmp_path):
    folder = write_dag(tmp_path, COUNTER)
    assert backfill(folder, "counter", "-s", "2024-01-01", "-e", "2024-01-03").exit_code == 0
    found = returns("counter")
    assert [found["count", f"2024-01-0{d}"] for d in (1, 2, 3)] == [1, 2, 3]
    assert [found["this_run_only", f"2024-01-0{d}"] for d in (1, 2, 3)] == [1, 2, 3]
    assert [found["earlier_only", f"2024-01-0{d}"] for d in (1, 2, 3)] == ["none before 2024-01-01"] * 3


def test_a_pull_from_another_dag_reads_its_run_of_the_same_run_id_or_a_named_run(tmp_path):
    folder = write_dag(tmp_path, """
from datetime import datetime
from airflow.decorators import dag, task

@dag(schedule="@daily", start_date=datetime(2024, 1, 1))
def writer():
    @task
    def produce(ds=None):
        return f"made on {ds}"
    produce()

@dag(schedule="@daily", start_date=datetime(2024, 1, 1))
def reader():
    @task
    def consume(ti=None):
        return [ti.xcom_pull(dag_id="writer", task_ids="produce"),
                ti.xcom_pull(dag_id="writer", task_ids="produce", include_prior_dates=True),
                ti.xcom_pull(dag_id="writer", task_ids="produce", run_id="backfill__2024-01-01T00:00:00+00:00"),
                ti.xcom_pull(dag_id="writer", task_ids="nothing", default="absent")]
    consume()

writer()
reader()
""")
    assert backfill(folder, "writer", "-s", "2024-01-01").exit_code == 0
    assert backfill(folder, "reader", "-s", "2024-01-01", "-e", "2024-01-02").exit_code == 0
    found = returns("reader")
    assert found["consume", "2024-01-01"] == ["made on 2024-01-01"] * 3 + ["absent"]
    assert found["consume", "2024-01-02"] == [None, "made on 2024-01-01", "made on 2024-01-01", "absent"]
