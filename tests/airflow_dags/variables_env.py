from datetime import datetime

from airflow import DAG
from airflow.hooks.base import BaseHook
from airflow.models import Variable
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator

BUCKET = Variable.get("bucket", default_var="unset")


def read():
    conn = BaseHook.get_connection("warehouse")
    return {"bucket": BUCKET, "limits": Variable.get("limits", deserialize_json=True), "host": conn.host,
            "port": conn.port, "login": conn.login, "schema": conn.schema, "extra": conn.extra_dejson}


with DAG("variables_env", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:
    PythonOperator(task_id="read", python_callable=read)
    BashOperator(task_id="templated",
                 bash_command="echo {{ var.value.bucket }} {{ var.json.limits.rows }} "
                              "{{ var.value.get('absent', 'fallback') }} {{ conn.warehouse.host }}")
