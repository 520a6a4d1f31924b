"""A skip a branch or a short-circuit decided holds after a clear, as in Airflow: their tries record
what they followed or skipped (XCom `skipmixin_key`), and a task instance they did not follow is
skipped again instead of run. A run read from the views has no XComs; its events are read then."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from ledgerflow.engine.domain.run_state import RunState
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.engine.infrastructure.stored_runs import load_run

SKIPMIXIN_KEY = "skipmixin_key"


class BranchMemory:
    def __init__(self, dag: Any, load: Callable[[UUID], RunState | None]) -> None:
        self.dag = dag
        self._load = load
        self._deciders: dict[str, list[str]] = {}  # task id -> the skip-deciding tasks above it
        self._stored: dict[UUID, RunState | None] = {}

    def _above(self, task_id: str) -> list[str]:
        if task_id not in self._deciders:
            above = self.dag.relatives([task_id], upstream=True)
            self._deciders[task_id] = sorted(t for t in above if getattr(self.dag.tasks[t], "decides_skips", False))
        return self._deciders[task_id]

    def _memo(self, run_uuid: UUID, run: RunState, decider: str) -> dict[str, Any] | None:
        ti = run.tis.get(decider)
        if ti is None or ti.state != "success":
            return None
        xcom = ti.xcom
        if xcom is None:
            if run_uuid not in self._stored:
                self._stored[run_uuid] = self._load(run_uuid)
            stored = self._stored[run_uuid]
            stored_ti = stored.tis.get(decider) if stored is not None else None
            xcom = stored_ti.xcom if stored_ti is not None and stored_ti.try_number == ti.try_number else None
        memo = (xcom or {}).get(SKIPMIXIN_KEY)
        return memo if isinstance(memo, dict) else None

    def skipped_by(self, run_uuid: UUID, run: RunState, task_id: str) -> str | None:
        """Why the task instance is skipped by a decision above it (None: it is not)."""
        for decider in self._above(task_id):
            memo = self._memo(run_uuid, run, decider)
            if memo is None:
                continue
            direct = task_id in self.dag.tasks[decider].downstream_task_ids
            if direct and "followed" in memo and task_id not in memo["followed"]:
                return f"branch {decider} did not follow it"
            if task_id in memo.get("skipped", ()):
                return f"{decider} short-circuited it"
        return None


def stored_run(ledger: Ledger, run_uuid: UUID) -> RunState | None:
    found = load_run(ledger, run_uuid)
    return found[1] if found is not None else None
