import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("dst_pendulum", start_date=pendulum.datetime(2024, 3, 29, tz="Europe/Amsterdam"), schedule="0 0 * * *",
         catchup=False) as dag:
    BashOperator(task_id="show", bash_command="echo {{ ds }} {{ ts }} {{ data_interval_end | ts }}")
