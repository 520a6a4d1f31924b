"""DAG bodies, drivers and readers that only the clear, scheduler and sub-DAG tests use.

The DAG files, the CLI runner and the common readers are re-exported by dagfiles.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli_runner import backfill, cli
from dag_folders import Dags, make_dags
from recorded import query
from typer.testing import Result

CHAIN = '''
with DAG("chain", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 31),
         catchup=True) as dag:
    PythonTask("a", work) >> PythonTask("b", work) >> PythonTask("c", work)
'''

DOP = '''
with DAG("dop", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 31),
         catchup=True) as dag:
    PythonTask("p", work, depends_on_past=True) >> PythonTask("q", work)
'''


# -- driving the CLI ---------------------------------------------------------------------------

def clear(dags: Dags, dag_id: str, *args: str, input: str | None = None) -> Result:
    return cli("tasks", "clear", dag_id, "-S", str(dags.folder), *args, input=input)


def scheduler(dags: Dags, *args: str) -> Result:
    return cli("scheduler", "-S", str(dags.folder), *args)


def backfilled(tmp_path: Path, dag_id: str, body: str, *args: str) -> Dags:
    """A DAG folder holding `<dag_id>.py` (body), backfilled with ARGS, which must succeed."""
    dags = make_dags(tmp_path, **{dag_id: body})
    result = backfill(dags, dag_id, *args)
    assert result.exit_code == 0, result.output
    return dags


# -- reading what was recorded -----------------------------------------------------------------

def run_events(database_url: str, kind: str | None = None) -> list[dict[str, Any]]:
    """DagRun events in notification order, payload decoded, with the run's dag_id and ds."""
    rows = query(database_url, "SELECT originator_id, originator_version, topic, state FROM "
                               "ledgerflow_events WHERE topic LIKE '%%DagRun.%%' ORDER BY notification_id")
    created: dict[Any, dict[str, Any]] = {}
    found = []
    for row in rows:
        payload = json.loads(bytes(row["state"]))
        event_kind = row["topic"].rsplit(".", 1)[-1]
        if event_kind == "Created":
            created[row["originator_id"]] = payload
        run = created[row["originator_id"]]
        if kind is None or event_kind == kind:
            found.append({**payload, "kind": event_kind, "run_uuid": row["originator_id"],
                          "version": row["originator_version"], "dag_id": run["dag_id"],
                          "ds": run["logical_date"][:10]})
    return found


def ti_history(database_url: str, dag_id: str, task_id: str, ds: str) -> list[tuple[Any, Any]]:
    """(from, to) of every recorded change of one task instance, in order."""
    return [
        (c["from"], c["to"])
        for e in run_events(database_url)
        if e["dag_id"] == dag_id and e["ds"] == ds
        for c in e.get("changes", ())
        if c["task_id"] == task_id
    ]
