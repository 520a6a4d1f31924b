from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("first_of_two", start_date=datetime(2024, 1, 1), schedule="@daily") as first:
    EmptyOperator(task_id="a")

second = DAG("second_of_two", start_date=datetime(2024, 1, 1), schedule="@daily")
EmptyOperator(task_id="b", dag=second)

for name in ("alpha", "beta"):
    generated = DAG(f"generated_{name}", start_date=datetime(2024, 1, 1), schedule=None)
    EmptyOperator(task_id="t", dag=generated)
    globals()[f"generated_{name}"] = generated

for name in ("gamma", "delta"):
    lost = DAG(f"rebound_{name}", start_date=datetime(2024, 1, 1), schedule=None)
    EmptyOperator(task_id="t", dag=lost)
