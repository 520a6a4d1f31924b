"""The golden history (every kind of event) and the views it folds into, read back as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent

GOLDEN = Path(__file__).parent / "golden"
VIEWS = {
    "dag_run": "dag_id, logical_date",
    "task_instance": "run_uuid, task_id",
    "pool": "name",
    "operation": "operation_id",
}


def dump_views(conn: psycopg.Connection) -> dict[str, list[Any]]:
    """Every row of every view, ordered by its key, as JSON values (UTC timestamps)."""
    conn.execute("SET TIME ZONE 'UTC'")
    return {
        table: [r[0] for r in conn.execute(f"SELECT to_jsonb(v) FROM {table} v ORDER BY {key}")]
        for table, key in VIEWS.items()
    }


def dump(database_url: str) -> dict[str, list[Any]]:
    with psycopg.connect(database_url) as conn:
        return dump_views(conn)


def golden_history() -> list[StoredEvent]:
    return [
        StoredEvent(originator_id=UUID(e["originator_id"]),
                    originator_version=e["originator_version"],
                    topic=e["topic"], state=e["state"].encode())
        for e in json.loads((GOLDEN / "history.json").read_text())
    ]


def expected_views() -> dict[str, list[Any]]:
    return json.loads((GOLDEN / "expected_views.json").read_text())
