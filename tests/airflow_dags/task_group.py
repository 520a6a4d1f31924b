from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.utils.task_group import TaskGroup

with DAG("task_group", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:
    start = EmptyOperator(task_id="start")
    with TaskGroup("section", default_args={"bash_command": "echo from group default_args"}) as section:
        one = BashOperator(task_id="one")
        two = BashOperator(task_id="two", bash_command="echo {{ task.task_id }}")
        one >> two
    end = EmptyOperator(task_id="end")
    start >> section >> end
