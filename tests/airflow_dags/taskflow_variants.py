from datetime import datetime

from airflow.decorators import dag, task


@dag(start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False)
def taskflow_variants():
    @task
    def number(n: int = 1):
        return n

    @task.bash
    def say(word):
        return f"echo {word} {{{{ ds }}}}"

    @task.branch
    def pick(value):
        return "chosen" if value > 1 else "not_chosen"

    @task
    def chosen():
        return "ran"

    @task
    def not_chosen():
        return "ran"

    @task.short_circuit
    def gate(value):
        return value > 100

    @task
    def after_gate():
        return "ran"

    @task
    def add(a, b):
        return a + b

    first = number()
    second = number(2)
    third = number.override(task_id="third")(3)
    say(add(first, second))
    pick(third) >> [chosen(), not_chosen()]
    gate(third) >> after_gate()


taskflow_variants()
