"""Whether one task instance of a driven run may start now, from its DAG, its run and the history."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.domain.dates import from_iso
from ledgerflow.engine.domain.deps import RUN, SKIP, past_verdict, trigger_rule_verdict
from ledgerflow.engine.domain.outcome import label
from ledgerflow.engine.runtime.branch_memory import BranchMemory
from ledgerflow.engine.runtime.history import RunHistory


class Decider:
    """Trigger rules over the run's own states, then depends_on_past over its previous run."""

    def __init__(self, dag: DAG, full_dag: DAG, history: RunHistory, ran_before: dict[str, datetime | None],
                 *, ignore_dependencies: bool) -> None:
        self.dag, self.full_dag, self.history, self.ran_before = dag, full_dag, history, ran_before
        self.ignore_dependencies = ignore_dependencies
        self.waive_past_for: UUID | None = None  # -I: the first run's past is not checked
        self.branches: BranchMemory | None = None  # set when the DAG has tasks that decide skips

    def verdict(self, agg: DagRun, task_id: str, states: dict[str, str | None]) -> tuple[str, str]:
        """(action, reason): RUN, WAIT, or the state to set without running (skipped, upstream_failed)."""
        if self.ignore_dependencies:
            return RUN, ""
        task = self.dag.tasks[task_id]
        if self.branches is not None and (why := self.branches.skipped_by(agg.id, agg.run, task_id)):
            return SKIP, why
        # an upstream task with no instance in this run (outside its own start/end dates) is not waited for
        upstream = {u: states.get(u) for u in task.upstream_task_ids if u in agg.run.tis}
        verdict = trigger_rule_verdict(task.trigger_rule, upstream)
        if verdict.action != RUN or not task.depends_on_past or agg.id == self.waive_past_for:
            return verdict.action, verdict.reason
        prev = self.history.previous(agg.run)
        first = self.ran_before.get(task_id)
        past = past_verdict(
            task_id,
            self.full_dag.tasks[task_id].downstream_task_ids,
            task.wait_for_downstream,
            None if prev is None else {t: ti.state for t, ti in prev.tis.items()},
            "" if prev is None else label(prev.logical_date),
            first is not None and first < from_iso(agg.run.logical_date),
        )
        return past.action, past.reason
