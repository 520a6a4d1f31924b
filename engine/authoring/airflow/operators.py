"""BaseOperator: a ledgerflow task with Airflow's arguments, defaults and `default_args` merging.

Every `__init__` in an operator's class hierarchy fills the parameters it names and was not
given from the merged default_args (the DAG's, the task groups', the task's own), as Airflow
does; keys that match nothing are ignored. Arguments that change nothing here are kept as
attributes, as Airflow keeps them, so the DAG model records them.
"""

from __future__ import annotations

import functools
import inspect
import logging
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ledgerflow.engine.authoring import dag as dag_module
from ledgerflow.engine.authoring.airflow import callbacks, groups, mode, retry_delay
from ledgerflow.engine.authoring.airflow.dates import Zone
from ledgerflow.engine.authoring.airflow.xcomarg import XComArg, xcom_args_in
from ledgerflow.engine.authoring.dag import BaseTask
from ledgerflow.engine.authoring.trigger_rules import RULE_ALIASES
from ledgerflow.engine.errors import DagDefinitionError

_SEMANTIC: dict[str, Any] = {  # the ledgerflow task fields they map onto
    "depends_on_past": False, "wait_for_downstream": False, "trigger_rule": "all_success", "retries": 0,
    "retry_delay": timedelta(seconds=300), "pool": None, "pool_slots": 1, "execution_timeout": None, "queue": "default",
}
_AIRFLOW: dict[str, Any] = {
    "do_xcom_push": True, "multiple_outputs": False, "params": None, "ignore_first_depends_on_past": True,
    "on_execute_callback": None, "on_success_callback": None, "on_failure_callback": None,
    "on_retry_callback": None, "on_skipped_callback": None, "pre_execute": None, "post_execute": None,
    "owner": "airflow", "email": None, "email_on_failure": True, "email_on_retry": True,
    "start_date": None, "end_date": None, "retry_exponential_backoff": False, "max_retry_delay": None,
    "priority_weight": 1, "weight_rule": "downstream", "sla": None, "max_active_tis_per_dag": None,
    "task_concurrency": None, "max_active_tis_per_dagrun": None, "executor": None, "executor_config": None,
    "run_as_user": None, "resources": None, "inlets": None, "outlets": None, "doc": None, "doc_md": None,
    "doc_json": None, "doc_yaml": None, "doc_rst": None, "task_display_name": None, "logger_name": None,
    "wait_for_past_depends_before_skipping": False, "allow_nested_operators": True, "map_index_template": None,
}


class _TaskLogHandler(logging.Handler):
    """Writes to whatever sys.stdout is when a record is emitted: the try's log while a try runs."""

    def emit(self, record: logging.LogRecord) -> None:
        sys.stdout.write(self.format(record) + "\n")


def _merged_default_args(kwargs: dict[str, Any]) -> dict[str, Any]:
    dag = kwargs.get("dag") or (dag_module._dag_context[-1] if dag_module._dag_context else None)
    group = kwargs.get("task_group") or groups.current()
    return {**(dag.default_args if dag is not None else {}), **(group.default_args if group else {}),
            **(kwargs.get("default_args") or {})}


def _filling(init: Callable[..., None]) -> Callable[..., None]:
    names = [p.name for p in list(inspect.signature(init).parameters.values())[1:]
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]

    @functools.wraps(init)
    def fill(self: BaseOperator, *args: Any, **kwargs: Any) -> None:
        if args:
            raise DagDefinitionError(f"{type(self).__name__}: use keyword arguments when creating operators")
        merged = _merged_default_args(kwargs)
        for name in names:
            if name not in kwargs and name in merged:
                kwargs[name] = merged[name]
        depth = self.__dict__.get("_init_depth", 0)
        self.__dict__["_init_depth"] = depth + 1
        try:
            init(self, **kwargs)
        finally:
            self.__dict__["_init_depth"] = depth
        if depth == 0:
            self._link_xcom_args()

    fill._fills_defaults = True  # type: ignore[attr-defined]
    return fill


