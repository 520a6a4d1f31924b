"""A try's outcome as a task instance change: the one rule the runner and a recovery share."""

from __future__ import annotations

from typing import Any

from ledgerflow.engine.domain.run_state import TI, ti_change
from ledgerflow.engine.domain.values import storable_text
from ledgerflow.engine.runtime.jobs import TaskResult


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
