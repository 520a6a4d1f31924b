"""Shared steps of the audit tests: a DAG folder, direct DagRun events, raw SQL (the CLI runner is in dagfiles)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import psycopg

from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.domain.operation import new_operation
from ledgerflow.engine.infrastructure.store import Ledger

DAG_FILE = """
from datetime import datetime
from ledgerflow import DAG, EmptyTask
with DAG("d", schedule="@daily", start_date=datetime(2024, 1, 1)) as dag:
    EmptyTask("a") >> EmptyTask("b")
"""


def dag_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir(exist_ok=True)
    (folder / "d.py").write_text(textwrap.dedent(DAG_FILE))
    return folder


def sql(url: str, *statements: str, params: Any = None) -> list[Any]:
    """Runs statements as the superuser in one transaction; returns the last one's rows."""
    with psycopg.connect(url) as conn:
        rows: list[Any] = []
        for statement in statements:
            cur = conn.execute(statement, params if statement is statements[-1] else None)
            rows = cur.fetchall() if cur.description else []
        return rows


def start_run(ledger: Ledger, *, actor: str = "carol", reason: str | None = "setup",
              logical_date: str = "2024-01-02T00:00:00+00:00", tasks: tuple[str, ...] = ("a", "b"),
              ) -> DagRun:
    op = new_operation("test start", actor=actor, reason=reason)
    run = DagRun.start(
        **op.stamp, dag_id="d", run_id=f"manual__{logical_date}", logical_date=logical_date,
        data_interval_start=logical_date, data_interval_end=logical_date, run_type="manual",
        state="queued", conf={}, dag_fingerprint="f" * 64, tasks={t: 1 for t in tasks},
    )
    ledger.append(op.started(), run, op.ended("success"))
    return run


def record(ledger: Ledger, run: DagRun, kind: type, *, actor: str, reason: str | None,
           name: str = "test change", **fields: Any) -> str:
    """Appends one DagRun event under a new operation; returns the operation id."""
    op = new_operation(name, actor=actor, reason=reason)
    run.trigger_event(kind, **op.stamp, **fields)
    ledger.append(op.started(), run, op.ended("success"))
    return str(op.id)


def ti(task_id: str, frm: str | None, to: str | None, try_number: int) -> dict[str, Any]:
    return {"task_id": task_id, "from": frm, "to": to, "try_number": try_number, "max_tries": 1}


def head_recorded_at(url: str) -> str:
    """The instant the last append was recorded, as an --as-of argument."""
    (row,) = sql(url, "SELECT max(recorded_at) FROM ledgerflow_chain")
    return row[0].isoformat()
