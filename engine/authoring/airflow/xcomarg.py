"""XComArg: a task's future XCom value, standing for that task in dependencies and resolved when a try runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ledgerflow.engine.authoring.airflow.groups import _Edges
from ledgerflow.engine.authoring.dag import BaseTask

RETURN_VALUE = "return_value"


class XComArg(_Edges):
    def __init__(self, operator: BaseTask, key: str = RETURN_VALUE) -> None:
        self.operator = operator
        self.key = key

    def edge_tasks(self, as_upstream: bool, source: Any = None) -> list[BaseTask]:
        return [self.operator]

    def __getitem__(self, key: str) -> XComArg:
        return XComArg(self.operator, key)

    def __iter__(self) -> Iterator[Any]:
        raise TypeError("an XComArg is not iterable: dynamic task mapping (.expand) is not supported")

    def resolve(self, context: Any) -> Any:
        ti = context["ti"]
        return ti.xcom_pull(task_ids=self.operator.task_id, key=self.key, dag_id=self.operator.dag.dag_id,
                            _missing_is_error=self.key != RETURN_VALUE
                            and not getattr(self.operator, "multiple_outputs", False))

    def __str__(self) -> str:
        return (f"{{{{ task_instance.xcom_pull(task_ids='{self.operator.task_id}', "
                f"dag_id='{self.operator.dag.dag_id}', key='{self.key}') }}}}")

    def __repr__(self) -> str:
        return f"XComArg({self.operator!r}, {self.key!r})"

    def expand(self, **_: Any) -> Any:
        from ledgerflow.engine.authoring.airflow.unsupported import unsupported_feature

        raise unsupported_feature(f"task {self.operator.task_id!r}: dynamic task mapping (.expand)")

    map = zip = expand


class DagParam:
    """A `@dag` function's parameter as its body sees it: the run's `params[name]` when a try runs."""

    def __init__(self, name: str, default: Any) -> None:
        self.name = name
        self.default = default

    def resolve(self, context: Any) -> Any:
        return context["params"].get(self.name, self.default)

    def __str__(self) -> str:
        return f"{{{{ params.{self.name} }}}}"


def xcom_args_in(value: Any) -> Iterator[XComArg]:
    """Every XComArg inside a field value, at any nesting depth."""
    if isinstance(value, XComArg):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from xcom_args_in(v)
    elif isinstance(value, list | tuple | set):
        for v in value:
            yield from xcom_args_in(v)


def resolved(value: Any, context: Any) -> Any:
    """The field value with each XComArg replaced by the value it stands for."""
    if isinstance(value, XComArg | DagParam):
        return value.resolve(context)
    if isinstance(value, dict):
        return {k: resolved(v, context) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return type(value)(resolved(v, context) for v in value)
    return value
