from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.dummy import DummyOperator
from airflow.operators.empty import EmptyOperator

with DAG("empty_and_rules", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:
    start = DummyOperator(task_id="start")
    breaks = BashOperator(task_id="breaks", bash_command="exit 1")
    on_failure = EmptyOperator(task_id="on_failure", trigger_rule="one_failed")
    cleanup = EmptyOperator(task_id="cleanup", trigger_rule="all_done")
    normal = EmptyOperator(task_id="normal")
    start >> breaks >> [on_failure, cleanup, normal]
