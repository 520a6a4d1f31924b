"""How a try of an Airflow operator runs: its fields rendered (XComArgs resolved) on a copy of the task,
`execute(context)` with get_current_context() answering, its output in the try's log, and its return
value pushed as XCom (each key too with multiple_outputs) unless do_xcom_push is False."""

from __future__ import annotations

import copy
from typing import IO, Any

from ledgerflow.engine.authoring.airflow.callbacks import run_callbacks
from ledgerflow.engine.authoring.airflow.context_access import current_context
from ledgerflow.engine.authoring.airflow.operators import BaseOperator
from ledgerflow.engine.authoring.airflow.xcomarg import resolved
from ledgerflow.engine.runtime.jobs import TaskJob
from ledgerflow.engine.runtime.worker import _alarm, _captured, runs_tries_of


@runs_tries_of(BaseOperator)
def _operator_try(task: BaseOperator, job: TaskJob, context: dict[str, Any], fields: dict[str, Any],
                  log: IO[str]) -> None:
    op = copy.copy(task)  # the loaded task serves later tries in this process: render onto a copy
    ti = context["ti"]
    with _captured(log), _alarm(job.timeout), current_context(context):
        for name, value in fields.items():
            setattr(op, name, resolved(value, context))
        context["task"] = op
        run_callbacks(op, "execute", context)
        hook = getattr(op, "_pre_execute_hook", None)
        if hook is not None:
            hook(context)
        result = op.execute(context)
        hook = getattr(op, "_post_execute_hook", None)
        if hook is not None:
            hook(context, result)
        if op.do_xcom_push:
            ti.push_result(result, bool(op.multiple_outputs))
