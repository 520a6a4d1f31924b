"""Recovery's part for tries on Celery workers: what a driver that died left in try_claim.

Its tries that workers still run are waited for (a heartbeat fresher than
LEDGERFLOW_TASK_HEARTBEAT_TIMEOUT says the worker lives), those whose worker died
fail, and those still in the queue are settled as stopped so that no worker runs
them after the next driver ran their task instance again. The outcomes workers
recorded are then handed to recovery, stamped with the operation that started them,
as the try journal's are.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from ledgerflow.engine.infrastructure import settings, try_tables
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.engine.infrastructure.try_journal import TryKey

WAIT_STEP = 0.2
_LEFT = (
    "SELECT d.run_uuid::text, d.task_id, d.try_number, d.job, c.hostname, c.pid, c.result, "
    "c.heartbeat_at < now() - make_interval(secs => %s) AS stale FROM try_dispatch d "
    "JOIN task_instance t ON t.run_uuid = d.run_uuid AND t.task_id = d.task_id AND t.try_number = d.try_number "
    "LEFT JOIN try_claim c ON c.run_uuid = d.run_uuid AND c.task_id = d.task_id AND c.try_number = d.try_number "
    "WHERE t.state IN ('queued', 'running') AND d.job->>'dag_id' = %s"
)


def _left(ledger: Ledger, dag_id: str, run_uuid: UUID | None, stale_after: float) -> list[tuple[Any, ...]]:
    with ledger.cursor() as curs:
        curs.execute(_LEFT, (stale_after, dag_id))
        rows = [tuple(r.values()) for r in curs.fetchall()]
    return [r for r in rows if run_uuid is None or r[0] == str(run_uuid)]


def celery_kept(ledger: Ledger, dag_id: str, on_wait: Callable[[int], None],
                run_uuid: UUID | None = None) -> list[tuple[TryKey, dict[str, Any]]]:
    """The outcomes of the DAG's queued and running tries that Celery workers recorded, once none runs any more."""
    stale_after = settings.heartbeat_timeout()
    told = False
    while True:
        rows = _left(ledger, dag_id, run_uuid, stale_after)
        if not rows:
            return []
        settle = []
        for uid, task_id, number, _, host, pid, result, stale in rows:
            key = (uid, task_id, number)
            if host is None:  # still in the queue: no worker may take it now
                settle.append((key, {"key": [uid, task_id], "state": "stopped"}))
            elif result is None and stale:
                settle.append((key, {"key": [uid, task_id], "state": "failed", "hostname": host,
                                     "error": f"worker {host} (pid {pid}) sent no heartbeat for "
                                              f"{stale_after:g} s: it is taken for dead"}))
        running = sum(1 for r in rows if r[4] is not None and r[6] is None and not r[7])
        if settle:
            with try_tables.connect(ledger.url) as conn:
                try_tables.settle(conn, settle)
            continue
        if not running:
            return [(TryKey(dag_id, uid, task_id, number),
                     {"stamp": job.get("stamp") or {}, "retries": job.get("retries", 0), "result": result})
                    for uid, task_id, number, job, _, _, result, _ in rows
                    if result is not None and result.get("state") != "stopped"]
        if not told:
            on_wait(running)
            told = True
        time.sleep(WAIT_STEP)
