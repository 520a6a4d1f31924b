from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("bash_env", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False,
         default_args={"owner": "ops"}) as dag:
    BashOperator(task_id="only_env", bash_command='echo "${GREETING:-none} ${HOME_MARK:-unset}"',
                 env={"GREETING": "hi"})
    BashOperator(task_id="append_env", bash_command='echo "$GREETING $HOME_MARK"', env={"GREETING": "hi"},
                 append_env=True)
    BashOperator(task_id="cwd", bash_command="pwd", cwd="/tmp")
    BashOperator(task_id="skip", bash_command="echo skipping; exit 99")
    BashOperator(task_id="custom_skip", bash_command="exit 3", skip_on_exit_code=[3, 4])
    BashOperator(task_id="fails", bash_command="echo bad; exit 1")
    BashOperator(task_id="ctx", bash_command='echo "$AIRFLOW_CTX_DAG_ID $AIRFLOW_CTX_TASK_ID $AIRFLOW_CTX_TRY_NUMBER '
                                             '$AIRFLOW_CTX_DAG_OWNER $AIRFLOW_CTX_EXECUTION_DATE"')
    BashOperator(task_id="templated_env", bash_command='echo "$DAY"', env={"DAY": "{{ ds_nodash }}"})
