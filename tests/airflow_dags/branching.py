from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import BranchPythonOperator
from airflow.utils.edgemodifier import Label
from airflow.utils.trigger_rule import TriggerRule


def choose(logical_date, **_):
    return "weekend" if logical_date.weekday() >= 5 else "weekday"


with DAG("branching", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:
    branch = BranchPythonOperator(task_id="branch", python_callable=choose)
    weekday = EmptyOperator(task_id="weekday")
    weekend = EmptyOperator(task_id="weekend")
    after_weekend = EmptyOperator(task_id="after_weekend")
    join = EmptyOperator(task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
    branch >> Label("mon-fri") >> weekday >> join
    branch >> Label("sat-sun") >> weekend >> after_weekend >> join
