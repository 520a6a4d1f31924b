"""The audit page (filtered entries, the chain's verify status, an as-of picker for the grid) and the printable
report of one run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ledgerflow.engine.application.service import Caller
from ledgerflow.web.render import page, templates
from ledgerflow.web.session import caller, service

router = APIRouter()
Who = Annotated[Caller, Depends(caller)]
PAGE = 100
FILTERS = ("dag_id", "run_id", "task_id", "actor", "operation_id", "since", "until")


@router.get("/audit")
def audit(request: Request, who: Who, offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    svc = service(request)
    svc.authorize(who, "audit")
    given = {k: v.strip() for k in FILTERS if (v := request.query_params.get(k, "")).strip()}
    rows, total = svc.audit_page(limit=PAGE, offset=offset, order_by=["-id"], **given)
    query = urlencode(given)
    return page(request, "audit.html", who=who, rows=rows, total=total, offset=offset, size=PAGE, given=given,
                query=query, dag_ids=sorted(svc.dag_bag().dags))


@router.get("/audit/verify")
def verify(request: Request, who: Who) -> Response:
    """The hash chain recomputed over every event, as a fragment the audit page loads after it shows."""
    svc = service(request)
    svc.authorize(who, "audit")
    return templates.TemplateResponse(request, "verify.html", {"report": svc.verify_store()})


@router.get("/dags/{dag_id}/runs/{run_id}/report")
def run_report(dag_id: str, run_id: str, request: Request, who: Who) -> Response:
    """Everything recorded about one run, laid out to print: its task instances and every change, who and why."""
    svc = service(request)
    svc.authorize(who, "audit")
    run: dict[str, Any] = svc.run(dag_id, run_id)
    return page(request, "report.html", who=who, run=run, tis=svc.run_task_states(dag_id, run_id),
                entries=svc.audit_log(dag_id=dag_id, run_id=run_id), report=svc.verify_store(),
                printed=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))
