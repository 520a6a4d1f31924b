"""A task instance's XComs (recorded with its tries' outcomes): the list, and one entry with its value."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from ledgerflow.api import shapes
from ledgerflow.api.access import allowed, service
from ledgerflow.api.models import XComCollectionResponse
from ledgerflow.api.ordering import ordered
from ledgerflow.engine.application.service import Caller, Ledgerflow
from ledgerflow.engine.errors import NotFound

router = APIRouter(prefix="/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries",
                   tags=["XCom"])
Svc = Annotated[Ledgerflow, Depends(service)]
Reader = Annotated[Caller, Depends(allowed("read"))]
MapIndex = Annotated[int, Query(ge=-1)]
XCOM_ORDER = ("key", "dag_id", "run_id", "task_id", "map_index", "timestamp", "run_after")


def _entries(svc: Ledgerflow, dag_id: str, dag_run_id: str, task_id: str) -> list[dict[str, Any]]:
    """The task instance's XComs, each stamped with the end of the try that pushed it."""
    run = svc.run(dag_id, dag_run_id)
    ended = {t["try_number"]: t["end_date"] or t["start_date"] for t in svc.tries(dag_id, dag_run_id, task_id)}
    return [shapes.xcom(x, run, ended.get(x["try_number"])) for x in svc.xcom_entries(dag_id, dag_run_id, task_id)]


@router.get("", response_model=XComCollectionResponse)
def get_xcom_entries(dag_id: str, dag_run_id: str, task_id: str, svc: Svc, _: Reader, xcom_key: str | None = None,
                     map_index: MapIndex | None = None, limit: Annotated[int, Query(ge=0)] = 50,
                     offset: Annotated[int, Query(ge=0)] = 0,
                     order_by: Annotated[list[str] | None, Query()] = None) -> dict[str, Any]:
    rows = [x for x in _entries(svc, dag_id, dag_run_id, task_id)
            if (xcom_key is None or x["key"] == xcom_key) and (map_index is None or x["map_index"] == map_index)]
    rows = ordered(rows, order_by or ["dag_id", "task_id", "run_id", "map_index", "key"], XCOM_ORDER)
    for x in rows:
        del x["value"]
    return {"xcom_entries": rows[offset:offset + limit], "total_entries": len(rows)}


@router.get("/{xcom_key}")
def get_xcom_entry(dag_id: str, dag_run_id: str, task_id: str, xcom_key: str, svc: Svc, _: Reader,
                   map_index: MapIndex = -1, deserialize: bool = False, stringify: bool = False) -> dict[str, Any]:
    """The value as recorded (JSON, so deserializing changes nothing); `stringify` gives it as a string."""
    found = [x for x in _entries(svc, dag_id, dag_run_id, task_id)
             if x["key"] == xcom_key and x["map_index"] == map_index]
    if not found:
        raise NotFound(f"task {task_id!r} of run {dag_run_id!r} has no XCom {xcom_key[:100]!r}"
                       + ("" if map_index == -1 else f" at map_index {map_index}"))
    entry = found[0]
    if stringify:
        entry["value"] = None if entry["value"] is None else str(entry["value"])
    return entry
