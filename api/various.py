"""Version, health, pools and event logs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from ledgerflow.api import shapes
from ledgerflow.api.access import allowed, reason, service
from ledgerflow.api.models import EventLogCollectionResponse, PoolBody, PoolCollectionResponse, PoolResponse
from ledgerflow.api.ordering import ordered
from ledgerflow.engine.application.commands import SetPool
from ledgerflow.engine.application.service import Caller, Ledgerflow, version

router = APIRouter(prefix="/api/v2")
Svc = Annotated[Ledgerflow, Depends(service)]


@router.get("/version", tags=["Version"])
def get_version() -> dict[str, Any]:
    return {"version": version(), "git_version": None}


@router.get("/monitor/health", tags=["Monitor"])
def get_health(svc: Svc) -> dict[str, Any]:
    """The metadatabase is healthy when the views answer; ledgerflow has no triggerer or DAG processor."""
    try:
        svc.view_status()
        database = "healthy"
    except Exception:  # any failure to reach the database is what this call reports
        database = "unhealthy"
    return {"metadatabase": {"status": database}, "scheduler": {"status": None, "latest_scheduler_heartbeat": None},
            "triggerer": {"status": None, "latest_triggerer_heartbeat": None}, "dag_processor": None}


@router.get("/pools", response_model=PoolCollectionResponse, tags=["Pool"])
def get_pools(svc: Svc, _: Annotated[Caller, Depends(allowed("read"))],
              limit: Annotated[int, Query(ge=0)] = 50, offset: Annotated[int, Query(ge=0)] = 0,
              order_by: Annotated[list[str] | None, Query()] = None,
              pool_name_pattern: str | None = None) -> dict[str, Any]:
    """Pools by name (pool_name_pattern: a case-insensitive substring), with the slots in use."""
    use = svc.pool_use()
    pools = ordered([shapes.pool(n, s, use.get(n)) for n, s in svc.pools().items()
                     if not pool_name_pattern or pool_name_pattern.lower() in n.lower()],
                    order_by or ["id"], ("id", "pool", "name"), {"id": "name", "pool": "name"})
    return {"pools": pools[offset:offset + limit], "total_entries": len(pools)}


@router.post("/pools", status_code=201, response_model=PoolResponse, tags=["Pool"])
def post_pool(body: PoolBody, request: Request, svc: Svc,
              caller: Annotated[Caller, Depends(allowed("admin"))]) -> dict[str, Any]:
    svc.create_pool(SetPool(name=body.name, slots=body.slots, reason=reason(request), actor=caller.username))
    return shapes.pool(body.name, body.slots)


@router.get("/eventLogs", response_model=EventLogCollectionResponse, tags=["Event Log"])
def get_event_logs(
    svc: Svc, _: Annotated[Caller, Depends(allowed("audit"))],
    limit: Annotated[int, Query(ge=0)] = 50, offset: Annotated[int, Query(ge=0)] = 0,
    order_by: Annotated[list[str] | None, Query()] = None,
    dag_id: str | None = None, task_id: str | None = None, run_id: str | None = None, owner: str | None = None,
    event: str | None = None, try_number: int | None = None,
    included_events: Annotated[list[str] | None, Query()] = None,
    excluded_events: Annotated[list[str] | None, Query()] = None,
    before: datetime | None = None, after: datetime | None = None,
) -> dict[str, Any]:
    """Audit entries; `after`/`before` bound the time they were recorded (inclusive)."""
    rows, total = svc.audit_page(limit=limit, offset=offset, order_by=order_by or ["id"], dag_id=dag_id,
                                 task_id=task_id, run_id=run_id, actor=owner, since=after, until=before, event=event,
                                 try_number=try_number,
                                 events=tuple(included_events) if included_events is not None else None,
                                 excluded_events=tuple(excluded_events or ()))
    return {"event_logs": [shapes.event_log(r) for r in rows], "total_entries": total}
