"""A clear over HTTP: the service plans it, and applies it unless it is a dry run.

The listing goes out as JSON written from one template per task, past FastAPI's check
of a returned value against the response model: a clear of a year lists ~90,000 task
instances, and a dict built and checked for each would take about as long as the
clear's own reads. A task's template is its shape (shapes.task_instance) written with
marks where each task instance's own values go, so the two cannot drift apart.
"""

from __future__ import annotations

from json.encoder import encode_basestring
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from fastapi.responses import Response
from pydantic_core import to_json

from ledgerflow.api import shapes
from ledgerflow.engine.application.commands import ClearTaskInstances
from ledgerflow.engine.application.service import Ledgerflow

if TYPE_CHECKING:
    from ledgerflow.engine.application.clear import ClearPlan

_OWN = ("id", "run_id", "logical_date", "state", "try_number", "max_tries")  # a task instance's own values


def _mark(name: str) -> str:
    return f"\x00{name}\x00"


class _Template:
    """One task's shape as a %-format with a slot per mark, and which of a row's own values each slot takes."""

    def __init__(self, dag_id: str, task_id: str, task: Any) -> None:
        row = {name: _mark(name) for name in _OWN} | {"dag_id": dag_id, "task_id": task_id}
        shaped = {**shapes.task_instance(row, task), "id": _mark("id")}
        written = to_json(shaped).decode()
        text, slots = written.replace("%", "%%"), []
        for name in _OWN:
            quoted = to_json(_mark(name)).decode()
            slots += [(at, name) for at in range(len(written)) if written.startswith(quoted, at)]
            text = text.replace(quoted, "%s")
        if "\\u0000" in text:
            raise AssertionError(f"the shape of a task instance used a value of its own inside another: {text}")
        self.format = text
        self.values = itemgetter(*(_OWN.index(name) for _, name in sorted(slots)))  # of a row's own, in _OWN order


def listing(plan: ClearPlan, dry_run: bool) -> Response:
    """The task instances the plan selects, as they are (dry run) or as the clear left them (Airflow's
    TaskInstanceCollectionResponse)."""
    templates: dict[tuple[str, str], _Template] = {}
    states: dict[str | None, str] = {None: "null"}
    rows = []
    for rc in plan.runs:
        run = rc.run
        scope = plan.selection.scopes.get(run.dag_id)
        run_id, logical_date = encode_basestring(run.run_id), encode_basestring(run.logical_date)
        ids = shapes.ti_ids(run.dag_id, run.run_id)
        for c in rc.changes:
            task_id = c["task_id"]
            template = templates.get((run.dag_id, task_id))
            if template is None:
                task = scope.dag.tasks.get(task_id) if scope is not None else None
                template = templates[(run.dag_id, task_id)] = _Template(run.dag_id, task_id, task)
            state, max_tries = (c["from"], run.tis[task_id].max_tries) if dry_run else (c["to"], c["max_tries"])
            if state not in states:
                states[state] = encode_basestring(state)
            own = (f'"{ids(task_id)}"', run_id, logical_date, states[state], str(c["try_number"]), str(max_tries))
            rows.append(template.format % template.values(own))
    body = f'{{"task_instances":[{",".join(rows)}],"total_entries":{len(rows)}}}'
    return Response(body.encode(), media_type="application/json")


def cleared(svc: Ledgerflow, cmd: ClearTaskInstances) -> ClearPlan:
    """Plans the clear and applies it unless it is a dry run."""
    plan = svc.plan_clear(cmd)
    return plan if cmd.dry_run else svc.clear(plan).plan
