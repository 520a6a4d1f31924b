"""Calling a Python callable as Airflow does: op_args first, then the context names its signature asks for
(all of it with **kwargs), op_kwargs and templates_dict merged into the context first."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ledgerflow.engine.errors import DagDefinitionError


class CallableFields:
    """What PythonOperator and PythonSensor keep: the callable and its templated arguments."""

    template_fields: tuple[str, ...] = ("templates_dict", "op_args", "op_kwargs")
    task_id: str
    python_callable: Callable[..., Any]
    op_args: list[Any]
    op_kwargs: dict[str, Any]
    templates_dict: dict[str, Any] | None

    def take_callable(self, python_callable: Any, op_args: Iterable[Any] | None, op_kwargs: dict[str, Any] | None,
                      templates_dict: dict[str, Any] | None) -> None:
        if not callable(python_callable):
            raise DagDefinitionError(f"task {self.task_id!r}: python_callable is not callable")
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        self.templates_dict = templates_dict


def call_callable(func: Callable[..., Any], op_args: Sequence[Any], context: Mapping[str, Any]) -> Any:
    params = list(inspect.signature(func).parameters.values())
    if any(p.kind is p.VAR_KEYWORD for p in params):
        positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        for name in positional[:len(op_args)]:
            if name in context:
                raise ValueError(f"The key {name!r} in args is a part of kwargs and therefore reserved.")
        taken = set(positional[:len(op_args)])
        return func(*op_args, **{k: v for k, v in context.items() if k not in taken})
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        named = [p for p in params if p.kind is not p.VAR_POSITIONAL]
        return func(*op_args, **{p.name: context[p.name] for p in named
                                 if p.kind is p.KEYWORD_ONLY and p.name in context})
    rest = params[len(op_args):]
    return func(*op_args, **{p.name: context[p.name] for p in rest if p.name in context})
