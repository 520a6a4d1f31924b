"""What the operands of `>>` and `<<` stand for, and the operators themselves."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ledgerflow.engine.errors import DagDefinitionError


def tasks_of(item: Any, *, as_upstream: bool, source: Any = None) -> list[Any]:
    """The tasks a dependency operand stands for: a task, an iterable of operands, or anything with
    `edge_tasks(as_upstream, source)` (an XComArg stands for its task, a task group for its leaves or
    roots, a Label for the tasks linked to it)."""
    if hasattr(item, "downstream_task_ids"):  # a task
        return [item]
    edge_tasks = getattr(item, "edge_tasks", None)
    if edge_tasks is not None:
        return list(edge_tasks(as_upstream, source))
    if isinstance(item, str) or not isinstance(item, Iterable):
        raise DagDefinitionError(f"{item!r} is not a task: dependencies link tasks")
    return [task for part in item for task in tasks_of(part, as_upstream=as_upstream, source=source)]



class Linking:
    """`a >> b`, `a << b` and their reflections over `set_downstream`/`set_upstream`; each returns the
    operand on its right, so chains read left to right."""

    def set_downstream(self, other: Any) -> None:
        raise NotImplementedError

    def set_upstream(self, other: Any) -> None:
        raise NotImplementedError

    def __rshift__(self, other: Any) -> Any:
        self.set_downstream(other)
        return other

    def __lshift__(self, other: Any) -> Any:
        self.set_upstream(other)
        return other

    def __rrshift__(self, other: Any) -> Any:
        self.set_upstream(other)
        return self

    def __rlshift__(self, other: Any) -> Any:
        self.set_downstream(other)
        return self
