"""The standard operators: Bash, Python, BranchPython, ShortCircuit, Empty (Dummy), LatestOnly."""

from __future__ import annotations

import os
from collections.abc import Callable, Container, Iterable
from typing import Any

from ledgerflow.engine.authoring.airflow.bash_process import run_bash
from ledgerflow.engine.authoring.airflow.calling import CallableFields, call_callable
from ledgerflow.engine.authoring.airflow.exceptions import AirflowException, AirflowSkipException
from ledgerflow.engine.authoring.airflow.operators import BaseOperator
from ledgerflow.engine.authoring.dag import EmptyTask

SKIPMIXIN_KEY = "skipmixin_key"


class BashOperator(BaseOperator):
    template_fields = ("bash_command", "env", "cwd")
    template_ext = (".sh", ".bash")
    ui_color = "#f0ede4"

    def __init__(self, *, bash_command: str, env: dict[str, str] | None = None, append_env: bool = False,
                 output_encoding: str = "utf-8", skip_on_exit_code: int | Container[int] | None = 99,
                 skip_exit_code: int | None = None, cwd: str | None = None,
                 output_processor: Callable[[str], Any] = lambda output: output, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.append_env = append_env
        self.output_encoding = output_encoding
        self.skip_on_exit_code = skip_exit_code if skip_exit_code is not None else skip_on_exit_code
        self.cwd = cwd
        self.output_processor = output_processor

    def _skips(self, code: int) -> bool:
        codes = self.skip_on_exit_code
        if codes is None:
            return False
        return code == codes if isinstance(codes, int) else code in codes

    def execute(self, context: dict[str, Any]) -> Any:
        if self.cwd is not None and not os.path.isdir(self.cwd):
            raise AirflowException(f"Can not find the cwd: {self.cwd}")
        env = dict(os.environ) if self.env is None else {**(os.environ if self.append_env else {}), **self.env}
        env.update(airflow_context_vars(context))
        code, last = run_bash(self.bash_command, env, self.cwd, self.output_encoding)
        if self._skips(code):
            raise AirflowSkipException(f"Bash command returned exit code {code}. Skipping.")
        if code != 0:
            raise AirflowException(f"Bash command failed. The command returned a non-zero exit code {code}.")
        return self.output_processor(last)


def airflow_context_vars(context: dict[str, Any]) -> dict[str, str]:
    ti, dag_run, task = context["ti"], context["dag_run"], context["task"]
    date_name = "AIRFLOW_CTX_LOGICAL_DATE" if task.dag.airflow_mode == 3 else "AIRFLOW_CTX_EXECUTION_DATE"
    email = task.email if isinstance(task.email, str) else ",".join(task.email or [])
    return {"AIRFLOW_CTX_DAG_ID": ti.dag_id, "AIRFLOW_CTX_TASK_ID": ti.task_id,
            "AIRFLOW_CTX_TRY_NUMBER": str(ti.try_number), "AIRFLOW_CTX_DAG_RUN_ID": dag_run.run_id,
            "AIRFLOW_CTX_DAG_OWNER": str(task.owner), "AIRFLOW_CTX_DAG_EMAIL": email,
            date_name: dag_run.logical_date.isoformat()}


class PythonOperator(CallableFields, BaseOperator):
    ui_color = "#ffefeb"

    def __init__(self, *, python_callable: Callable[..., Any], op_args: Iterable[Any] | None = None,
                 op_kwargs: dict[str, Any] | None = None, templates_dict: dict[str, Any] | None = None,
                 templates_exts: Iterable[str] | None = None, show_return_value_in_logs: bool = True,
                 provide_context: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.take_callable(python_callable, op_args, op_kwargs, templates_dict)
        if templates_exts:
            self.template_ext = tuple(templates_exts)
        self.show_return_value_in_logs = show_return_value_in_logs

    def execute(self, context: dict[str, Any]) -> Any:
        context.update(self.op_kwargs, templates_dict=self.templates_dict)
        result = call_callable(self.python_callable, self.op_args, context)
        if self.show_return_value_in_logs:
            self.log.info("Done. Returned value was: %s", result)
        return result


def _roots_of(dag: Any, task_id: str) -> list[str]:
    """A branch may name a task group: it means the group's roots."""
    inside = {t for t in dag.tasks if t.startswith(task_id + ".")}
    return [t for t in inside if not (dag.tasks[t].upstream_task_ids & inside)]


def skip_all_except(task: BaseOperator, context: dict[str, Any], chosen: Any) -> None:
    """Skips every direct downstream task not chosen and not downstream of a chosen one (the join)."""
    ids = [] if chosen is None else [chosen] if isinstance(chosen, str) else list(chosen)
    dag = task.dag
    followed: list[str] = []
    for tid in ids:
        found = [tid] if tid in dag.tasks else _roots_of(dag, tid)
        if not found:
            raise AirflowException(f"'branch_task_ids' must contain only valid task_ids. Invalid tasks found: {tid}")
        followed.extend(found)
    reached = set(followed) | dag.relatives(followed, upstream=False)
    skip = sorted(t for t in task.downstream_task_ids if t not in reached)
    ti = context["ti"]
    ti.xcom_push(SKIPMIXIN_KEY, {"followed": sorted(set(followed))})
    ti.skip_downstream(skip)


class BranchPythonOperator(PythonOperator):
    decides_skips = True  # its recorded choice holds after a clear (see runtime.branch_memory)
    def execute(self, context: dict[str, Any]) -> Any:
        chosen = super().execute(context)
        skip_all_except(self, context, chosen)
        return chosen


class ShortCircuitOperator(PythonOperator):
    decides_skips = True
    def __init__(self, *, ignore_downstream_trigger_rules: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules

    def execute(self, context: dict[str, Any]) -> Any:
        condition = super().execute(context)
        if condition:
            return condition
        if self.ignore_downstream_trigger_rules:
            skip = sorted(self.dag.relatives([self.task_id], upstream=False))
        else:
            skip = sorted(self.downstream_task_ids)
        context["ti"].xcom_push(SKIPMIXIN_KEY, {"skipped": skip})
        context["ti"].skip_downstream(skip)
        return condition


class EmptyOperator(BaseOperator, EmptyTask):
    """Does nothing: its task instances succeed without a try being run, as in Airflow 2."""

    ui_color = "#e8f7e4"

    def execute(self, context: dict[str, Any]) -> None:
        return None


class LatestOnlyOperator(BaseOperator):
    """Lets its direct downstream tasks run only in the latest scheduled interval (and in manual runs)."""

    decides_skips = True

    def execute(self, context: dict[str, Any]) -> Any:
        from ledgerflow.engine.domain.dates import now

        dag_run = context["dag_run"]
        timetable = self.dag.timetable
        if dag_run.run_type == "manual" or not timetable.periodic:
            return list(self.downstream_task_ids)
        left = context["data_interval_end"]
        right = timetable.next_after(left)
        if left < now() <= right:
            return list(self.downstream_task_ids)
        skip_all_except(self, context, [])
        return []
