"""The audit view: who changed which run or task instance, when, why, by which operation.

Entries are derived while the view projector folds a batch, from the event payload
and the run state the fold already holds (a change event carries no dag_id or
run_id of its own), and written with one COPY in the projector's transaction, so
the audit view is exactly as current as dag_run and task_instance.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg import Cursor

from ledgerflow.engine.domain.run_state import RunState, run_event

COLUMNS = (
    "seq", "position", "recorded_at", "event", "dag_id", "run_id", "task_id", "from_state",
    "to_state", "try_number", "actor", "reason", "operation_id", "operation", "details",
)
_CHANGE_KEYS = frozenset({"task_id", "from", "to", "try_number", "max_tries"})
_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def _t(value: Any) -> str:
    """A value in COPY text format."""
    if value is None:
        return NULL
    text = value if isinstance(value, str) else str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_ESCAPE)
    return text


def _details(extra: dict[str, Any] | None) -> str:
    return _t(json.dumps(extra, sort_keys=True, default=str)) if extra else NULL


def entries(kind: str, payload: dict[str, Any], run: RunState, position: int,
            recorded_at: Any) -> list[str]:
    """One COPY line (COLUMNS without seq) per run-level and per task-instance change.

    The lines are formatted while folding, so writing a batch is one COPY of text
    the server parses directly, with no per-row work left on the client.
    """
    stamp = (f"{_t(payload.get('actor'))}\t{_t(payload.get('reason'))}\t"
             f"{_t(payload.get('operation_id'))}\t{_t(payload.get('operation'))}")
    head = f"{position}\t{_t(recorded_at)}\t{kind}\t{_t(run.dag_id)}\t{_t(run.run_id)}"
    lines = []
    move = run_event(kind).run_move
    if move is not None:
        lines.append(f"{head}\t{NULL}\t{_t(payload[move[0]])}\t{_t(payload[move[1]])}\t"
                     f"{NULL}\t{stamp}\t{NULL}\n")
    elif kind == "Created":
        extra = {"run_type": run.run_type, "dag_fingerprint": run.dag_fingerprint}
        lines.append(f"{head}\t{NULL}\t{NULL}\t{_t(run.state)}\t{NULL}\t{stamp}\t"
                     f"{_details(extra)}\n")
    elif kind == "Adopted":
        extra = {"from_run_type": payload["from_run_type"], "run_type": payload["run_type"],
                 "conf": payload["conf"]}
        if payload.get("from_conf") is not None:
            extra["from_conf"] = payload["from_conf"]
        lines.append(f"{head}\t{NULL}\t{_t(run.state)}\t{_t(run.state)}\t{NULL}\t{stamp}\t"
                     f"{_details(extra)}\n")
    elif kind == "TakenOver":
        extra = {k: payload[k] for k in ("from_operation_id", "from_operation", "from_actor")}
        lines.append(f"{head}\t{NULL}\t{_t(run.state)}\t{_t(run.state)}\t{NULL}\t{stamp}\t"
                     f"{_details(extra)}\n")
    elif kind == "TasksAdded":
        for task_id, max_tries in payload["tasks"].items():
            lines.append(f"{head}\t{_t(task_id)}\t{NULL}\t{NULL}\t0\t{stamp}\t"
                         f"{_details({'max_tries': max_tries})}\n")
    for c in payload.get("changes", ()):
        # task ids are validated identifiers and states a fixed vocabulary: nothing to escape
        details = _details({k: v for k, v in c.items() if k not in _CHANGE_KEYS}) if len(c) > 5 else NULL
        lines.append(f"{head}\t{c['task_id']}\t{c['from'] or NULL}\t{c['to'] or NULL}\t"
                     f"{c['try_number']}\t{stamp}\t{details}\n")
    return lines


def write(curs: Cursor[Any], lines: list[str]) -> None:
    """Appends entries, numbering them after the last one (dense, replay-stable seq)."""
    if not lines:
        return
    curs.execute("SELECT coalesce(max(seq), 0) AS top FROM audit_entry")
    found = curs.fetchone()
    top = int(found["top"] if isinstance(found, dict) else found[0]) if found else 0
    data = "".join([f"{seq}\t{line}" for seq, line in enumerate(lines, start=top + 1)])
    with curs.copy(f"COPY audit_entry ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        copy.write(data)


@contextmanager
def indexes_deferred(curs: Cursor[Any]) -> Iterator[None]:
    """Drops audit_entry's secondary indexes for a rebuild and builds them again after it.

    A rebuild refills the table from empty, and building an index once over all rows
    costs about half of maintaining it row by row. DDL is transactional, so a failed
    rebuild rolls the indexes back with everything else.
    """
    curs.execute(
        "SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS ddl "
        "FROM pg_index WHERE indrelid = 'audit_entry'::regclass AND NOT indisprimary"
    )
    found = [(row["name"], row["ddl"]) for row in curs.fetchall()]
    for name, _ in found:
        curs.execute(f"DROP INDEX {name}")
    yield
    for _, ddl in found:
        curs.execute(ddl)


@contextmanager
def sending(curs: Cursor[Any], lines: list[str]) -> Iterator[None]:
    """Writes `lines` from a worker thread while the caller's block runs.

    The block must not use the connection: it is the projector's pure-Python fold
    of the next batch, so the server stores one batch while the client folds the
    next (the audit COPY is the largest write of a rebuild).
    """
    if not lines:
        yield
        return
    failed: list[BaseException] = []

    def run() -> None:
        try:
            write(curs, lines)
        except BaseException as exc:  # handed to the caller's thread below
            failed.append(exc)

    worker = threading.Thread(target=run, name="ledgerflow-audit-copy", daemon=True)
    worker.start()
    try:
        yield
    finally:
        worker.join()
    if failed:
        raise failed[0]


def entity_entry(event: str, payload: dict[str, Any], dag_id: str, position: int, recorded_at: Any,
                 to_state: str, details: dict[str, Any] | None = None) -> str:
    """One COPY line (COLUMNS without seq) for an event of a DAG's pause flag or of a backfill."""
    stamp = (f"{_t(payload.get('actor'))}\t{_t(payload.get('reason'))}\t"
             f"{_t(payload.get('operation_id'))}\t{_t(payload.get('operation'))}")
    return (f"{position}\t{_t(recorded_at)}\t{event}\t{_t(dag_id)}\t{NULL}\t{NULL}\t{NULL}\t{_t(to_state)}\t"
            f"{NULL}\t{stamp}\t{_details(details)}\n")
