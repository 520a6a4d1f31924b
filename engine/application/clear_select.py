"""What `tasks clear` selects: DAGs, tasks, date bounds, and the sub-DAG relatives of both.

A selection is a set of scopes, one per DAG: its tasks and the logical-date bounds
of the DAG the user named. Clearing a SubDagTask pulls in every task of its child
DAG (unless -x); clearing inside a child DAG pulls in the parent's SubDagTask and
its downstream (unless -X), recursively, so both the listing and the clearing
cover them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ledgerflow.engine.authoring.dag import DAG, SubDagTask
from ledgerflow.engine.authoring.dagbag import load_dag, load_dagbag
from ledgerflow.engine.domain.dates import iso, now, parse_date
from ledgerflow.engine.domain.patterns import compile_pattern
from ledgerflow.engine.errors import DagNotFound, InvalidInput
from ledgerflow.engine.infrastructure import settings


@dataclass
class Scope:
    dag: DAG
    task_ids: set[str]
    start: datetime | None
    end: datetime | None
    reached: str = "selected"  # or "sub-DAG of ...", "parent of ..."


@dataclass
class Selection:
    scopes: dict[str, Scope] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def resolve_dags(dag_id: str, *, regex: bool, subdir: Path | None) -> list[DAG]:
    folder = subdir or settings.dags_folder()
    if not regex:
        return [load_dag(folder, dag_id)]
    pattern = compile_pattern(dag_id, "dag_regex")
    bag = load_dagbag(folder)
    found = [d for i, d in sorted(bag.dags.items()) if pattern.search(i)]
    if not found:
        raise DagNotFound(
            f"dag_id could not be found with regex: {dag_id}. "
            f"Either the dag did not exist or it failed to parse."
        )
    return found


def bounds(dag: DAG, start: str | None, end: str | None, *, past: bool, future: bool
           ) -> tuple[datetime | None, datetime | None]:
    """No -s: all history; no -e: up to now; --past / --future drop the bound."""
    lo = parse_date(start, dag.timezone, what="start_date") if start else None
    hi = parse_date(end, dag.timezone, what="end_date") if end else now()
    if lo is not None and end and hi < lo:
        raise InvalidInput(f"end date {iso(hi)} is before start date {iso(lo)}")
    return (None if past else lo), (None if future else hi)


def matching_tasks(dag: DAG, regex: str | None, *, upstream: bool, downstream: bool) -> set[str]:
    if regex is None:
        return set(dag.tasks)
    matched = dag.match_tasks(regex)
    if upstream:
        matched |= dag.relatives(matched, upstream=True)
    if downstream:
        matched |= dag.relatives(matched, upstream=False)
    return matched


def select(dags: list[DAG], *, task_regex: str | None, upstream: bool, downstream: bool,
           start: str | None, end: str | None, past: bool, future: bool,
           exclude_subdags: bool, exclude_parentdag: bool) -> Selection:
    sel = Selection()

    def add(dag: DAG, task_ids: set[str], lo: datetime | None, hi: datetime | None,
            reached: str, *, up: bool, came_from: str | None = None) -> None:
        scope = sel.scopes.get(dag.dag_id)
        new = task_ids - (scope.task_ids if scope else set())
        if not new:
            return
        if scope is None:
            sel.scopes[dag.dag_id] = Scope(dag, set(new), lo, hi, reached)
        else:
            scope.task_ids |= new
        if not exclude_subdags:
            for task_id in sorted(new):
                task = dag.tasks[task_id]
                if isinstance(task, SubDagTask) and task.subdag.dag_id != came_from:
                    add(task.subdag, set(task.subdag.tasks), lo, hi,
                        f"sub-DAG of {dag.dag_id}.{task_id}", up=False)
        if up and not exclude_parentdag and dag.parent is not None:
            parent = dag.parent
            task_id = dag.dag_id[len(parent.dag_id) + 1:]
            add(parent, {task_id} | parent.relatives({task_id}, upstream=False), lo, hi,
                f"parent of {dag.dag_id}", up=True, came_from=dag.dag_id)

    for dag in dags:
        lo, hi = bounds(dag, start, end, past=past, future=future)
        task_ids = matching_tasks(dag, task_regex, upstream=upstream, downstream=downstream)
        if not task_ids:
            sel.notes.append(f"no task of DAG {dag.dag_id} matches {task_regex!r}")
            continue
        add(dag, task_ids, lo, hi, "selected", up=True)
    if task_regex is not None and not sel.scopes:  # as a backfill refuses it: it names no task at all
        raise InvalidInput(f"no task of {', '.join(d.dag_id for d in dags)} matches {task_regex!r}; nothing to clear")
    return sel
