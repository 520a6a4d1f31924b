import json

import pendulum
from airflow.decorators import dag, task


@dag(schedule="@daily", start_date=pendulum.datetime(2021, 1, 1, tz="UTC"), catchup=False, tags=["example"])
def tutorial_taskflow_api():
    """A TaskFlow ETL: extract, transform (multiple_outputs), load."""

    @task()
    def extract():
        data_string = '{"1001": 301.27, "1002": 433.21, "1003": 502.22}'
        return json.loads(data_string)

    @task(multiple_outputs=True)
    def transform(order_data_dict: dict):
        total_order_value = 0
        for value in order_data_dict.values():
            total_order_value += value
        return {"total_order_value": round(total_order_value, 2), "count": len(order_data_dict)}

    @task()
    def load(total_order_value: float, count: int):
        print(f"Total order value is: {total_order_value:.2f}")
        return f"{count} orders, {total_order_value:.2f}"

    order_data = extract()
    order_summary = transform(order_data)
    load(order_summary["total_order_value"], order_summary["count"])


tutorial_taskflow_api()
