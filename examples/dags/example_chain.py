"""A daily chain: extract >> transform >> load."""

from datetime import datetime, timedelta

from ledgerflow import DAG, BashTask, PythonTask


def transform(ds, params):
    print(f"transforming {ds} with factor {params['factor']}")


with DAG(
    "example_chain",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,  # the scheduler starts from the latest interval; backfill fills the past
    params={"factor": 2},
    default_args={"retries": 1, "retry_delay": timedelta(seconds=1)},
    description="Extract, transform and load one day of data.",
) as dag:
    extract = BashTask("extract", bash_command="echo extracting {{ ds }}")
    step = PythonTask("transform", python_callable=transform)
    load = BashTask("load", bash_command="echo loading {{ ds_nodash }} for run {{ run_id }}")
    extract >> step >> load
