from datetime import datetime

from airflow.decorators import dag, task


@dag(start_date=datetime(2024, 1, 1), schedule=None)
def dynamic_mapping():
    @task
    def add_one(x: int):
        return x + 1

    add_one.expand(x=[1, 2, 3])


dynamic_mapping()
