import os
from datetime import datetime
from pathlib import Path

from airflow.decorators import dag, task


@dag(schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False)
def taskflow_recompute():
    @task
    def extract() -> dict:
        return {"value": int(Path(os.environ["RECOMPUTE_INPUT"]).read_text())}

    @task
    def double(value):
        return value * 2

    double(extract()["value"])


taskflow_recompute()
