"""TaskGroup, `@task_group`, Label edges and the dependency helpers `chain`, `cross_downstream`, `chain_linear`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from ledgerflow.engine.authoring.dag import BaseTask
from ledgerflow.engine.authoring.operands import Linking, tasks_of
from ledgerflow.engine.errors import DagDefinitionError

_open: list[TaskGroup] = []


def current() -> TaskGroup | None:
    return _open[-1] if _open else None


class _Edges(Linking):
    """Dependencies of things that stand for tasks."""

    def edge_tasks(self, as_upstream: bool, source: Any = None) -> list[BaseTask]:
        raise NotImplementedError

    def set_downstream(self, other: Any) -> None:
        for up in tasks_of(self, as_upstream=True):
            up.set_downstream(other)

    def set_upstream(self, other: Any) -> None:
        for down in tasks_of(self, as_upstream=False):
            down.set_upstream(other)


class TaskGroup(_Edges):
    """Prefixes its tasks' ids with `group_id.` (unless prefix_group_id=False) and lends them default_args;
    as an upstream it stands for its leaves, as a downstream for its roots."""

    def __init__(self, group_id: str, prefix_group_id: bool = True, default_args: dict[str, Any] | None = None,
                 tooltip: str = "", ui_color: str = "CornflowerBlue", ui_fgcolor: str = "#000",
                 add_suffix_on_collision: bool = False, dag: Any = None, parent_group: TaskGroup | None = None,
                 group_display_name: str | None = None) -> None:
        self.parent = parent_group or current()
        self.group_id = f"{self.parent.prefix}{group_id}" if self.parent else group_id
        self.prefix_group_id = prefix_group_id
        inherited = self.parent.default_args if self.parent else {}
        self.default_args: dict[str, Any] = {**inherited, **(default_args or {})}
        self.tooltip = tooltip
        self.tasks: list[BaseTask] = []

    @property
    def prefix(self) -> str:
        own = f"{self.group_id}." if self.prefix_group_id else ""
        return own or (self.parent.prefix if self.parent else "")

    def add(self, task: BaseTask) -> None:
        group: TaskGroup | None = self
        while group is not None:
            group.tasks.append(task)
            group = group.parent

    @property
    def task_ids(self) -> list[str]:
        return [t.task_id for t in self.tasks]

    def edge_tasks(self, as_upstream: bool, source: Any = None) -> list[BaseTask]:
        if not self.tasks:
            raise DagDefinitionError(f"task group {self.group_id!r} has no tasks to link")
        members = self.tasks
        ids = set(self.task_ids)
        if as_upstream:
            return [t for t in members if not (t.downstream_task_ids & ids)]
        return [t for t in members if not (t.upstream_task_ids & ids)]

    @property
    def roots(self) -> list[BaseTask]:
        return self.edge_tasks(False)

    def __enter__(self) -> TaskGroup:
        _open.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _open.pop()


def task_group(python_callable: Callable[..., Any] | None = None, **group_kwargs: Any) -> Any:
    """`@task_group` or `@task_group(group_id=..., ...)`: calling the function builds its tasks in a group."""

    def decorate(func: Callable[..., Any]) -> Callable[..., TaskGroup]:
        @functools.wraps(func)
        def build(*args: Any, **kwargs: Any) -> TaskGroup:
            group_id = group_kwargs.get("group_id") or func.__name__
            with TaskGroup(**{**group_kwargs, "group_id": group_id}) as group:
                func(*args, **kwargs)
            return group

        return build

    return decorate(python_callable) if python_callable is not None else decorate


class Label(_Edges):
    """A named edge (`a >> Label("why") >> b` links a to b); the name is only shown in Airflow's UI."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._from: list[BaseTask] = []

    def edge_tasks(self, as_upstream: bool, source: Any = None) -> list[BaseTask]:
        if not as_upstream:
            if source is not None:
                self._from.extend(tasks_of(source, as_upstream=True))
            return []
        return list(self._from)

    def set_upstream(self, other: Any) -> None:
        self._from.extend(tasks_of(other, as_upstream=True))


def _pairwise(up: Any, down: Any) -> None:
    if isinstance(up, Sequence) and isinstance(down, Sequence):
        if len(up) != len(down):
            raise DagDefinitionError(f"chain not supported for different length Iterable: {len(up)} and {len(down)}")
        for a, b in zip(up, down, strict=True):
            a >> b
    elif isinstance(up, Sequence):
        for a in up:
            a >> down
    else:
        up >> down


def chain(*tasks: Any) -> None:
    """Links each element to the next; two adjacent lists are linked pairwise."""
    for up, down in zip(tasks, tasks[1:], strict=False):
        _pairwise(up, down)


def cross_downstream(from_tasks: Sequence[Any], to_tasks: Any) -> None:
    for task in from_tasks:
        task >> to_tasks


def chain_linear(*elements: Any) -> None:
    """Links every task of each element to every task of the next."""
    if len(elements) < 2:
        raise DagDefinitionError("chain_linear needs at least two elements to link")
    for up, down in zip(elements, elements[1:], strict=False):
        for a in up if isinstance(up, Sequence) else [up]:
            a >> down
