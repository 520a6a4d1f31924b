"""Run states read back from the dag_run and task_instance views.

One reading for the catch-up (runs a batch touches but did not create), the
engine's questions and the listings, so a view column is added in one place.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from psycopg import Cursor

from ledgerflow.engine.domain.dates import iso
from ledgerflow.engine.domain.run_state import TI, RunState

RUN_COLUMNS = (
    "run_uuid", "version", "dag_id", "run_id", "logical_date", "data_interval_start",
    "data_interval_end", "run_type", "state", "conf", "dag_fingerprint", "clear_number",
)
RUN_SELECT = f"SELECT {', '.join(RUN_COLUMNS)} FROM dag_run"

# `::uuid[]`: the catch-up passes the uuids as text, as its cursors read them
_TIS = ("SELECT run_uuid, task_id, state, try_number, max_tries, hostname FROM task_instance "
        "WHERE run_uuid = ANY(%s::uuid[])")


def run_from_row(row: Mapping[str, Any]) -> RunState:
    """The run of a dag_run row (RUN_COLUMNS by name), without its task instances."""
    return RunState({
        "dag_id": row["dag_id"],
        "run_id": row["run_id"],
        "logical_date": iso(row["logical_date"]),
        "data_interval_start": iso(row["data_interval_start"]),
        "data_interval_end": iso(row["data_interval_end"]),
        "run_type": row["run_type"],
        "state": row["state"],
        "conf": row["conf"],
        "dag_fingerprint": row["dag_fingerprint"],
        "clear_number": row["clear_number"],
        "tasks": {},
    })


def add_task_instances(tuples: Cursor[Any], runs: Mapping[Any, RunState], ids: Collection[Any]) -> None:
    """Reads every task instance of the runs `ids` into `runs`, in one query.

    `tuples` is a tuple-row cursor (a run can have thousands of instances); `runs` is
    keyed by the uuids as that cursor loads them.
    """
    tuples.execute(_TIS, (list(ids),))
    for run_uuid, task_id, state, try_number, max_tries, hostname in tuples:
        ti = runs[run_uuid].tis[task_id] = TI(state, try_number, max_tries)
        ti.hostname = hostname
