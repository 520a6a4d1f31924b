"""A clear over HTTP: the service plans it, and applies it unless it is a dry run.

The listing goes out as JSON written straight from the shapes, past FastAPI's check of a
returned value against the response model: a clear of a year lists ~90,000 task instances,
and that check of shapes built here would take longer than the clear's own reads.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from pydantic_core import to_json

from ledgerflow.api import shapes
from ledgerflow.engine.application.commands import ClearTaskInstances
from ledgerflow.engine.application.service import Ledgerflow, no_cycle_collection


def cleared(svc: Ledgerflow, cmd: ClearTaskInstances) -> dict[str, Any]:
    """The task instances the clear selects: as they are (dry run), or as the clear left them."""
    plan = svc.plan_clear(cmd)
    if not cmd.dry_run:
        plan = svc.clear(plan).plan
    rows = []
    with no_cycle_collection():  # a dict per task instance, no cycles
        for rc in plan.runs:
            for c in rc.changes:
                rows.append(shapes.task_instance({
                    "dag_id": rc.run.dag_id, "run_id": rc.run.run_id, "task_id": c["task_id"],
                    "logical_date": rc.run.logical_date, "state": c["from"] if cmd.dry_run else c["to"],
                    "try_number": c["try_number"], "max_tries": c["max_tries"]}))
    return {"task_instances": rows, "total_entries": len(rows)}


def listing(body: dict[str, Any]) -> Response:
    """The listing as a JSON response, as FastAPI would have written it."""
    return Response(to_json(body), media_type="application/json")
