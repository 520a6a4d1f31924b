"""One task instance: its state, its whole history from the events, rendered template fields, XComs and each
try's log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ledgerflow.engine.application.service import Caller, Ledgerflow
from ledgerflow.engine.errors import LedgerflowError
from ledgerflow.web.render import page
from ledgerflow.web.session import caller, may, service

router = APIRouter()
Who = Annotated[Caller, Depends(caller)]
_WHERE = ("hostname", "worker", "host", "pid")
_CODE = ("dag_fingerprint", "code_fingerprint", "fingerprint")


def _picked(details: Any, names: tuple[str, ...]) -> str | None:
    if not isinstance(details, dict):
        return None
    found = [str(details[n]) for n in names if details.get(n)]
    return " ".join(found) or None


def history(svc: Ledgerflow, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
    return [{**e, "where": _picked(e.get("details"), _WHERE), "code": _picked(e.get("details"), _CODE)}
            for e in svc.task_history(dag_id, run_id, task_id)]


def rendered(svc: Ledgerflow, ti: dict[str, Any]) -> dict[str, Any] | str:
    """The template fields as the try renders them; a template that fails is shown, not raised."""
    try:
        return svc.rendered_fields(ti["dag_id"], ti["run_id"], ti["task_id"])
    except Exception as exc:  # noqa: BLE001 - showing the template's error is the point here
        return f"{type(exc).__name__}: {exc}" if not isinstance(exc, LedgerflowError) else str(exc)


def logs(svc: Ledgerflow, ti: dict[str, Any]) -> list[tuple[int, str]]:
    found = []
    for number in range(1, int(ti["try_number"] or 0) + 1):
        try:
            found.append((number, svc.task_log(ti["dag_id"], ti["run_id"], ti["task_id"], number)))
        except LedgerflowError as exc:
            found.append((number, f"({exc})"))
    return found


@router.get("/dags/{dag_id}/runs/{run_id}/tasks/{task_id}")
def panel(dag_id: str, run_id: str, task_id: str, request: Request, who: Who) -> Response:
    svc = service(request)
    svc.authorize(who, "read")
    ti = svc.task_instance(dag_id, run_id, task_id)
    audits = may(svc, who, "audit")
    return page(request, "task.html", who=who, ti=ti, run=svc.run(dag_id, run_id),
                history=history(svc, dag_id, run_id, task_id) if audits else None,
                tries=svc.tries(dag_id, run_id, task_id), logs=logs(svc, ti), rendered=rendered(svc, ti),
                xcoms=svc.xcom_entries(dag_id, run_id, task_id))
