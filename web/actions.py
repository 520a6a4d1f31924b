"""Clear and mark success/failed from a task instance: a dry-run preview first, then, with a reason, the change.

The preview and the change are the service's own plan (the dry run writes nothing); the
page adds only that a person must say why before confirming.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledgerflow.engine.application.commands import ClearTaskInstances, MarkTaskInstances
from ledgerflow.engine.application.service import Caller, Ledgerflow
from ledgerflow.engine.errors import InvalidInput
from ledgerflow.web.render import templates
from ledgerflow.web.session import caller, check_csrf, service

router = APIRouter(prefix="/dags/{dag_id}/runs/{run_id}/tasks/{task_id}")
Who = Annotated[Caller, Depends(caller)]
Flag = Annotated[bool, Form()]
Text = Annotated[str, Form()]


@dataclass(frozen=True)
class Options:
    """The dialog's checkboxes (only_failed and only_running are a clear's)."""

    past: bool = False
    future: bool = False
    upstream: bool = False
    downstream: bool = False
    only_failed: bool = False
    only_running: bool = False


def options(past: Flag = False, future: Flag = False, upstream: Flag = False, downstream: Flag = False,
            only_failed: Flag = False, only_running: Flag = False) -> Options:
    return Options(past, future, upstream, downstream, only_failed, only_running)


Opts = Annotated[Options, Depends(options)]


def _clear(svc: Ledgerflow, dag_id: str, run_id: str, task_id: str, who: Caller, o: Options,
           reason: str | None, dry_run: bool) -> ClearTaskInstances:
    moment = svc.run(dag_id, run_id)["logical_date"]
    return ClearTaskInstances(dag_id=dag_id, start=moment, end=moment, task_regex=f"^{re.escape(task_id)}$",
                              past=o.past, future=o.future, upstream=o.upstream, downstream=o.downstream,
                              only_failed=o.only_failed, only_running=o.only_running, dry_run=dry_run, yes=True,
                              reason=reason, actor=who.username)


def _rows(plan: Any, to: str | None) -> list[dict[str, Any]]:
    return [{"run_id": r.run.run_id, "logical_date": r.run.logical_date, "task_id": c["task_id"],
             "from": c["from"], "to": c.get("to") or to} for r in plan.runs for c in r.changes]


def _required(reason: str) -> str:
    if not reason.strip():
        raise InvalidInput("a reason is required: say why before confirming")
    return reason.strip()


def _preview(request: Request, rows: list[dict[str, Any]]) -> HTMLResponse:
    return templates.TemplateResponse(request, "preview.html", {"rows": rows})


def _done(dag_id: str, what: str, count: int) -> Response:
    notice = f"{what}: {count} task instance{'s' if count != 1 else ''} changed"
    return RedirectResponse(f"/dags/{dag_id}/grid?notice={notice}", status_code=303)


@router.post("/clear/preview")
def clear_preview(dag_id: str, run_id: str, task_id: str, request: Request, who: Who, o: Opts,
                  csrf: Text = "") -> Response:
    check_csrf(request, csrf)
    svc = service(request)
    svc.authorize(who, "operate")
    cmd = _clear(svc, dag_id, run_id, task_id, who, o, None, True)
    return _preview(request, _rows(svc.plan_clear(cmd), "none"))


@router.post("/clear")
def clear(dag_id: str, run_id: str, task_id: str, request: Request, who: Who, o: Opts, csrf: Text = "",
          reason: Text = "") -> Response:
    check_csrf(request, csrf)
    svc = service(request)
    svc.authorize(who, "operate")
    cmd = _clear(svc, dag_id, run_id, task_id, who, o, _required(reason), False)
    done = svc.clear(svc.plan_clear(cmd)).plan
    return _done(dag_id, "Cleared", sum(len(r.changes) for r in done.runs))


def _mark(dag_id: str, run_id: str, task_id: str, who: Caller, state: str, o: Options,
          reason: str | None, dry_run: bool) -> MarkTaskInstances:
    if o.only_failed or o.only_running:
        raise InvalidInput("only_failed and only_running are options of a clear, not of a mark")
    return MarkTaskInstances(dag_id=dag_id, run_id=run_id, task_id=task_id, state=state, past=o.past,
                             future=o.future, upstream=o.upstream, downstream=o.downstream, dry_run=dry_run,
                             reason=reason, actor=who.username)


@router.post("/mark/preview")
def mark_preview(dag_id: str, run_id: str, task_id: str, request: Request, who: Who, o: Opts, state: Text,
                 csrf: Text = "") -> Response:
    check_csrf(request, csrf)
    svc = service(request)
    svc.authorize(who, "operate")
    cmd = _mark(dag_id, run_id, task_id, who, state, o, None, True)
    return _preview(request, _rows(svc.plan_mark(cmd), state))


@router.post("/mark")
def mark(dag_id: str, run_id: str, task_id: str, request: Request, who: Who, o: Opts, state: Text,
         csrf: Text = "", reason: Text = "") -> Response:
    check_csrf(request, csrf)
    svc = service(request)
    svc.authorize(who, "operate")
    cmd = _mark(dag_id, run_id, task_id, who, state, o, _required(reason), False)
    done = svc.mark(svc.plan_mark(cmd))
    return _done(dag_id, f"Marked {state}", sum(len(r.changes) for r in done.runs))
