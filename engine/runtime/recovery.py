"""Before a driver plans: what a driver of the same DAG that died left behind on this machine.

Its local workers outlive it, so a try that was running ends and keeps its outcome:
the new driver first waits for them (it holds the DAG lock, so no live driver owns
them), and stops those whose task instance a clear set to restarting meanwhile.
Then every outcome kept in the try journal that no driver appended is appended,
stamped with the operation that started the try, all in one transaction. An
outcome the store already has, or whose task instance moved on since (a clear),
changes nothing. Only then do the runs' states tell what is left to run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.errors import ConcurrentModification
from ledgerflow.engine.infrastructure import task_logs, try_journal
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.engine.infrastructure.stored_runs import fold_stored
from ledgerflow.engine.infrastructure.task_logs import TryLog
from ledgerflow.engine.runtime.claim_recovery import celery_kept
from ledgerflow.engine.runtime.jobs import TaskResult, confined_log_path
from ledgerflow.engine.runtime.try_outcome import outcome_changes

APPEND_ATTEMPTS = 3
WAIT_STEP = 0.05
STOP_GRACE = 5.0  # seconds a stopped orphan has to end before it is killed


def recover(ledger: Ledger, dag_id: str, on_wait: Callable[[int], None] = lambda n: None,
            run_uuid: UUID | None = None) -> int:
    """Waits for the DAG's orphaned tries, then stores their kept outcomes; returns how many it stored.

    `run_uuid`: only that run's (a sub-DAG try drives one child run; other tries drive the others)."""
    held = [c for c in try_journal.held_claims(dag_id) if run_uuid is None or c.key.run_uuid == str(run_uuid)]
    if held:
        on_wait(len(held))
        _await(ledger, held)
    kept = [(k, o) for k, o in try_journal.kept(dag_id) if run_uuid is None or k.run_uuid == str(run_uuid)]
    kept += celery_kept(ledger, dag_id, on_wait, run_uuid)
    if not kept:
        return 0
    for attempt in range(APPEND_ATTEMPTS):
        aggs, count, logs = _outcomes(ledger, kept)
        try:
            with ledger.transaction() as curs:
                task_logs.store(curs, task_logs.here(logs))
            ledger.append(*aggs)
            break
        except ConcurrentModification:  # a clear got in between: read the runs again
            if attempt == APPEND_ATTEMPTS - 1:
                raise
    try_journal.forget(key for key, _ in kept)
    return count


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _await(ledger: Ledger, held: list[try_journal.Claim]) -> None:
    """Until every orphan ended; one whose try is no longer running in the store (cleared) is stopped."""
    with ledger.cursor() as curs:
        found = fold_stored(curs, sorted({UUID(c.key.run_uuid) for c in held}))
    stopped = []
    for claim in held:
        _, run = found.get(UUID(claim.key.run_uuid), (0, None))
        ti = run.tis.get(claim.key.task_id) if run is not None else None
        if ti is None or ti.state != "running" or ti.try_number != claim.key.try_number:
            _signal(claim.pid, signal.SIGTERM)
            stopped.append(claim)
    deadline = time.monotonic() + STOP_GRACE
    while held:
        time.sleep(WAIT_STEP)
        held = [c for c in held if not try_journal.released(c.path)]
        if stopped and time.monotonic() > deadline:
            for claim in stopped:
                _signal(claim.pid, signal.SIGKILL)
            stopped = []


def _outcomes(ledger: Ledger, kept: list[tuple[try_journal.TryKey, dict[str, Any]]]
              ) -> tuple[list[DagRun], int, list[TryLog]]:
    """The runs with one change event per (run, operation) for every kept outcome still due, and
    the logs of those tries."""
    with ledger.cursor() as curs:
        found = fold_stored(curs, sorted({UUID(key.run_uuid) for key, _ in kept}))
    aggs: dict[UUID, DagRun] = {}
    grouped: dict[tuple[UUID, str], tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    logs = []
    for key, outcome in kept:
        uid = UUID(key.run_uuid)
        if uid not in found:
            continue
        agg = aggs.get(uid) or aggs.setdefault(uid, DagRun.resume(uid, *found[uid]))
        ti = agg.run.tis.get(key.task_id)
        if ti is None or ti.state not in ("queued", "running") or ti.try_number != key.try_number:
            continue
        result = dict(outcome["result"])
        res = TaskResult(**{**result, "key": tuple(result["key"])})
        changes = grouped.setdefault((uid, outcome["stamp"]["operation_id"]), (outcome["stamp"], []))[1]
        changes += [{**c, "recovered": True} for c in outcome_changes(key.task_id, ti, res, outcome["retries"])]
        path = confined_log_path(key.dag_id, agg.run.run_id, key.task_id, key.try_number)
        logs.append(TryLog(key.run_uuid, key.task_id, key.try_number, str(path or "")))
    for (uid, _), (stamp, changes) in grouped.items():
        aggs[uid].trigger_event(DagRun.TaskInstancesChanged, **stamp, changes=changes)
    return [agg for agg in aggs.values() if agg.pending_events], len(logs), logs
