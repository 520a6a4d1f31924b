"""The grid of a DAG: its runs, newest first, by its tasks, one page of runs at a time, now or as of an instant.

A page reads one page of runs and the task instances of just their date range, so the
first screen of a year of hourly runs costs two indexed queries.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ledgerflow.engine.application.service import Caller, Ledgerflow
from ledgerflow.web.render import page
from ledgerflow.web.session import caller, service

router = APIRouter()
PAGE = 100  # runs per page
Who = Annotated[Caller, Depends(caller)]


def task_order(dag: Any, rows: list[dict[str, Any]]) -> list[str]:
    """The DAG's tasks in dependency order; from the recorded task instances when its file does not load."""
    if dag is not None:
        return list(dag.topological_order())
    return sorted({r["task_id"] for r in rows})


def grid_rows(svc: Ledgerflow, dag_id: str, dag: Any, *, offset: int, as_of: str | None
              ) -> tuple[list[dict[str, Any]], int, list[str]]:
    runs, total = svc.run_page(dag_id, order_by=["-logical_date"], limit=PAGE, offset=offset, as_of=as_of)
    cells: dict[str, dict[str, Any]] = {r["run_id"]: {} for r in runs}
    tis: list[dict[str, Any]] = []
    if runs:
        tis = svc.task_states(dag_id, start=runs[-1]["logical_date"], end=runs[0]["logical_date"], as_of=as_of)
        for ti in tis:
            if ti["run_id"] in cells:
                cells[ti["run_id"]][ti["task_id"]] = ti
    tasks = task_order(dag, tis)
    return [{**r, "cells": cells[r["run_id"]]} for r in runs], total, tasks


@router.get("/dags/{dag_id}/grid")
def grid(dag_id: str, request: Request, who: Who, offset: Annotated[int, Query(ge=0)] = 0,
         as_of: str | None = None) -> Response:
    svc = service(request)
    svc.authorize(who, "read")
    as_of = as_of or None
    dag = svc.dag(dag_id)  # None when its file does not load: its history still shows
    runs, total, tasks = grid_rows(svc, dag_id, dag, offset=offset, as_of=as_of)
    return page(request, "grid.html", who=who, dag_id=dag_id, runs=runs, tasks=tasks, total=total, offset=offset,
                size=PAGE, as_of=as_of, paused=svc.is_paused(dag_id) if dag is not None else None)
