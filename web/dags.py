"""The DAG list: each DAG's schedule, last run, runs by state and its pause toggle."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from ledgerflow.engine.application.service import Caller, Ledgerflow
from ledgerflow.web.render import page
from ledgerflow.web.session import caller, check_csrf, service

router = APIRouter()
RUN_STATES = ("queued", "running", "success", "failed")
Who = Annotated[Caller, Depends(caller)]


def _summary(svc: Ledgerflow, dag: Any) -> dict[str, Any]:
    last, _ = svc.run_page(dag.dag_id, order_by=["-logical_date"], limit=1)
    counts = {s: svc.run_page(dag.dag_id, states=[s], limit=0)[1] for s in RUN_STATES}
    return {"dag_id": dag.dag_id, "schedule": "None" if dag.schedule is None else str(dag.schedule),
            "description": dag.description, "paused": svc.is_paused(dag.dag_id), "last": last[0] if last else None,
            "counts": counts, "tasks": len(dag.tasks)}


@router.get("/")
def dag_list(request: Request, who: Who) -> Response:
    svc = service(request)
    svc.authorize(who, "read")
    bag = svc.dag_bag()
    rows = [_summary(svc, d) for _, d in sorted(bag.dags.items())]
    broken = sorted(bag.errors.items())
    return page(request, "dags.html", who=who, dags=rows, run_states=RUN_STATES, broken=broken)


@router.post("/dags/{dag_id}/pause")
def toggle_pause(dag_id: str, request: Request, who: Who, paused: Annotated[str, Form()],
                 reason: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = "") -> Response:
    """Pauses or unpauses the DAG: an event with the user and the reason given."""
    check_csrf(request, csrf)
    svc = service(request)
    svc.authorize(who, "operate")
    svc.set_paused(dag_id, paused == "true", actor=who.username, reason=reason.strip() or None)
    return RedirectResponse("/", status_code=303)
