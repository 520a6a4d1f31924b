"""ledgerflow's rows in Airflow 3's response shapes (the JSON field names of v2.yaml)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from hashlib import sha1
from typing import Any
from uuid import NAMESPACE_URL

UNMAPPED = -1
_TI_ID_PREFIX = sha1(NAMESPACE_URL.bytes + b"https://ledgerflow.dev/ti/")


def ti_ids(dag_id: str, run_id: str) -> Callable[[str], str]:
    """The ids of one run's task instances by task id: uuid5(NAMESPACE_URL,
    "https://ledgerflow.dev/ti/<dag>/<run>/<task>") as text, from a hash of the run's common prefix taken
    once: a clear lists every task instance it changed, tens of thousands of ids."""
    prefix = _TI_ID_PREFIX.copy()
    prefix.update(f"{dag_id}/{run_id}/".encode())

    def of(task_id: str) -> str:
        digest = prefix.copy()
        digest.update(task_id.encode())
        raw = bytearray(digest.digest()[:16])
        raw[6] = (raw[6] & 0x0F) | 0x50  # version 5
        raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    return of


def ti_id(dag_id: str, run_id: str, task_id: str) -> str:
    return ti_ids(dag_id, run_id)(task_id)


def run(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "dag_run_id": row["run_id"], "dag_id": row["dag_id"], "dag_display_name": row["dag_id"],
        "logical_date": row["logical_date"], "run_after": row["logical_date"],
        "data_interval_start": row["data_interval_start"], "data_interval_end": row["data_interval_end"],
        "run_type": row["run_type"], "state": row["state"], "conf": row["conf"], "dag_versions": [],
        "start_date": None, "end_date": None, "queued_at": None, "note": None, "triggered_by": None,
    }


def task_instance(row: dict[str, Any], task: Any = None, times: tuple[Any, Any] = (None, None)) -> dict[str, Any]:
    """A task instance; `task` (from the DAG file, when it loads) adds its pool, queue and operator, and
    `times` its current try's start and end."""
    started, ended = times
    return {
        "start_date": _iso(started), "end_date": _iso(ended),
        "duration": (ended - started).total_seconds() if started is not None and ended is not None else None,
        "id": ti_id(row["dag_id"], row["run_id"], row["task_id"]),
        "task_id": row["task_id"], "dag_id": row["dag_id"], "dag_run_id": row["run_id"], "map_index": UNMAPPED,
        "logical_date": row["logical_date"], "run_after": row["logical_date"], "state": row["state"],
        "try_number": row["try_number"], "max_tries": row["max_tries"], "task_display_name": row["task_id"],
        "dag_display_name": row["dag_id"], "hostname": row.get("hostname"),
        "pool": (getattr(task, "pool", None) or "default_pool"), "pool_slots": getattr(task, "pool_slots", 1),
        "queue": getattr(task, "queue", None), "operator": type(task).__name__ if task is not None else None,
        "executor_config": "{}", "rendered_fields": {}, "note": None,
    }


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def try_row(ti: dict[str, Any], attempt: dict[str, Any], task: Any = None) -> dict[str, Any]:
    started, ended = (datetime.fromisoformat(attempt[k]) if attempt[k] else None for k in ("start_date", "end_date"))
    shaped = task_instance(ti, task, (started, ended))
    del shaped["id"], shaped["rendered_fields"], shaped["note"], shaped["run_after"]
    shaped.update(try_number=attempt["try_number"], state=attempt["state"])
    return shaped


def event_log(entry: dict[str, Any]) -> dict[str, Any]:
    """An audit entry as an Airflow event log: owner is the actor; extra holds the rest as JSON."""
    extra = {"reason": entry["reason"], "operation": entry["operation"], "operation_id": entry["operation_id"],
             "from_state": entry["from_state"], "to_state": entry["to_state"]}
    if entry.get("details"):
        extra["details"] = entry["details"]
    return {
        "event_log_id": entry["seq"], "when": entry["recorded_at"], "event": entry["event"],
        "dag_id": entry["dag_id"], "dag_display_name": entry["dag_id"], "run_id": entry["run_id"],
        "task_id": entry["task_id"], "task_display_name": entry["task_id"], "map_index": None,
        "try_number": entry.get("try_number"), "logical_date": None, "owner": entry["actor"],
        "extra": json.dumps(extra, sort_keys=True, default=str),
    }


