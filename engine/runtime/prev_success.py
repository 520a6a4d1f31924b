"""The previous successful run a try's context names (`prev_data_interval_start_success`, ...).

The driver knows which run it is (the latest earlier run of the DAG in state success, as Airflow
picks it) and puts its id and data interval on the job; the worker reads when that run last
started and when it succeeded from its events' timestamps, once, and only for a task that asks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from ledgerflow.engine.domain.dagrun import dagrun_id
from ledgerflow.engine.domain.dates import from_iso
from ledgerflow.engine.domain.run_state import RunState


@dataclass(frozen=True)
class PrevSuccess:
    """The run as the job carries it (picklable strings)."""

    run_uuid: str
    logical_date: str
    data_interval_start: str
    data_interval_end: str

    @classmethod
    def of(cls, run: RunState | None) -> PrevSuccess | None:
        if run is None:
            return None
        return cls(str(dagrun_id(run.dag_id, run.logical_date)), run.logical_date, run.data_interval_start,
                   run.data_interval_end)


def _moved_to(topic: str, payload: dict[str, Any]) -> str | None:
    kind = topic.rpartition(".")[2]
    if kind == "Created":
        return str(payload["state"])
    if kind == "StateChanged":
        return str(payload["to_state"])
    if kind in ("Cleared", "Reset"):
        return str(payload["run_to"])
    return None


def run_dates(run_uuid: str) -> tuple[datetime | None, datetime | None]:
    """When the run last started running and when it last succeeded, from its stored events."""
    import psycopg
    from psycopg.rows import dict_row

    from ledgerflow.engine.infrastructure.database import resolve_url
    from ledgerflow.engine.infrastructure.store import EVENTS_TABLE

    started = ended = None
    state = None
    with psycopg.connect(resolve_url(), row_factory=dict_row, autocommit=True) as conn, conn.cursor() as curs:
        curs.execute(f"SELECT topic, state FROM {EVENTS_TABLE} WHERE originator_id = %s "
                     f"ORDER BY originator_version", (UUID(run_uuid),))
        for row in curs.fetchall():
            payload = json.loads(bytes(row["state"]))
            to = _moved_to(row["topic"], payload)
            if to is None or to == state:
                continue
            stamp = from_iso(payload["timestamp"]["_data_"])
            if to == "running":
                started = stamp
            elif to == "success":
                ended = stamp
            state = to
    return started, ended


def prev_success_context(found: PrevSuccess | None) -> dict[str, datetime | None]:
    """The context values (all None without an earlier successful run)."""
    from ledgerflow.engine.authoring.context import utc

    if found is None:
        return dict.fromkeys(("prev_data_interval_start_success", "prev_data_interval_end_success",
                              "prev_start_date_success", "prev_end_date_success", "prev_execution_date_success"))
    started, ended = run_dates(found.run_uuid)
    return {
        "prev_execution_date_success": utc(from_iso(found.logical_date)),
        "prev_data_interval_start_success": utc(from_iso(found.data_interval_start)),
        "prev_data_interval_end_success": utc(from_iso(found.data_interval_end)),
        "prev_start_date_success": started and utc(started),
        "prev_end_date_success": ended and utc(ended),
    }