class BaseOperator(BaseTask):
    """Subclass it with an `execute(self, context)`; its return value is the task's XCom return_value."""

    template_fields: tuple[str, ...] = ()
    template_ext: tuple[str, ...] = ()
    do_xcom_push: bool  # these and the other Airflow arguments are set in __init__
    multiple_outputs: bool
    start_date: Any  # as given (a datetime, naive in the DAG's zone, or ISO text), or None
    end_date: Any
    ui_color = "#fff"
    ui_fgcolor = "#000"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_fills_defaults", False):
            cls.__init__ = _filling(init)  # type: ignore[method-assign]

    def __init__(self, task_id: str | None = None, **kwargs: Any) -> None:
        if task_id is None:
            raise DagDefinitionError(f"{type(self).__name__}: missing keyword argument 'task_id'")
        unknown = sorted(set(kwargs) - _SEMANTIC.keys() - _AIRFLOW.keys() - {"dag", "task_group", "default_args"})
        if unknown:
            raise DagDefinitionError(f"Invalid arguments were passed to {type(self).__name__} (task_id: {task_id}): "
                                     f"{', '.join(unknown)}")
        merged = _merged_default_args(kwargs)
        values = {name: kwargs.get(name, merged.get(name, default)) for name, default in
                  (*_SEMANTIC.items(), *_AIRFLOW.items())}
        values["trigger_rule"] = str(getattr(values["trigger_rule"], "value", values["trigger_rule"]))
        if values["trigger_rule"] in RULE_ALIASES and mode.current() == 3:
            raise ValueError(f"'{values['trigger_rule']}' is not a valid TriggerRule (Airflow 3 removed the alias)")
        if values["max_active_tis_per_dag"] is None:
            values["max_active_tis_per_dag"] = values["task_concurrency"]
        group = kwargs.get("task_group") or groups.current()
        full_id = f"{group.prefix}{task_id}" if group is not None else task_id
        for name, value in values.items():
            if name not in _SEMANTIC:  # pre_execute/post_execute name hooks, not the methods
                setattr(self, f"_{name}_hook" if name in ("pre_execute", "post_execute") else name, value)
        self.params = {**(merged.get("params") or {}), **(values["params"] or {})}
        self.default_args = merged
        self.task_group = group
        super().__init__(full_id, dag=kwargs.get("dag"), **{n: values[n] for n in _SEMANTIC})
        if group is not None:
            group.add(self)
        self.log = logging.getLogger(f"airflow.task.operators.{type(self).__module__}.{type(self).__name__}")
        if not self.log.handlers:
            self.log.addHandler(_TaskLogHandler(logging.INFO))
            self.log.setLevel(logging.INFO)

    def _link_xcom_args(self) -> None:
        """An XComArg in a templated field makes its task an upstream, as in Airflow."""
        for name in self.template_fields:
            for arg in xcom_args_in(getattr(self, name, None)):
                arg.operator.set_downstream(self)

    @property
    def output(self) -> XComArg:
        return XComArg(self)

    @property
    def upstream_list(self) -> list[BaseTask]:
        return [self.dag.tasks[t] for t in sorted(self.upstream_task_ids)]

    @property
    def downstream_list(self) -> list[BaseTask]:
        return [self.dag.tasks[t] for t in sorted(self.downstream_task_ids)]

    def has_instance_at(self, logical_date: datetime) -> bool:
        zone = Zone(self.dag.timezone)
        start, end = zone.aware(self.start_date), zone.aware(self.end_date)
        return (start is None or logical_date >= start) and (end is None or logical_date <= end)

    def retry_wait(self, failed_try: int, run_key: str) -> timedelta:
        return retry_delay.retry_wait(self, failed_try, run_key)

    def try_ended(self, outcome: str, context: dict[str, Any], exception: BaseException | None) -> None:
        kind = {"success": "success", "skipped": "skipped", "up_for_retry": "retry", "failed": "failure"}[outcome]
        callbacks.run_callbacks(self, kind, context, exception)

    def execute(self, context: dict[str, Any]) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no execute(context)")

    @classmethod
    def partial(cls, **_: Any) -> Any:
        from ledgerflow.engine.authoring.airflow.unsupported import unsupported_feature

        raise unsupported_feature(f"{cls.__name__}.partial(...).expand(...): dynamic task mapping")


BaseOperator.__init__ = _filling(BaseOperator.__init__)  # type: ignore[method-assign]
