"""Task callbacks run with the try's context as Airflow runs them (execute, success, retry, failure,
skipped); one that raises is logged and changes nothing; execution_timeout fails a try that runs long."""

from __future__ import annotations

import json

import pytest
from airflow_corpus import backfill, by_day, states, write_dag

pytestmark = pytest.mark.usefixtures("database_url")

CALLBACKS = """
import json, os
from datetime import datetime, timedelta
from airflow import DAG
from airflow.exceptions import AirflowSkipException
from airflow.operators.python import PythonOperator

def note(kind):
    def callback(context):
        exc = context.get("exception")
        with open(os.environ["CALLBACK_LOG"], "a") as out:
            out.write(json.dumps([kind, context["ti"].task_id, context["ti"].try_number,
                                  exc and type(exc).__name__]) + "\\n")
    return callback

def broken(context):
    raise RuntimeError("the callback itself fails")

def fails():
    raise ValueError("no")

def skips():
    raise AirflowSkipException("nothing to do")

with DAG("callbacks", schedule="@daily", start_date=datetime(2024, 1, 1),
         default_args={"on_execute_callback": note("execute"), "on_success_callback": [note("success"), broken],
                       "on_failure_callback": note("failure"), "on_retry_callback": note("retry"),
                       "on_skipped_callback": note("skipped"), "retry_delay": timedelta(0)}):
    PythonOperator(task_id="ok", python_callable=lambda: 1)
    PythonOperator(task_id="bad", python_callable=fails, retries=1)
    PythonOperator(task_id="skip", python_callable=skips)
"""


def test_callbacks_run_with_the_context_and_their_failures_change_nothing(tmp_path, monkeypatch):
    journal = tmp_path / "callbacks.jsonl"
    monkeypatch.setenv("CALLBACK_LOG", str(journal))
    folder = write_dag(tmp_path, CALLBACKS)
    assert backfill(folder, "callbacks", "-s", "2024-01-01", "--continue-on-failures").exit_code == 1
    assert by_day(states("callbacks")) == {("ok", "2024-01-01"): "success", ("bad", "2024-01-01"): "failed",
                                           ("skip", "2024-01-01"): "skipped"}
    calls = sorted(tuple(json.loads(line)) for line in journal.read_text().splitlines())
    assert calls == sorted([
        ("execute", "ok", 1, None), ("success", "ok", 1, None),
        ("execute", "bad", 1, None), ("retry", "bad", 1, "ValueError"),
        ("execute", "bad", 2, None), ("failure", "bad", 2, "ValueError"),
        ("execute", "skip", 1, None), ("skipped", "skip", 1, "AirflowSkipException"),
    ])
    from ledgerflow.engine.application.service import Ledgerflow

    with Ledgerflow() as service:
        log = service.task_log("callbacks", "backfill__2024-01-01T00:00:00+00:00", "ok")
    assert "Error when executing on_success_callback broken" in log
    assert "RuntimeError: the callback itself fails" in log


def test_execution_timeout_fails_python_and_bash_tries_that_run_long(tmp_path):
    folder = write_dag(tmp_path, """
import time
from datetime import datetime, timedelta
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator

with DAG("timeouts", schedule="@daily", start_date=datetime(2024, 1, 1),
         default_args={"execution_timeout": timedelta(seconds=1)}):
    PythonOperator(task_id="python", python_callable=lambda: time.sleep(30))
    BashOperator(task_id="bash", bash_command="sleep 30")
    BashOperator(task_id="quick", bash_command="true")
""")
    result = backfill(folder, "timeouts", "-s", "2024-01-01", "--continue-on-failures")
    assert result.exit_code == 1
    assert by_day(states("timeouts")) == {("python", "2024-01-01"): "failed", ("bash", "2024-01-01"): "failed",
                                          ("quick", "2024-01-01"): "success"}
    assert "execution_timeout of 1s exceeded" in result.output


DAG_CALLBACKS = """
import json, os
from datetime import datetime
from airflow import DAG
from airflow.operators.bash import BashOperator

def note(context):
    with open(os.environ["CALLBACK_LOG"], "a") as out:
        out.write(json.dumps([context["dag"].dag_id, context["ds"], context["reason"], context["ti"].task_id,
                              context["ti"].xcom_pull(task_ids="first")]) + "\\n")

def broken(context):
    raise RuntimeError("the DAG callback fails")

with DAG("fine", schedule="@daily", start_date=datetime(2024, 1, 1), on_success_callback=[broken, note],
         on_failure_callback=note):
    BashOperator(task_id="first", bash_command="echo one") >> BashOperator(task_id="last", bash_command="true")

with DAG("failing", schedule="@daily", start_date=datetime(2024, 1, 1), on_success_callback=note,
         on_failure_callback=note):
    BashOperator(task_id="first", bash_command="echo two") >> BashOperator(task_id="last", bash_command="exit 3")
"""


def test_dag_callbacks_run_as_the_run_ends_with_the_last_task_context_and_a_reason(tmp_path, monkeypatch):
    journal = tmp_path / "dag_callbacks.jsonl"
    monkeypatch.setenv("CALLBACK_LOG", str(journal))
    folder = write_dag(tmp_path, DAG_CALLBACKS)
    assert backfill(folder, "fine", "-s", "2024-01-01").exit_code == 0
    assert backfill(folder, "failing", "-s", "2024-01-01").exit_code == 1
    calls = [json.loads(line) for line in journal.read_text().splitlines()]
    assert calls == [["fine", "2024-01-01", "success", "last", "one"],
                     ["failing", "2024-01-01", "task_failure", "last", "two"]]
    log = tmp_path / "home" / "logs" / "fine" / "backfill__2024-01-01T00:00:00+00:00" / "dag_callbacks.log"
    assert "RuntimeError: the DAG callback fails" in log.read_text()
