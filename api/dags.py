"""DAGs and their tasks, from the DAG folder."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from ledgerflow.api import shapes
from ledgerflow.api.access import allowed, service
from ledgerflow.engine.application.service import Caller, Ledgerflow

router = APIRouter(prefix="/api/v2/dags", tags=["DAG"])
Svc = Annotated[Ledgerflow, Depends(service)]
Reader = Annotated[Caller, Depends(allowed("read"))]


@router.get("")
def get_dags(svc: Svc, _: Reader, limit: Annotated[int, Query(ge=0)] = 50, offset: Annotated[int, Query(ge=0)] = 0,
             dag_id_pattern: str | None = None) -> dict[str, Any]:
    """Every DAG of the DAG folder, by dag_id; dag_id_pattern is a substring, as Airflow's LIKE %pattern%."""
    bag = svc.dag_bag()
    dags = [shapes.dag(d) for i, d in sorted(bag.dags.items()) if not dag_id_pattern or dag_id_pattern in i]
    return {"dags": dags[offset:offset + limit], "total_entries": len(dags)}


@router.get("/{dag_id}")
def get_dag(dag_id: str, svc: Svc, _: Reader) -> dict[str, Any]:
    return shapes.dag(svc.dag_bag().get(dag_id))


@router.get("/{dag_id}/tasks", tags=["Task"])
def get_tasks(dag_id: str, svc: Svc, _: Reader, order_by: str = "task_id") -> dict[str, Any]:
    dag = svc.dag_bag().get(dag_id)
    tasks = [shapes.task(t) for t in dag.tasks.values()]
    field = order_by.lstrip("-")
    tasks.sort(key=lambda t: str(t.get(field)), reverse=order_by.startswith("-"))
    return {"tasks": tasks, "total_entries": len(tasks)}
