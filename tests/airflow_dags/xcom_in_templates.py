from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator


def push(**context):
    context["ti"].xcom_push(key="greeting", value="hello")
    return [1, 2, 3]


def pull(ti):
    return {"sum": sum(ti.xcom_pull(task_ids="push")), "greeting": ti.xcom_pull(task_ids="push", key="greeting"),
            "missing": ti.xcom_pull(task_ids="push", key="nope", default="none")}


with DAG("xcom_in_templates", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:
    p = PythonOperator(task_id="push", python_callable=push)
    echo = BashOperator(task_id="echo",
                        bash_command="echo {{ ti.xcom_pull(task_ids='push', key='greeting') }} "
                                     "{{ task_instance.xcom_pull(task_ids='push')[1] }}")
    quiet = BashOperator(task_id="quiet", bash_command="echo not pushed", do_xcom_push=False)
    from_output = BashOperator(task_id="from_output", bash_command=f"echo got {p.output}")
    p >> [echo, quiet, from_output]
    [echo, quiet] >> PythonOperator(task_id="pull", python_callable=pull)
