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


def _summaries(svc: Ledgerflow, dags: list[Any]) -> list[dict[str, Any]]:
    """A row per DAG, from reads for all of them at once (a folder may hold hundreds)."""
    runs, paused = svc.run_summaries([d.dag_id for d in dags]), svc.pause_flags(dags)
    return [{"dag_id": d.dag_id, "schedule": "None" if d.schedule is None else str(d.schedule),
             "description": d.description, "paused": paused[d.dag_id], "last": runs[d.dag_id][0],
             "counts": {s: runs[d.dag_id][1].get(s, 0) for s in RUN_STATES}, "tasks": len(d.tasks)} for d in dags]


@router.get("/")
def dag_list(request: Request, who: Who) -> Response:
    svc = service(request)
    svc.authorize(who, "read")
    bag = svc.dag_bag()
    rows = _summaries(svc, [d for _, d in sorted(bag.dags.items())])
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
