"""ledgerflow's own additions under /api/ledgerflow/v1: reads as of an instant, a task instance's
audit history, and the audit chain's verify, digest and (streamed) export."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from ledgerflow.api import shapes
from ledgerflow.api.access import allowed, service
from ledgerflow.api.models import DAGRunCollectionResponse, DAGRunResponse, TaskInstanceCollectionResponse
from ledgerflow.api.runs import run_list
from ledgerflow.api.task_instances import ti_list
from ledgerflow.engine.application.service import Caller, Ledgerflow

router = APIRouter(prefix="/api/ledgerflow/v1", tags=["ledgerflow"])
Svc = Annotated[Ledgerflow, Depends(service)]
Reader = Annotated[Caller, Depends(allowed("read"))]
Auditor = Annotated[Caller, Depends(allowed("audit"))]
AsOf = Annotated[str | None, Query(description="Show the state as recorded at this instant (UTC unless an offset).")]
RUNS = "/dags/{dag_id}/dagRuns"


@router.get(RUNS, response_model=DAGRunCollectionResponse)
def runs_as_of(dag_id: str, svc: Svc, _: Reader, as_of: AsOf = None, limit: Annotated[int, Query(ge=0)] = 50,
               offset: Annotated[int, Query(ge=0)] = 0, logical_date_gte: datetime | None = None,
               logical_date_lte: datetime | None = None, state: Annotated[list[str] | None, Query()] = None,
               run_type: Annotated[list[str] | None, Query()] = None,
               order_by: Annotated[list[str] | None, Query()] = None) -> dict[str, Any]:
    return run_list(svc, dag_id, as_of=as_of, limit=limit, offset=offset, logical_date_gte=logical_date_gte,
                    logical_date_lte=logical_date_lte, state=state, run_type=run_type, order_by=order_by)


@router.get(RUNS + "/{dag_run_id}", response_model=DAGRunResponse)
def run_as_of(dag_id: str, dag_run_id: str, svc: Svc, _: Reader, as_of: AsOf = None) -> dict[str, Any]:
    return shapes.run(svc.run(dag_id, dag_run_id, as_of=as_of))


@router.get(RUNS + "/{dag_run_id}/taskInstances", response_model=TaskInstanceCollectionResponse)
def task_instances_as_of(dag_id: str, dag_run_id: str, svc: Svc, _: Reader, as_of: AsOf = None,
                         limit: Annotated[int, Query(ge=0)] = 50, offset: Annotated[int, Query(ge=0)] = 0,
                         task_id: str | None = None, state: Annotated[list[str] | None, Query()] = None,
                         order_by: Annotated[list[str] | None, Query()] = None) -> dict[str, Any]:
    return ti_list(svc, dag_id, dag_run_id, as_of=as_of, limit=limit, offset=offset, logical_date_gte=None,
                   logical_date_lte=None, state=state, task_id=task_id, order_by=order_by)


@router.get(RUNS + "/{dag_run_id}/taskInstances/{task_id}")
def task_instance_as_of(dag_id: str, dag_run_id: str, task_id: str, svc: Svc, _: Reader,
                        as_of: AsOf = None) -> dict[str, Any]:
    return shapes.task_instance(svc.task_instance(dag_id, dag_run_id, task_id, as_of=as_of))


@router.get(RUNS + "/{dag_run_id}/taskInstances/{task_id}/history")
def task_instance_history(dag_id: str, dag_run_id: str, task_id: str, svc: Svc, _: Auditor) -> dict[str, Any]:
    """Every change of the task instance, oldest first: who, when, why, from, to, try, operation."""
    entries = svc.task_history(dag_id, dag_run_id, task_id)
    return {"entries": entries, "total_entries": len(entries)}


@router.get("/audit/verify")
def verify(svc: Svc, _: Auditor) -> dict[str, Any]:
    """Recomputes the hash chain over every event: intact, or the first position where it breaks."""
    report = svc.verify_store()
    return {"intact": report.intact, "count": report.count, "head_position": report.head.position,
            "head_sha256": report.head.hash.hex(), "position": report.position, "problem": report.problem}


@router.get("/audit/digest")
def digest(svc: Svc, _: Auditor) -> dict[str, Any]:
    return {"digest": svc.digest()}


class _Chunks:
    """A text sink the export writes into, read back as the response streams (bounded, so the
    export waits for a slow client instead of holding the whole log in memory)."""

    def __init__(self) -> None:
        self.chunks: queue.Queue[str | BaseException | None] = queue.Queue(maxsize=64)
        self.gone = threading.Event()

    def write(self, text: str) -> int:
        while not self.gone.is_set():
            try:
                self.chunks.put(text, timeout=1.0)
                return len(text)
            except queue.Full:
                continue
        raise BrokenPipeError("the client went away")


@router.get("/audit/export")
def export(svc: Svc, _: Auditor, format: Literal["jsonl", "csv"] = "jsonl", since: str | None = None,
           until: str | None = None) -> StreamingResponse:
    """The events recorded in the range with their chain hashes, streamed (verifiable alone)."""
    svc.audit_count(since=since, until=until)  # a bad range is refused before the response starts
    sink = _Chunks()

    def produce() -> None:
        try:
            svc.export(sink, format, since=since, until=until)  # type: ignore[arg-type]
            sink.chunks.put(None)
        except BrokenPipeError:
            pass
        except Exception as exc:  # handed to the streaming side, which ends the response
            sink.chunks.put(exc)

    def stream() -> Iterator[str]:
        threading.Thread(target=produce, name="ledgerflow-export", daemon=True).start()
        try:
            while (chunk := sink.chunks.get()) is not None:
                if isinstance(chunk, BaseException):
                    raise chunk
                yield chunk
        finally:
            sink.gone.set()

    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(stream(), media_type=media)