def pool(name: str, slots: int, use: dict[str, int] | None = None) -> dict[str, Any]:
    """A pool with the slots its running and queued task instances hold (-1 slots: unlimited, all open)."""
    running, queued = (use or {}).get("running", 0), (use or {}).get("queued", 0)
    return {"name": name, "slots": slots, "description": None, "include_deferred": False,
            "occupied_slots": running + queued, "running_slots": running, "queued_slots": queued,
            "scheduled_slots": 0, "open_slots": -1 if slots == -1 else slots - running - queued,
            "deferred_slots": 0}


def _seconds(delta: Any) -> dict[str, Any] | None:
    if delta is None:
        return None
    total = delta.total_seconds() if hasattr(delta, "total_seconds") else float(delta)
    days, rest = divmod(total, 86400)
    return {"__type": "TimeDelta", "days": int(days), "seconds": int(rest), "microseconds": round(rest % 1 * 1e6)}


def dag(d: Any, paused: bool) -> dict[str, Any]:
    owners = sorted({o for t in d.tasks.values() if (o := getattr(t, "owner", None))}) or ["airflow"]
    tags = [{"name": t, "dag_id": d.dag_id, "dag_display_name": d.dag_id} for t in getattr(d, "tags", None) or ()]
    return {
        "dag_id": d.dag_id, "dag_display_name": d.dag_id, "is_paused": paused, "is_stale": False,
        "fileloc": d.fileloc or "", "relative_fileloc": None, "file_token": d.fingerprint or "",
        "description": d.description, "timetable_summary": None if d.schedule is None else str(d.schedule),
        "timetable_description": None, "timetable_partitioned": False,
        "timetable_periodic": d.schedule not in (None, "@once"), "tags": tags,
        "max_active_tasks": d.max_active_tasks, "max_active_runs": d.max_active_runs,
        "max_consecutive_failed_dag_runs": 0, "has_task_concurrency_limits": False, "has_import_errors": False,
        "owners": owners, "is_backfillable": d.schedule not in (None, "@once"),
    }


def task(t: Any) -> dict[str, Any]:
    return {
        "task_id": t.task_id, "task_display_name": t.task_id, "operator_name": type(t).__name__,
        "depends_on_past": bool(t.depends_on_past), "wait_for_downstream": bool(t.wait_for_downstream),
        "retry_exponential_backoff": 0, "extra_links": [], "retries": t.retries,
        "retry_delay": _seconds(t.retry_delay), "execution_timeout": _seconds(t.execution_timeout),
        "pool": t.pool or "default_pool", "pool_slots": t.pool_slots, "queue": getattr(t, "queue", None),
        "owner": getattr(t, "owner", None), "trigger_rule": t.trigger_rule, "is_mapped": False,
        "downstream_task_ids": sorted(t.downstream_task_ids), "template_fields": list(t.template_fields),
        "class_ref": {"class_name": type(t).__name__, "module_path": type(t).__module__},
    }


def backfill(row: dict[str, Any], changed: dict[int, str]) -> dict[str, Any]:
    """A backfill; `changed` holds when each backfill last changed after its creation, by id."""
    return {
        "id": row["id"], "dag_id": row["dag_id"], "dag_display_name": row["dag_id"], "from_date": row["from_date"],
        "to_date": row["to_date"], "dag_run_conf": row["dag_run_conf"], "is_paused": row["is_paused"],
        "reprocess_behavior": row["reprocess_behavior"] or "none", "max_active_runs": row["max_active_runs"],
        "created_at": row["created_at"], "completed_at": row["completed_at"],
        "updated_at": changed.get(row["id"]) or row["created_at"],
    }


def xcom(row: dict[str, Any], run_row: dict[str, Any], pushed_at: str | None) -> dict[str, Any]:
    """An XCom, with its value; `pushed_at` is the end of the try that pushed it."""
    return {
        "key": row["key"], "timestamp": pushed_at or run_row["logical_date"], "map_index": UNMAPPED,
        "task_id": row["task_id"], "dag_id": row["dag_id"], "run_id": row["run_id"],
        "dag_display_name": row["dag_id"], "task_display_name": row["task_id"],
        "logical_date": run_row["logical_date"], "run_after": run_row["logical_date"], "value": row["value"],
    }
