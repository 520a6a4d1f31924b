from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator

KEYS = ["ds", "ds_nodash", "ts", "ts_nodash", "ts_nodash_with_tz", "logical_date", "execution_date",
        "data_interval_start", "data_interval_end", "prev_ds", "prev_ds_nodash", "next_ds", "next_ds_nodash",
        "yesterday_ds", "yesterday_ds_nodash", "tomorrow_ds", "tomorrow_ds_nodash", "run_id",
        "task_instance_key_str", "prev_data_interval_start_success", "prev_execution_date", "next_execution_date"]
TEMPLATES = {key: "{{ " + key + " }}" for key in KEYS}
TEMPLATES.update({
    "dag_run.run_id": "{{ dag_run.run_id }}", "dag_run.run_type": "{{ dag_run.run_type }}",
    "dag_run.conf": "{{ dag_run.conf }}", "dag_run.logical_date": "{{ dag_run.logical_date | ts }}",
    "dag.dag_id": "{{ dag.dag_id }}", "task.task_id": "{{ task.task_id }}", "ti.try_number": "{{ ti.try_number }}",
    "ti.task_id": "{{ task_instance.task_id }}", "params.p": "{{ params.p }}",
    "pendulum": "{{ logical_date.in_timezone('Asia/Tokyo').hour }}",
    "data_interval_end | ds": "{{ data_interval_end | ds }}",
})

with DAG("context_formats", schedule="10 0 * * *", start_date=datetime(2022, 1, 1), catchup=False,
         params={"p": "from params"}) as dag:
    PythonOperator(task_id="show", python_callable=lambda templates_dict: templates_dict, templates_dict=TEMPLATES)
