"""Task instances: list (of one run, or of every run with `~`), get, mark success/failed, tries, logs, clear."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response

from ledgerflow.api import shapes
from ledgerflow.api.access import allowed, reason, service
from ledgerflow.api.clearing import cleared, listing
from ledgerflow.api.models import ClearTaskInstancesBody, PatchTaskInstanceBody, TaskInstanceCollectionResponse
from ledgerflow.engine.application.commands import ClearTaskInstances, MarkTaskInstances
from ledgerflow.engine.application.service import Caller, Ledgerflow

router = APIRouter(prefix="/api/v2/dags/{dag_id}", tags=["Task Instance"])
RUN = "/dagRuns/{dag_run_id}/taskInstances"
Svc = Annotated[Ledgerflow, Depends(service)]
Reader = Annotated[Caller, Depends(allowed("read"))]
Operator = Annotated[Caller, Depends(allowed("operate"))]
ALL_RUNS = "~"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def ti_list(svc: Ledgerflow, dag_id: str, dag_run_id: str, *, as_of: str | None, limit: int, offset: int,
            logical_date_gte: datetime | None, logical_date_lte: datetime | None, state: list[str] | None,
            task_id: str | None, order_by: list[str] | None) -> dict[str, Any]:
    rows, total = svc.task_instance_page(
        dag_id, None if dag_run_id == ALL_RUNS else dag_run_id, start=_iso(logical_date_gte),
        end=_iso(logical_date_lte), task_ids=[task_id] if task_id else (), states=state or (),
        order_by=order_by or ["map_index"], limit=limit, offset=offset, as_of=as_of)
    dag = svc.dag(dag_id) if rows else None
    times = svc.try_times(rows)
    return {"task_instances": [shapes.task_instance(r, dag.tasks.get(r["task_id"]) if dag else None,
                                                    times[(r["run_id"], r["task_id"])]) for r in rows],
            "total_entries": total}


@router.get(RUN, response_model=TaskInstanceCollectionResponse)
def get_task_instances(dag_id: str, dag_run_id: str, svc: Svc, _: Reader, limit: Annotated[int, Query(ge=0)] = 50,
                       offset: Annotated[int, Query(ge=0)] = 0, logical_date_gte: datetime | None = None,
                       logical_date_lte: datetime | None = None, task_id: str | None = None,
                       state: Annotated[list[str] | None, Query()] = None,
                       order_by: Annotated[list[str] | None, Query()] = None) -> dict[str, Any]:
    return ti_list(svc, dag_id, dag_run_id, as_of=None, limit=limit, offset=offset, logical_date_gte=logical_date_gte,
                   logical_date_lte=logical_date_lte, state=state, task_id=task_id, order_by=order_by)


@router.get(RUN + "/{task_id}")
def get_task_instance(dag_id: str, dag_run_id: str, task_id: str, svc: Svc, _: Reader) -> dict[str, Any]:
    dag = svc.dag(dag_id)
    row = svc.task_instance(dag_id, dag_run_id, task_id)
    return shapes.task_instance(row, dag.tasks.get(task_id) if dag else None,
                                svc.try_times([row])[(dag_run_id, task_id)])


def _mark(dag_id: str, dag_run_id: str, task_id: str, body: PatchTaskInstanceBody, request: Request,
          svc: Ledgerflow, caller: Caller, *, dry_run: bool) -> dict[str, Any]:
    cmd = MarkTaskInstances(dag_id=dag_id, run_id=dag_run_id, task_id=task_id, state=str(body.new_state),
                            upstream=body.include_upstream, downstream=body.include_downstream,
                            future=body.include_future, past=body.include_past, dry_run=dry_run,
                            reason=reason(request, body.note), actor=caller.username)
    plan = svc.plan_mark(cmd)
    if not dry_run:
        plan = svc.mark(plan)
    rows = []
    for rm in plan.runs:
        for c in rm.changes:
            rows.append(shapes.task_instance({
                "dag_id": dag_id, "run_id": rm.run.run_id, "task_id": c["task_id"], "logical_date": rm.run.logical_date,
                "state": c["from"] if dry_run else c["to"], "try_number": c["try_number"],
                "max_tries": c["max_tries"]}))
    return {"task_instances": rows, "total_entries": len(rows)}


@router.patch(RUN + "/{task_id}", response_model=TaskInstanceCollectionResponse)
def patch_task_instance(dag_id: str, dag_run_id: str, task_id: str, body: PatchTaskInstanceBody, request: Request,
                        svc: Svc, caller: Operator) -> dict[str, Any]:
    """Mark success / mark failed: the task instances it changed, in their new state."""
    return _mark(dag_id, dag_run_id, task_id, body, request, svc, caller, dry_run=False)


@router.patch(RUN + "/{task_id}/dry_run", response_model=TaskInstanceCollectionResponse)
def patch_task_instance_dry_run(dag_id: str, dag_run_id: str, task_id: str, body: PatchTaskInstanceBody,
                                request: Request, svc: Svc, caller: Operator) -> dict[str, Any]:
    """The task instances a mark would change, as they are now; writes nothing."""
    return _mark(dag_id, dag_run_id, task_id, body, request, svc, caller, dry_run=True)


@router.get(RUN + "/{task_id}/tries")
def get_task_instance_tries(dag_id: str, dag_run_id: str, task_id: str, svc: Svc, _: Reader) -> dict[str, Any]:
    ti = svc.task_instance(dag_id, dag_run_id, task_id)
    dag = svc.dag(dag_id)
    task = dag.tasks.get(task_id) if dag else None
    tries = [shapes.try_row(ti, t, task) for t in svc.tries(dag_id, dag_run_id, task_id)]
    return {"task_instances": tries, "total_entries": len(tries)}


@router.get(RUN + "/{task_id}/logs/{try_number}", response_model=None)
def get_log(dag_id: str, dag_run_id: str, task_id: str, try_number: Annotated[int, Path(ge=0)], request: Request,
            svc: Svc, _: Reader) -> Response | dict[str, Any]:
    """The try's log: JSON `{"content": [lines]}`, or the text itself for `Accept: text/plain`."""
    text = svc.task_log(dag_id, dag_run_id, task_id, try_number)
    if "text/plain" in request.headers.get("accept", ""):
        return PlainTextResponse(text)
    return {"content": text.splitlines(), "continuation_token": None}


@router.post("/clearTaskInstances", response_model=TaskInstanceCollectionResponse)
def post_clear_task_instances(dag_id: str, body: ClearTaskInstancesBody, request: Request, svc: Svc,
                              caller: Operator) -> Response:
    """Airflow's clear: defaults as the specification's (dry_run and only_failed true); dates are logical dates,
    inclusive; dag_run_id narrows it to that run's logical date."""
    start, end = _iso(body.start_date), _iso(body.end_date)
    if body.dag_run_id is not None:
        start = end = svc.run(dag_id, body.dag_run_id)["logical_date"]
    task_ids = [t if isinstance(t, str) else t[0] for t in body.task_ids or ()]
    cmd = ClearTaskInstances(
        dag_id=dag_id, start=start, end=end, only_failed=body.only_failed, only_running=body.only_running,
        task_regex=("^(?:" + "|".join(map(re.escape, task_ids)) + ")$") if task_ids else None,
        upstream=body.include_upstream, downstream=body.include_downstream, future=body.include_future,
        past=body.include_past, prevent_running=body.prevent_running_task, dry_run=body.dry_run, yes=True,
        reason=reason(request, body.note), actor=caller.username)
    svc.check_reset_dag_runs(body.reset_dag_runs)
    return listing(cleared(svc, cmd), cmd.dry_run)
