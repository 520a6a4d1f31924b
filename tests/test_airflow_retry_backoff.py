"""`retry_exponential_backoff` grows the wait between tries, `max_retry_delay` caps it."""

from __future__ import annotations

import pytest
from airflow_corpus import backfill, by_day, states, write_dag
from recorded import ti_changes

pytestmark = pytest.mark.usefixtures("database_url")


def _waits(database_url: str, task_id: str) -> list[float]:
    """Seconds from each failed try's end to the next try's start."""
    changes = [c for c in ti_changes(database_url) if c["task_id"] == task_id]
    waits = []
    for ended, started in zip(changes, changes[1:], strict=False):
        if ended["to"] == "up_for_retry" and started["to"] == "running":
            waits.append((started["at"] - ended["at"]).total_seconds())
    return waits


def test_backoff_doubles_the_wait_and_max_retry_delay_caps_it(tmp_path, database_url):
    folder = write_dag(tmp_path, """
from datetime import datetime, timedelta
from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("backoff", schedule="@daily", start_date=datetime(2024, 1, 1),
         default_args={"retries": 2, "retry_delay": timedelta(seconds=1), "retry_exponential_backoff": True}):
    BashOperator(task_id="grows", bash_command="exit 1")
    BashOperator(task_id="capped", bash_command="exit 1", max_retry_delay=timedelta(seconds=1))
""")
    assert backfill(folder, "backoff", "-s", "2024-01-01").exit_code == 1
    assert by_day(states("backoff")) == {("grows", "2024-01-01"): "failed", ("capped", "2024-01-01"): "failed"}
    first, second = _waits(database_url, "grows")
    assert 1 <= first < 2.9
    assert 2 <= second < 4.9  # twice the base of the first retry, plus at most as much again
    assert all(1 <= wait < 1.9 for wait in _waits(database_url, "capped"))


def test_without_backoff_every_wait_is_the_retry_delay(tmp_path, database_url):
    folder = write_dag(tmp_path, """
from datetime import datetime, timedelta
from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("flat", schedule="@daily", start_date=datetime(2024, 1, 1),
         default_args={"retries": 2, "retry_delay": timedelta(seconds=1)}):
    BashOperator(task_id="flat", bash_command="exit 1")
""")
    assert backfill(folder, "flat", "-s", "2024-01-01").exit_code == 1
    assert all(1 <= wait < 1.9 for wait in _waits(database_url, "flat"))


def test_airflows_max_task_retry_delay_caps_the_backoff(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__MAX_TASK_RETRY_DELAY", "1")
    folder = write_dag(tmp_path, """
from datetime import datetime, timedelta
from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("server_cap", schedule="@daily", start_date=datetime(2024, 1, 1)):
    BashOperator(task_id="capped", bash_command="exit 1", retries=1, retry_delay=timedelta(seconds=60),
                 retry_exponential_backoff=True)
""")
    assert backfill(folder, "server_cap", "-s", "2024-01-01").exit_code == 1
    assert all(1 <= wait < 1.9 for wait in _waits(database_url, "capped"))
