"""Backfill objects: create (after a dry-run preview of dates and decisions), list, detail, pause, unpause, cancel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledgerflow.engine.application.commands import CreateBackfill
from ledgerflow.engine.application.service import Caller
from ledgerflow.engine.errors import InvalidInput
from ledgerflow.web.render import page, templates
from ledgerflow.web.session import caller, check_csrf, service

router = APIRouter(prefix="/backfills")
Who = Annotated[Caller, Depends(caller)]
Text = Annotated[str, Form()]
BEHAVIORS = ("none", "failed", "completed")


def _command(who: Caller, dag_id: str, from_date: str, to_date: str, behavior: str, max_active_runs: str,
             run_backwards: bool, reason: str, dry_run: bool) -> CreateBackfill:
    return CreateBackfill(dag_id=dag_id, from_date=from_date, to_date=to_date, reprocess_behavior=behavior,
                          max_active_runs=_count(max_active_runs),
                          run_backwards=run_backwards, dry_run=dry_run, reason=reason.strip() or None,
                          actor=who.username)


def _count(given: str) -> int | None:
    try:
        return int(given) if given.strip() else None
    except ValueError:
        raise InvalidInput(f"max_active_runs {given[:20]!r} is not a whole number") from None


@router.get("")
def backfill_list(request: Request, who: Who) -> Response:
    svc = service(request)
    svc.authorize(who, "read")
    return page(request, "backfills.html", who=who, backfills=list(reversed(svc.backfills())),
                dag_ids=sorted(svc.dag_bag().dags), behaviors=BEHAVIORS)


@router.post("/preview")
def preview(request: Request, who: Who, dag_id: Text, from_date: Text, to_date: Text, csrf: Text = "",
            reprocess_behavior: Text = "none", max_active_runs: Text = "",
            run_backwards: Annotated[bool, Form()] = False) -> HTMLResponse:
    check_csrf(request, csrf)
    svc = service(request)
    svc.authorize(who, "operate")
    plan = svc.plan_backfill(_command(who, dag_id, from_date, to_date, reprocess_behavior, max_active_runs,
                                      run_backwards, "", True))
    return templates.TemplateResponse(request, "backfill_preview.html", {"dates": plan.dates})


@router.post("")
def create(request: Request, who: Who, dag_id: Text, from_date: Text, to_date: Text, csrf: Text = "",
           reprocess_behavior: Text = "none", max_active_runs: Text = "", reason: Text = "",
           run_backwards: Annotated[bool, Form()] = False) -> Response:
    check_csrf(request, csrf)
    svc = service(request)
    svc.authorize(who, "operate")
    made = svc.create_backfill(_command(who, dag_id, from_date, to_date, reprocess_behavior, max_active_runs,
                                        run_backwards, reason, False))
    return RedirectResponse(f"/backfills/{made['id']}", status_code=303)


@router.get("/{backfill_id}")
def detail(backfill_id: int, request: Request, who: Who) -> Response:
    svc = service(request)
    svc.authorize(who, "read")
    found: dict[str, Any] = svc.get_backfill(backfill_id)
    return page(request, "backfill.html", who=who, backfill=found, dates=svc.backfill_dates(backfill_id))


@router.post("/{backfill_id}/{action}")
def change(backfill_id: int, action: str, request: Request, who: Who, csrf: Text = "", reason: Text = "") -> Response:
    check_csrf(request, csrf)
    svc = service(request)
    svc.authorize(who, "operate")
    use = {"pause": svc.pause_backfill, "unpause": svc.unpause_backfill, "cancel": svc.cancel_backfill}.get(action)
    if use is None:
        return page(request, "error.html", 404, who=who, message=f"no backfill action {action!r}")
    use(backfill_id, actor=who.username, reason=reason.strip() or None)
    return RedirectResponse(f"/backfills/{backfill_id}", status_code=303)
