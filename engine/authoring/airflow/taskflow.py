"""TaskFlow: `@task` (and .python, .bash, .branch, .short_circuit) turns a function into a task factory;
each call makes one task and returns the XComArg of its result."""

from __future__ import annotations

import collections.abc
import functools
import inspect
import re
import typing
from collections.abc import Callable
from typing import Any

from ledgerflow.engine.authoring import dag as dag_module
from ledgerflow.engine.authoring.airflow import groups
from ledgerflow.engine.authoring.airflow.operators import BaseOperator
from ledgerflow.engine.authoring.airflow.sensors import DecoratedSensor
from ledgerflow.engine.authoring.airflow.standard import (
    BashOperator,
    BranchPythonOperator,
    PythonOperator,
    ShortCircuitOperator,
)
from ledgerflow.engine.authoring.airflow.unsupported import unsupported_feature
from ledgerflow.engine.authoring.airflow.xcomarg import XComArg
from ledgerflow.engine.authoring.context import CONTEXT_KEYS


# A call's arguments are op_args/op_kwargs (templated fields, so XComArgs among them make upstream edges),
# and the function is called with the context names it asks for when a try runs.
class _PythonTask(PythonOperator):
    pass


class _BranchTask(BranchPythonOperator):
    pass


class _ShortCircuitTask(ShortCircuitOperator):
    pass


class _BashTask(PythonOperator):
    """The function returns the command; it runs as a BashOperator's would (re-rendered in Airflow 3)."""

    template_fields: tuple[str, ...] = ("op_args", "op_kwargs", "bash_command", "env", "cwd")

    def __init__(self, *, env: dict[str, str] | None = None, append_env: bool = False, cwd: str | None = None,
                 skip_on_exit_code: Any = 99, output_encoding: str = "utf-8", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bash_command = ""
        self.env, self.append_env, self.cwd = env, append_env, cwd
        self.skip_on_exit_code, self.output_encoding = skip_on_exit_code, output_encoding
        self.output_processor: Callable[[str], Any] = lambda output: output

    def execute(self, context: dict[str, Any]) -> Any:
        from ledgerflow.engine.authoring.airflow.calling import call_callable

        command = call_callable(self.python_callable, self.op_args, {**context, **self.op_kwargs})
        if not isinstance(command, str) or not command.strip():
            raise TypeError("The returned value from the TaskFlow callable must be a non-empty string.")
        if self.dag.airflow_mode == 3:
            from ledgerflow.engine.authoring.templating import render

            command = render(command, context, self.dag)
        self.bash_command = command
        return BashOperator.execute(self, context)  # type: ignore[arg-type]

    _skips = BashOperator._skips


_KINDS: dict[str, type[BaseOperator]] = {"python": _PythonTask, "branch": _BranchTask,
                                         "short_circuit": _ShortCircuitTask, "bash": _BashTask,
                                         "sensor": DecoratedSensor}
_REFUSED = ("virtualenv", "external_python", "branch_virtualenv", "branch_external_python", "docker", "kubernetes",
            "pyspark", "run_if", "skip_if", "setup", "teardown", "sql", "kubernetes_cmd", "branch_python")


def _returns_mapping(func: Callable[..., Any]) -> bool:
    try:
        hint = typing.get_type_hints(func).get("return")
    except Exception:  # noqa: BLE001 - an unresolvable annotation says nothing about the result
        return False
    origin = typing.get_origin(hint) or hint
    return isinstance(origin, type) and issubclass(origin, collections.abc.Mapping)


def _unique_id(task_id: str) -> str:
    """`f`, then `f__1`, `f__2`...: one more than the highest suffix in use."""
    dag = dag_module._dag_context[-1] if dag_module._dag_context else None
    group = groups.current()
    prefix = group.prefix if group else ""
    if dag is None or prefix + task_id not in dag.tasks:
        return task_id
    base = re.sub(r"__\d+$", "", task_id)
    pattern = re.compile(re.escape(prefix + base) + r"__(\d+)$")
    used = [int(m.group(1)) for t in dag.tasks if (m := pattern.match(t))]
    return f"{base}__{max(used, default=0) + 1}"


class TaskFactory:
    def __init__(self, function: Callable[..., Any], kind: str, kwargs: dict[str, Any]) -> None:
        functools.update_wrapper(self, function)
        self.function, self.kind, self.kwargs = function, kind, kwargs
        self.signature = inspect.signature(function)

    def __call__(self, *args: Any, **kwargs: Any) -> XComArg:
        bound = self.signature.bind_partial(*args, **kwargs)
        merged = {**(dag_module._dag_context[-1].default_args if dag_module._dag_context else {}),
                  **(self.kwargs.get("default_args") or {})}
        for name, param in self.signature.parameters.items():
            if name in bound.arguments or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if name in merged:
                bound.arguments[name] = merged[name]
            elif param.default is param.empty and name not in CONTEXT_KEYS:
                raise TypeError(f"{self.function.__name__}() missing required argument: {name!r}")
        options = dict(self.kwargs)
        options.setdefault("multiple_outputs", _returns_mapping(self.function))
        task_id = _unique_id(options.pop("task_id", None) or self.function.__name__)
        operator = _KINDS[self.kind](task_id=task_id, python_callable=self.function, op_args=list(bound.args),
                                     op_kwargs=dict(bound.kwargs), **options)
        return XComArg(operator)

    def override(self, **kwargs: Any) -> TaskFactory:
        return TaskFactory(self.function, self.kind, {**self.kwargs, **kwargs})

    def partial(self, **_: Any) -> Any:
        raise unsupported_feature(f"task {self.function.__name__!r}: dynamic task mapping (.partial/.expand)")

    expand = expand_kwargs = partial


class _TaskDecorator:
    """`task`: `@task`, `@task(...)`, `@task.python`, `@task.bash`, `@task.branch`, `@task.short_circuit`,
    `@task.sensor`."""

    def __init__(self, kind: str = "python") -> None:
        self._kind = kind

    def __call__(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        if python_callable is not None and callable(python_callable):
            return TaskFactory(python_callable, self._kind, kwargs)
        return lambda func: TaskFactory(func, self._kind, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name in _KINDS:
            return _TaskDecorator(name)
        if name.startswith("_"):
            raise AttributeError(name)
        raise unsupported_feature(f"@task.{name}" if name in _REFUSED else f"@task.{name} (unknown)")


task = _TaskDecorator()
