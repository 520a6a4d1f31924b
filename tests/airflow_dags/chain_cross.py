from datetime import datetime

from airflow import DAG
from airflow.models.baseoperator import chain, cross_downstream
from airflow.operators.empty import EmptyOperator

with DAG("chain_cross", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:
    a, b, c, d, e, f = (EmptyOperator(task_id=t) for t in "abcdef")
    x1, x2, y1, y2 = (EmptyOperator(task_id=t) for t in ("x1", "x2", "y1", "y2"))
    chain(a, [b, c], [d, e], f)
    cross_downstream([x1, x2], [y1, y2])
    f >> [x1, x2]
