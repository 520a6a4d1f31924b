"""Reads of one task instance: its XComs (folded from the run's events, so they are never stale) and a
try's log (kept in PostgreSQL, so any machine reads the log of a try that ran on any other)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerflow.engine.domain.dagrun import dagrun_id
from ledgerflow.engine.domain.values import integer
from ledgerflow.engine.errors import RunNotFound, Term
from ledgerflow.engine.infrastructure import task_logs
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.engine.infrastructure.stored_runs import load_run


def xcom_entries(ledger: Ledger, dag_id: str, run: Mapping[str, Any], task_id: str | None) -> list[dict[str, Any]]:
    """The current XComs of a run (one task's, or every task's), by task id and key."""
    found = load_run(ledger, dagrun_id(dag_id, run["logical_date"]))
    if found is None:
        return []
    rows = []
    for tid, ti in sorted(found[1].tis.items()):
        if (task_id is None or tid == task_id) and ti.xcom:
            rows += [{"dag_id": dag_id, "run_id": run["run_id"], "task_id": tid, "try_number": ti.try_number,
                      "key": key, "value": value} for key, value in sorted(ti.xcom.items())]
    return rows


def task_log(ledger: Ledger, ti: Mapping[str, Any], try_number: int | None) -> str:
    """The text of one try's log (default: the latest try)."""
    latest = int(ti["try_number"] or 0)
    wanted = latest if try_number is None else integer(try_number, Term("try_number", "the try number"), low=1)
    where = f"task {ti['task_id']!r} of run {ti['run_id']!r}"
    if latest == 0:
        raise RunNotFound(f"{where} has not been tried yet")
    if wanted > latest:
        raise RunNotFound(f"{where} has no try {wanted}: its tries are 1 to {latest}")
    with ledger.cursor() as curs:
        found = task_logs.read(curs, dagrun_id(ti["dag_id"], ti["logical_date"]), ti["task_id"], wanted)
    if found is None:
        raise RunNotFound(f"no log is kept for try {wanted} of {where}")
    return found[0]


def rendered(dag: Any, run: Mapping[str, Any], task_id: str, try_number: int) -> dict[str, Any]:
    """The task's template fields rendered with the run's own context (its interval, type and conf)."""
    from ledgerflow.engine.authoring.templating import build_context, rendered_fields
    from ledgerflow.engine.domain.dates import from_iso

    context = build_context(dag=dag, task_id=task_id, run_id=run["run_id"], run_type=run["run_type"],
                            conf=run["conf"] or {}, logical_date=from_iso(run["logical_date"]),
                            data_interval_start=from_iso(run["data_interval_start"]),
                            data_interval_end=from_iso(run["data_interval_end"]), try_number=max(try_number, 1))
    return rendered_fields(dag.tasks[task_id], context)
