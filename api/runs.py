"""DAG runs: list, get, trigger, clear."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ledgerflow.api import shapes
from ledgerflow.api.access import allowed, reason, service
from ledgerflow.api.clearing import cleared, listing
from ledgerflow.api.models import DAGRunClearBody, DAGRunCollectionResponse, DAGRunResponse, TriggerDAGRunPostBody
from ledgerflow.engine.application.commands import ClearTaskInstances, TriggerDagRun
from ledgerflow.engine.application.service import Caller, Ledgerflow

router = APIRouter(prefix="/api/v2/dags/{dag_id}/dagRuns", tags=["DagRun"])
Svc = Annotated[Ledgerflow, Depends(service)]
Reader = Annotated[Caller, Depends(allowed("read"))]
Operator = Annotated[Caller, Depends(allowed("operate"))]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def run_list(svc: Ledgerflow, dag_id: str, *, as_of: str | None, limit: int, offset: int,
             logical_date_gte: datetime | None, logical_date_lte: datetime | None, state: list[str] | None,
             run_type: list[str] | None, order_by: list[str] | None) -> dict[str, Any]:
    rows, total = svc.run_page(dag_id, start=_iso(logical_date_gte), end=_iso(logical_date_lte), states=state or (),
                               run_types=run_type or (), order_by=order_by or ["id"], limit=limit, offset=offset,
                               as_of=as_of)
    return {"dag_runs": [shapes.run(r) for r in rows], "total_entries": total}


@router.get("", response_model=DAGRunCollectionResponse)
def get_dag_runs(dag_id: str, svc: Svc, _: Reader, limit: Annotated[int, Query(ge=0)] = 50,
                 offset: Annotated[int, Query(ge=0)] = 0, logical_date_gte: datetime | None = None,
                 logical_date_lte: datetime | None = None, state: Annotated[list[str] | None, Query()] = None,
                 run_type: Annotated[list[str] | None, Query()] = None,
                 order_by: Annotated[list[str] | None, Query()] = None) -> dict[str, Any]:
    return run_list(svc, dag_id, as_of=None, limit=limit, offset=offset, logical_date_gte=logical_date_gte,
                    logical_date_lte=logical_date_lte, state=state, run_type=run_type, order_by=order_by)


@router.get("/{dag_run_id}", response_model=DAGRunResponse)
def get_dag_run(dag_id: str, dag_run_id: str, svc: Svc, _: Reader) -> dict[str, Any]:
    return shapes.run(svc.run(dag_id, dag_run_id))


@router.post("", response_model=DAGRunResponse)
def trigger_dag_run(dag_id: str, body: TriggerDAGRunPostBody, request: Request, svc: Svc,
                    caller: Operator) -> dict[str, Any]:
    """A queued manual run (the scheduler runs it); 409 when the run id is taken."""
    run = svc.trigger(TriggerDagRun(
        dag_id=dag_id, logical_date=_iso(body.logical_date), run_id=body.dag_run_id,
        conf=json.dumps(body.conf) if body.conf is not None else None,
        reason=reason(request, body.note), actor=caller.username))
    return shapes.run(svc.run(dag_id, run.run.run_id))


@router.post("/{dag_run_id}/clear", response_model=dict[str, Any])
def clear_dag_run(dag_id: str, dag_run_id: str, body: DAGRunClearBody, request: Request, svc: Svc,
                  caller: Operator) -> Response | dict[str, Any]:
    """Clears the run's task instances (only the failed ones with only_failed); the dry run lists them."""
    moment = svc.run(dag_id, dag_run_id)["logical_date"]
    cmd = ClearTaskInstances(dag_id=dag_id, start=moment, end=moment, only_failed=body.only_failed,
                             dry_run=body.dry_run, yes=True, reason=reason(request, body.note),
                             actor=caller.username)
    plan = cleared(svc, cmd)
    return listing(plan, cmd.dry_run) if cmd.dry_run else shapes.run(svc.run(dag_id, dag_run_id))
