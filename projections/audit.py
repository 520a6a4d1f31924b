"""The audit view: who changed which run or task instance, when, why, by which operation.

Entries are derived while the view projector folds a batch, from the event payload
and the run state the fold already holds (a change event carries no dag_id or
run_id of its own), and written with one COPY in the projector's transaction, so
the audit view is exactly as current as dag_run and task_instance.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from psycopg import Cursor

from engine.run_state import RunState

COLUMNS = (
    "seq", "position", "recorded_at", "event", "dag_id", "run_id", "task_id", "from_state",
    "to_state", "try_number", "actor", "reason", "operation_id", "operation", "details",
)
_CHANGE_KEYS = frozenset({"task_id", "from", "to", "try_number", "max_tries"})

Entry = tuple[Any, ...]  # COLUMNS without seq, which is numbered at write time


def _details(extra: dict[str, Any]) -> str | None:
    return json.dumps(extra, sort_keys=True, default=str) if extra else None


def entries(kind: str, payload: dict[str, Any], run: RunState, position: int,
            recorded_at: Any) -> Iterable[Entry]:
    """One entry per run-level change and one per task-instance change of a DagRun event."""
    stamp = (payload.get("actor"), payload.get("reason"), payload.get("operation_id"),
             payload.get("operation"))
    head = (position, recorded_at, kind, run.dag_id, run.run_id)
    if kind == "Created":
        extra = {"run_type": run.run_type, "dag_fingerprint": run.dag_fingerprint}
        yield (*head, None, None, run.state, None, *stamp, _details(extra))
    elif kind == "StateChanged":
        yield (*head, None, payload["from_state"], payload["to_state"], None, *stamp, None)
    elif kind in ("Cleared", "Reset"):
        yield (*head, None, payload["run_from"], payload["run_to"], None, *stamp, None)
    elif kind == "Adopted":
        extra = {"from_run_type": payload["from_run_type"], "run_type": payload["run_type"],
                 "conf": payload["conf"]}
        yield (*head, None, run.state, run.state, None, *stamp, _details(extra))
    elif kind == "TasksAdded":
        for task_id, max_tries in payload["tasks"].items():
            yield (*head, task_id, None, None, 0, *stamp, _details({"max_tries": max_tries}))
    for c in payload.get("changes", ()):
        extra = {k: v for k, v in c.items() if k not in _CHANGE_KEYS} if len(c) > 5 else None
        yield (*head, c["task_id"], c["from"], c["to"], c["try_number"], *stamp,
               _details(extra) if extra else None)


def write(curs: Cursor[Any], rows: list[Entry]) -> None:
    """Appends entries, numbering them after the last one (dense, replay-stable seq)."""
    if not rows:
        return
    curs.execute("SELECT coalesce(max(seq), 0) AS top FROM audit_entry")
    found = curs.fetchone()
    seq = int(found["top"]) if found else 0
    with curs.copy(f"COPY audit_entry ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            seq += 1
            copy.write_row((seq, *row))
