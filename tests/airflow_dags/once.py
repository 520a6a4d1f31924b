from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG(dag_id="once", start_date=datetime(2024, 1, 1), schedule="@once") as dag:
    BashOperator(task_id="only", bash_command="echo {{ ds }} {{ data_interval_start == data_interval_end }}")
