"""depends_on_past lineage: which later runs a clear would leave standing on a rewritten past.

A depends_on_past task that finished in a later run did so because its instance in
the run before succeeded. Clearing that earlier instance re-runs it, so every later
finished instance of the task that is not cleared too stands on a result that is
about to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.domain.dates import iso
from ledgerflow.engine.domain.read_port import Views
from ledgerflow.engine.domain.run_state import FAILED_LIKE, SUCCESS_LIKE
from ledgerflow.engine.errors import LineageWouldBreak

FINISHED_THERE = sorted(SUCCESS_LIKE | FAILED_LIKE)
NAMED = 5
RECORDED = 100


@dataclass
class LineageBreak:
    dag_id: str
    task_id: str
    cleared_at: datetime
    later_runs: list[str]

    def describe(self) -> str:
        shown = ", ".join(self.later_runs[:NAMED])
        more = len(self.later_runs) - NAMED
        if more > 0:
            shown += f" and {more} more"
        return (f"{self.dag_id}.{self.task_id} (depends_on_past) cleared at {iso(self.cleared_at)} "
                f"already finished in {len(self.later_runs)} later run(s): {shown}")

    def record(self) -> dict[str, object]:
        """What the Cleared event keeps about an accepted break."""
        return {"later_runs": len(self.later_runs), "later_run_ids": self.later_runs[:RECORDED]}


def would_break(breaks: list[LineageBreak]) -> LineageWouldBreak:
    return LineageWouldBreak(breaks, "; ".join(b.describe() for b in breaks))


def find_breaks(views: Views, dag: DAG, earliest: dict[str, datetime],
                cleared: set[tuple[UUID, str]]) -> list[LineageBreak]:
    """earliest: depends_on_past task id -> first logical date the clear changes it at."""
    past_tasks = {t: d for t, d in earliest.items() if dag.tasks[t].depends_on_past}
    if not past_tasks:
        return []
    later: dict[str, list[str]] = {}
    for run_uuid, run_id, moment, task_id in views.instances_after(
            dag.dag_id, list(past_tasks), min(past_tasks.values()), FINISHED_THERE):
        if moment > past_tasks[task_id] and (run_uuid, task_id) not in cleared:
            later.setdefault(task_id, []).append(run_id)
    return [LineageBreak(dag.dag_id, t, past_tasks[t], runs) for t, runs in sorted(later.items())]
