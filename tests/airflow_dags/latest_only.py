import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.operators.latest_only import LatestOnlyOperator
from airflow.operators.python import get_current_context

with DAG("latest_only", schedule="@daily", start_date=datetime.datetime(2024, 1, 1), catchup=False) as dag:
    latest = LatestOnlyOperator(task_id="latest_only")
    notify = EmptyOperator(task_id="notify")
    latest >> notify


def context_probe():
    context = get_current_context()
    return [context["ds"], context["ti"].task_id]


with DAG("current_context", schedule="@daily", start_date=datetime.datetime(2024, 1, 1), catchup=False):
    from airflow.decorators import task

    task(context_probe, task_id="probe")()
