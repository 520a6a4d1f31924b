from datetime import datetime

from airflow.sdk import DAG, task

with DAG("sdk_dag", start_date=datetime(2024, 1, 1), schedule="@daily") as dag:
    @task
    def when(ds=None, data_interval_start=None, data_interval_end=None, **context):
        return [ds, data_interval_start == data_interval_end, "execution_date" in context]

    when()
