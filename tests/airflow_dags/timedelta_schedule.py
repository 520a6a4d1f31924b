from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("timedelta_schedule", start_date=datetime(2024, 1, 1), schedule=timedelta(hours=12), catchup=False) as dag:
    BashOperator(task_id="interval", bash_command="echo {{ data_interval_start | ts }} {{ data_interval_end | ts }}")
