from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from dateutil.relativedelta import relativedelta

with DAG("relativedelta_schedule", start_date=datetime(2024, 1, 15), schedule=relativedelta(months=1),
         catchup=False) as dag:
    BashOperator(task_id="month", bash_command="echo {{ data_interval_start | ds }} {{ data_interval_end | ds }}")
