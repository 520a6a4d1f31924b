"""A try's start on a worker and its outcome as task instance changes: the rules the runner and a recovery
share."""

from __future__ import annotations

from typing import Any

from ledgerflow.engine.domain.run_state import TI, ti_change
from ledgerflow.engine.domain.values import storable_text
from ledgerflow.engine.runtime.jobs import TaskResult


def began_change(task_id: str, ti: TI, res: TaskResult) -> dict[str, Any]:
    """From queued to running on the worker that took the try (a queueing executor's)."""
    where: dict[str, Any] = {k: v for k, v in (("hostname", res.hostname), ("pid", res.pid)) if v}
    return ti_change(task_id, ti, "running", **where)


def ended_change(task_id: str, ti: TI, res: TaskResult, retries: int) -> dict[str, Any]:
    """From running: the outcome; a failure with tries left is up_for_retry; a refused start (its DAG
    file changed) was no try, so it goes back to no state with its tries intact."""
    if res.state == "refused":
        return ti_change(task_id, ti, None, try_number=ti.try_number - 1, refused=res.error)
    extra: dict[str, Any] = {"log_sha256": res.log_sha256, "dag_fingerprint": res.fingerprint}
    if res.hostname:
        extra["hostname"] = res.hostname
    if res.error:
        extra["error"] = storable_text(res.error[:2000])  # a task's own text: a NUL must not refuse it
    if res.xcom:
        extra["xcom"] = res.xcom  # the values the try pushed: part of its recorded outcome
    to = res.state
    if to == "failed" and not res.final and retries > 0 and ti.try_number <= ti.max_tries:
        to = "up_for_retry"
    return ti_change(task_id, ti, to, **extra)


def outcome_changes(task_id: str, ti: TI, res: TaskResult, retries: int, *, begun: bool = False
                    ) -> list[dict[str, Any]]:
    """The try's end; while its task instance still says queued (the try began and ended between two looks
    at it), its start on the worker first, unless `begun`: that start is among the changes already."""
    end = ended_change(task_id, ti, res, retries)
    if ti.state != "queued" or res.state == "refused":
        return [end]
    end["from"] = "running"
    return [end] if begun else [began_change(task_id, ti, res), end]
