"""Reading what was recorded: runs and task instances through the CLI, events and rows through SQL."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import psycopg
from cli_runner import cli_json
from psycopg.rows import dict_row


def runs(dag_id: str, *args: str) -> list[dict[str, Any]]:
    """The DAG's runs; pass `-S FOLDER` for a DAG with no history yet outside the default DAG folder."""
    return cli_json("dags", "list-runs", dag_id, "-o", "json", *args)


def run_map(dag_id: str, *args: str) -> dict[str, dict[str, Any]]:
    """{ds: run row}."""
    return {r["logical_date"][:10]: r for r in runs(dag_id, *args)}


def tis(dag_id: str) -> list[dict[str, Any]]:
    return cli_json("tasks", "states", dag_id, "-o", "json")


def ti_map(dag_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """{(task_id, ds): task instance row}."""
    return {(t["task_id"], t["logical_date"][:10]): t for t in tis(dag_id)}


def states(dag_id: str) -> dict[tuple[str, str], str | None]:
    return {k: v["state"] for k, v in ti_map(dag_id).items()}


def run_states(dag_id: str) -> dict[str, str]:
    return {ds: r["state"] for ds, r in run_map(dag_id).items()}


def query(database_url: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def events(database_url: str, topic_contains: str | None = None) -> list[dict[str, Any]]:
    """Every stored event, oldest first: its topic and its JSON state."""
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        rows = conn.execute(
            "SELECT notification_id, originator_id, topic, state FROM ledgerflow_events ORDER BY notification_id"
        ).fetchall()
    found = []
    for r in rows:
        if topic_contains and topic_contains not in r["topic"]:
            continue
        state = json.loads(bytes(r["state"]).decode())
        found.append(
            {
                "id": r["notification_id"],
                "originator_id": r["originator_id"],
                "topic": r["topic"],
                "kind": r["topic"].rsplit(".", 1)[-1],
                **state,
            }
        )
    return found


def event_count(database_url: str) -> int:
    return query(database_url, "SELECT count(*) AS n FROM ledgerflow_events")[0]["n"]


def ti_changes(database_url: str, dag_id: str | None = None) -> list[dict[str, Any]]:
    """Every task instance change recorded (TaskInstancesChanged, Reset, Cleared), flattened."""
    created = {}
    out = []
    for e in events(database_url):
        if e["kind"] == "Created" and "DagRun" in e["topic"]:
            created[e["originator_id"]] = e
        if e["kind"] in ("TaskInstancesChanged", "Reset", "Cleared"):
            run = created.get(e["originator_id"])
            if dag_id is not None and (run is None or run["dag_id"] != dag_id):
                continue
            for c in e["changes"]:
                out.append(
                    {
                        **c,
                        "kind": e["kind"],
                        "ds": run["logical_date"][:10] if run else None,
                        "at": datetime.fromisoformat(e["timestamp"]["_data_"]),
                        "operation_id": e["operation_id"],
                        "actor": e["actor"],
                        "reason": e["reason"],
                    }
                )
    return out
