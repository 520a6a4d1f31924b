"""Backfills as objects: list, create (or its dry run), get, pause, unpause, cancel; the scheduler drives them."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from ledgerflow.api import shapes
from ledgerflow.api.access import allowed, reason, service
from ledgerflow.api.models import (
    BackfillCollectionResponse,
    BackfillPostBody,
    BackfillResponse,
    DryRunBackfillCollectionResponse,
)
from ledgerflow.api.ordering import ordered
from ledgerflow.engine.application.commands import CreateBackfill
from ledgerflow.engine.application.service import Caller, Ledgerflow
from ledgerflow.engine.errors import InvalidInput

router = APIRouter(prefix="/api/v2/backfills", tags=["Backfill"])
Svc = Annotated[Ledgerflow, Depends(service)]
Reader = Annotated[Caller, Depends(allowed("read"))]
Operator = Annotated[Caller, Depends(allowed("operate"))]
BackfillId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _command(body: BackfillPostBody, request: Request, caller: Caller, *, dry_run: bool) -> CreateBackfill:
    if body.run_on_latest_version is False:
        raise InvalidInput("run_on_latest_version false: ledgerflow runs the DAG file as it is now")
    return CreateBackfill(
        dag_id=body.dag_id, from_date=body.from_date.isoformat(), to_date=body.to_date.isoformat(),
        reprocess_behavior=body.reprocess_behavior, max_active_runs=body.max_active_runs,
        run_backwards=body.run_backwards,
        dag_run_conf=None if body.dag_run_conf is None else json.dumps(body.dag_run_conf), dry_run=dry_run,
        reason=reason(request), actor=caller.username)


def _shaped(svc: Ledgerflow, row: dict[str, Any]) -> dict[str, Any]:
    return shapes.backfill(row, svc.backfill_changed_at(row["dag_id"]))


@router.get("", response_model=BackfillCollectionResponse)
def list_backfills(svc: Svc, _: Reader, dag_id: str, limit: Annotated[int, Query(ge=0)] = 50,
                   offset: Annotated[int, Query(ge=0)] = 0,
                   order_by: Annotated[list[str] | None, Query()] = None) -> dict[str, Any]:
    rows = ordered(svc.backfills(dag_id), order_by or ["id"], ("id",))
    changed = svc.backfill_changed_at(dag_id)
    return {"backfills": [shapes.backfill(r, changed) for r in rows[offset:offset + limit]],
            "total_entries": len(rows)}


@router.post("", response_model=BackfillResponse)
def create_backfill(body: BackfillPostBody, request: Request, svc: Svc, caller: Operator) -> dict[str, Any]:
    """Records the backfill (an event naming the caller); `ledgerflow scheduler` drives it."""
    return _shaped(svc, svc.create_backfill(_command(body, request, caller, dry_run=False)))


@router.post("/dry_run", response_model=DryRunBackfillCollectionResponse)
def create_backfill_dry_run(body: BackfillPostBody, request: Request, svc: Svc, caller: Operator) -> dict[str, Any]:
    """The logical dates the backfill would run (created or re-run), in the order it runs them; writes nothing."""
    dates = svc.plan_backfill(_command(body, request, caller, dry_run=True)).dates
    runs = sorted(({"logical_date": d["logical_date"]} for d in dates if not d["decision"].startswith("skipped")),
                  key=lambda d: d["logical_date"], reverse=body.run_backwards)
    return {"backfills": runs, "total_entries": len(runs)}


@router.get("/{backfill_id}", response_model=BackfillResponse)
def get_backfill(backfill_id: BackfillId, svc: Svc, _: Reader) -> dict[str, Any]:
    return _shaped(svc, svc.get_backfill(backfill_id))


@router.put("/{backfill_id}/pause", response_model=BackfillResponse)
def pause_backfill(backfill_id: BackfillId, request: Request, svc: Svc, caller: Operator) -> dict[str, Any]:
    return _shaped(svc, svc.pause_backfill(backfill_id, actor=caller.username, reason=reason(request)))


@router.put("/{backfill_id}/unpause", response_model=BackfillResponse)
def unpause_backfill(backfill_id: BackfillId, request: Request, svc: Svc, caller: Operator) -> dict[str, Any]:
    return _shaped(svc, svc.unpause_backfill(backfill_id, actor=caller.username, reason=reason(request)))


@router.put("/{backfill_id}/cancel", response_model=BackfillResponse)
def cancel_backfill(backfill_id: BackfillId, request: Request, svc: Svc, caller: Operator) -> dict[str, Any]:
    """No new run starts; every date not started yet is recorded skipped."""
    return _shaped(svc, svc.cancel_backfill(backfill_id, actor=caller.username, reason=reason(request)))
