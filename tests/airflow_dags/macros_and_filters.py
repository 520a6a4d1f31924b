from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator


def shout(text):
    return text.upper()


with DAG("macros_and_filters", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False,
         user_defined_macros={"project": "ledger"}, user_defined_filters={"shout": shout}) as dag:
    BashOperator(task_id="ds_add", bash_command="echo {{ macros.ds_add(ds, -1) }} {{ macros.ds_add(ds, 0) }}")
    BashOperator(task_id="ds_format", bash_command="echo {{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%Y') }}")
    BashOperator(task_id="relativedelta",
                 bash_command="echo {{ (logical_date + macros.dateutil.relativedelta.relativedelta(months=1)) | ds }}")
    BashOperator(task_id="timedelta", bash_command="echo {{ (data_interval_end - macros.timedelta(hours=1)) | ts }}")
    BashOperator(task_id="user_defined", bash_command="echo {{ project }} {{ 'quiet' | shout }}")
    BashOperator(task_id="neighbours", bash_command="echo {{ prev_ds }} {{ next_ds }} {{ yesterday_ds_nodash }}")
