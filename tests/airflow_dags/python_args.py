from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator


def positional(a, b, c=0):
    return a + b + c


def named_context(ds, ti, params, run_id):
    return [ds, ti.task_id, params["who"], run_id]


def whole_context(**context):
    return sorted(k for k in ("ds", "ti", "dag_run", "templates_dict", "extra") if k in context)


def templated(templates_dict, extra, **_):
    return {"day": templates_dict["day"], "extra": extra}


with DAG("python_args", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False,
         params={"who": "team"}) as dag:
    PythonOperator(task_id="positional", python_callable=positional, op_args=[1, 2], op_kwargs={"c": 3})
    PythonOperator(task_id="named_context", python_callable=named_context)
    PythonOperator(task_id="whole_context", python_callable=whole_context, op_kwargs={"extra": 1})
    PythonOperator(task_id="templated", python_callable=templated, templates_dict={"day": "{{ ds_nodash }}"},
                   op_kwargs={"extra": "{{ params.who }}"})
    PythonOperator(task_id="returns_none", python_callable=lambda: None)
