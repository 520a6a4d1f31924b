from datetime import datetime

from airflow import DAG
from airflow.models.param import Param
from airflow.operators.bash import BashOperator

with DAG("params_dag", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False,
         params={"rows": Param(10, type="integer", minimum=1), "label": "plain"}) as dag:
    BashOperator(task_id="show", bash_command="echo {{ params.rows }} {{ params.label }} {{ dag_run.conf }}")
