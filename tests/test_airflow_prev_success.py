"""`prev_*_success` come from the DAG's latest earlier successful run (a failed run in between is
passed over); the first run has none. Native PythonTask return values and op_args as the contract says."""

from __future__ import annotations

import pytest
from airflow_corpus import backfill, by_day, returns, states, write_dag

pytestmark = pytest.mark.usefixtures("database_url")

PREV_SUCCESS_DAG = """
from datetime import datetime
from airflow import DAG
from airflow.operators.python import PythonOperator

def show(ds, prev_data_interval_start_success, prev_data_interval_end_success, prev_start_date_success,
         prev_end_date_success, prev_execution_date_success, data_interval_start):
    if ds == "2024-01-02":
        raise ValueError("this day fails")
    text = lambda d: None if d is None else d.isoformat()
    ordered = (prev_start_date_success is None
               or prev_start_date_success <= prev_end_date_success <= data_interval_start.now("UTC"))
    return {"start": text(prev_data_interval_start_success), "end": text(prev_data_interval_end_success),
            "logical": text(prev_execution_date_success), "dated": prev_start_date_success is not None,
            "ordered": ordered}

with DAG("prev_success", schedule="@daily", start_date=datetime(2024, 1, 1), max_active_runs=1) as dag:
    PythonOperator(task_id="show", python_callable=show)
"""


def test_prev_success_values_come_from_the_latest_earlier_successful_run(tmp_path):
    folder = write_dag(tmp_path, PREV_SUCCESS_DAG)
    assert backfill(folder, "prev_success", "-s", "2024-01-01", "-e", "2024-01-03",
                    "--continue-on-failures").exit_code == 1
    assert by_day(states("prev_success")) == {("show", "2024-01-01"): "success", ("show", "2024-01-02"): "failed",
                                              ("show", "2024-01-03"): "success"}
    found = returns("prev_success")
    assert found["show", "2024-01-01"] == {"start": None, "end": None, "logical": None, "dated": False,
                                           "ordered": True}
    assert found["show", "2024-01-03"] == {"start": "2024-01-01T00:00:00+00:00",
                                           "end": "2024-01-02T00:00:00+00:00",
                                           "logical": "2024-01-01T00:00:00+00:00", "dated": True, "ordered": True}


def test_prev_success_in_a_template_of_an_airflow_3_file(tmp_path):
    folder = write_dag(tmp_path, """
from datetime import datetime
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("prev_success_3", schedule="@daily", start_date=datetime(2024, 1, 1), max_active_runs=1) as dag:
    BashOperator(task_id="echo", bash_command="echo {{ prev_data_interval_end_success | ds }}")
""")
    assert backfill(folder, "prev_success_3", "-s", "2024-01-01", "-e", "2024-01-02").exit_code == 0
    assert returns("prev_success_3") == {("echo", "2024-01-01"): "None", ("echo", "2024-01-02"): "2024-01-01"}


def test_a_native_python_task_pushes_its_return_value_and_takes_op_args(tmp_path):
    folder = write_dag(tmp_path, """
from datetime import datetime
from ledgerflow import DAG, PythonTask

def first(a, b, ds):
    return {"sum": a + b, "ds": ds}

def second(ti):
    return ti.xcom_pull(task_ids="first")["sum"] * 10

with DAG("native_xcom", schedule="@daily", start_date=datetime(2024, 1, 1)) as dag:
    PythonTask("first", first, op_args=[1, "{{ ds_nodash | length }}"], op_kwargs={}) \\
        >> PythonTask("second", second)
""".replace('"{{ ds_nodash | length }}"', "2"))
    assert backfill(folder, "native_xcom", "-s", "2024-01-05").exit_code == 0
    assert returns("native_xcom") == {("first", "2024-01-05"): {"sum": 3, "ds": "2024-01-05"},
                                      ("second", "2024-01-05"): 30}


def test_python_task_takes_op_args_then_op_kwargs_positionally_as_the_contract_orders_them():
    from ledgerflow import DAG, PythonTask

    with DAG("positional"):
        task = PythonTask("p", print, [1, 2], {"sep": "-"})
    assert (task.op_args, task.op_kwargs) == ([1, 2], {"sep": "-"})
