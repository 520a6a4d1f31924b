from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowFailException, AirflowSkipException
from airflow.models.baseoperator import BaseOperator


class HelloOperator(BaseOperator):
    template_fields = ("name",)

    def __init__(self, name: str, suffix: str = "!", **kwargs) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.suffix = suffix

    def execute(self, context):
        message = f"Hello {self.name}{self.suffix}"
        self.log.info(message)
        return message


class SkipOperator(BaseOperator):
    def execute(self, context):
        raise AirflowSkipException("nothing to do")


class FailHardOperator(BaseOperator):
    def execute(self, context):
        raise AirflowFailException("no point retrying")


with DAG("custom_operator", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False,
         default_args={"suffix": "?", "retries": 2, "retry_delay": timedelta(seconds=0)}) as dag:
    HelloOperator(task_id="hello", name="{{ ds }}")
    HelloOperator(task_id="hello_explicit", name="world", suffix=".")
    SkipOperator(task_id="skip")
    FailHardOperator(task_id="fail_hard")
