"""DAGs and their tasks, from the DAG folder; pausing and unpausing them (events naming the caller)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from ledgerflow.api import shapes
from ledgerflow.api.access import allowed, reason, service
from ledgerflow.api.models import DAGCollectionResponse, DAGPatchBody, DAGResponse
from ledgerflow.api.ordering import ordered
from ledgerflow.engine.application.service import Caller, Ledgerflow
from ledgerflow.engine.errors import InvalidInput

router = APIRouter(prefix="/api/v2/dags", tags=["DAG"])
Svc = Annotated[Ledgerflow, Depends(service)]
Reader = Annotated[Caller, Depends(allowed("read"))]
Operator = Annotated[Caller, Depends(allowed("operate"))]
Limit = Annotated[int, Query(ge=0)]
Mask = Annotated[list[str] | None, Query()]
DAG_ORDER = ("dag_id", "dag_display_name")
TASK_ORDER = ("task_id", "task_display_name", "operator_name", "pool", "queue", "owner", "retries", "trigger_rule")


def _matching(svc: Ledgerflow, dag_id_pattern: str | None, paused: bool | None) -> list[dict[str, Any]]:
    """The DAGs whose dag_id holds the pattern (case-insensitive, as Airflow's ILIKE %pattern%)."""
    bag = svc.dag_bag()
    found = [d for i, d in sorted(bag.dags.items()) if not dag_id_pattern or dag_id_pattern.lower() in i.lower()]
    flags = svc.pause_flags(found)
    return [shapes.dag(d, flags[d.dag_id]) for d in found if paused is None or flags[d.dag_id] == paused]


def _check_mask(update_mask: list[str] | None) -> None:
    unknown = sorted(set(update_mask or ()) - {"is_paused"})
    if unknown:
        raise InvalidInput(f"update_mask {', '.join(unknown)[:100]}: only is_paused can be changed")


@router.get("", response_model=DAGCollectionResponse)
def get_dags(svc: Svc, _: Reader, limit: Limit = 50, offset: Limit = 0, dag_id_pattern: str | None = None,
             paused: bool | None = None, order_by: Mask = None) -> dict[str, Any]:
    dags = ordered(_matching(svc, dag_id_pattern, paused), order_by or ["dag_id"], DAG_ORDER)
    return {"dags": dags[offset:offset + limit], "total_entries": len(dags)}


@router.patch("", response_model=DAGCollectionResponse)
def patch_dags(body: DAGPatchBody, request: Request, svc: Svc, caller: Operator, dag_id_pattern: str | None = None,
               update_mask: Mask = None, limit: Limit = 50, offset: Limit = 0,
               paused: bool | None = None) -> dict[str, Any]:
    """Pauses or unpauses each DAG the pattern matches; the pattern is required ("~" or "%" is every DAG)."""
    _check_mask(update_mask)
    if not dag_id_pattern:
        raise InvalidInput("dag_id_pattern is required to change several DAGs (~ or % for every DAG)")
    pattern = "" if dag_id_pattern.strip("%~") == "" else dag_id_pattern
    chosen = _matching(svc, pattern, paused)[offset:offset + limit]
    for d in chosen:
        svc.set_paused(d["dag_id"], body.is_paused, actor=caller.username, reason=reason(request))
        d["is_paused"] = body.is_paused
    return {"dags": chosen, "total_entries": len(chosen)}


@router.get("/{dag_id}", response_model=DAGResponse)
def get_dag(dag_id: str, svc: Svc, _: Reader) -> dict[str, Any]:
    dag = svc.dag_bag().get(dag_id)
    return shapes.dag(dag, svc.pause_flags([dag])[dag_id])


@router.patch("/{dag_id}", response_model=DAGResponse)
def patch_dag(dag_id: str, body: DAGPatchBody, request: Request, svc: Svc, caller: Operator,
              update_mask: Mask = None) -> dict[str, Any]:
    """Pauses or unpauses the DAG: an event naming the caller, with the X-Ledgerflow-Reason header as reason."""
    _check_mask(update_mask)
    dag = svc.dag_bag().get(dag_id)
    svc.set_paused(dag_id, body.is_paused, actor=caller.username, reason=reason(request))
    return shapes.dag(dag, svc.pause_flags([dag])[dag_id])


@router.get("/{dag_id}/tasks", tags=["Task"])
def get_tasks(dag_id: str, svc: Svc, _: Reader, order_by: str = "task_id") -> dict[str, Any]:
    dag = svc.dag_bag().get(dag_id)
    tasks = ordered([shapes.task(t) for t in dag.tasks.values()], [order_by], TASK_ORDER)
    return {"tasks": tasks, "total_entries": len(tasks)}
