from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import ShortCircuitOperator

with DAG("short_circuit", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:
    go = ShortCircuitOperator(task_id="go", python_callable=lambda: True)
    stop = ShortCircuitOperator(task_id="stop", python_callable=lambda: 0)
    stop_direct = ShortCircuitOperator(task_id="stop_direct", python_callable=lambda: False,
                                       ignore_downstream_trigger_rules=False)
    go >> EmptyOperator(task_id="after_go")
    stop >> EmptyOperator(task_id="after_stop") >> EmptyOperator(task_id="all_done_after_stop", trigger_rule="all_done")
    (stop_direct >> EmptyOperator(task_id="after_stop_direct")
     >> EmptyOperator(task_id="all_done_after_direct", trigger_rule="all_done"))
