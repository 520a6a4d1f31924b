"""`tasks clear`: plan which task instances go back to no state, then append one operation.

The dry run, the confirmation listing and the append all use the same plan. The
plan is read from the views at known run versions; if another operation changes
one of those runs before the append, the append fails cleanly and the clear is
planned again (up to APPEND_ATTEMPTS times). A re-plan that selects other task
instances than the ones the user confirmed is refused instead of written.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from ledgerflow.engine.application.clear_select import Selection, resolve_dags, select
from ledgerflow.engine.application.commands import ClearTaskInstances
from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.domain.dates import from_iso
from ledgerflow.engine.domain.lineage import LineageBreak, find_breaks, would_break
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.domain.run_state import RUN_FINISHED, RunState, ti_change
from ledgerflow.engine.errors import ConcurrentModification, InvalidInput, RefusedCommand, Term
from ledgerflow.engine.infrastructure.store import Ledger

APPEND_ATTEMPTS = 6


@dataclass
class RunClear:
    uuid: UUID
    version: int
    run: RunState
    changes: list[dict[str, Any]]
    reached: str
    run_from: str = ""

    def __post_init__(self) -> None:
        self.run_from = self.run.state

    @property
    def run_to(self) -> str:
        return "queued" if self.run_from in RUN_FINISHED else self.run_from


@dataclass
class ClearPlan:
    command: ClearTaskInstances
    dags: list[DAG]
    selection: Selection
    runs: list[RunClear] = field(default_factory=list)
    breaks: list[LineageBreak] = field(default_factory=list)
    operation: OperationContext | None = None  # set when the plan is made to be applied

    @property
    def task_instances(self) -> int:
        return sum(len(r.changes) for r in self.runs)

    @property
    def restarting(self) -> int:
        return sum(1 for r in self.runs for c in r.changes if c["to"] == "restarting")

    @property
    def queued(self) -> list[RunClear]:
        return [r for r in self.runs if r.run_from != r.run_to]

    def keys(self) -> set[tuple[str, str, str]]:
        return {(r.run.dag_id, r.run.run_id, c["task_id"]) for r in self.runs for c in r.changes}


def plan_clear(ledger: Ledger, cmd: ClearTaskInstances, dags: list[DAG] | None = None) -> ClearPlan:
    """Validates and computes the clear from the caught-up views; writes nothing."""
    if cmd.break_lineage and not (cmd.reason and cmd.reason.strip()):
        raise InvalidInput("accepting a lineage break (", Term("break_lineage", "break lineage"), ") needs ",
                           Term("reason", "a reason"), ": the accepted break is recorded")
    dags = dags if dags is not None else resolve_dags(cmd.dag_id, regex=cmd.dag_regex,
                                                      subdir=cmd.subdir)
    selection = select(
        dags, task_regex=cmd.task_regex, upstream=cmd.upstream, downstream=cmd.downstream,
        start=cmd.start, end=cmd.end, past=cmd.past, future=cmd.future,
        exclude_subdags=cmd.exclude_subdags, exclude_parentdag=cmd.exclude_parentdag,
    )
    plan = ClearPlan(cmd, dags, selection)
    wanted = cmd.states
    read = views(ledger)
    for scope in selection.scopes.values():
        dag = scope.dag
        order = [t for t in dag.topological_order() if t in scope.task_ids]
        retries = {t: dag.tasks[t].retries for t in order}
        earliest: dict[str, datetime] = {}
        cleared: set[tuple[UUID, str]] = set()
        scope_runs: list[RunClear] = []
        for uid, version, run in read.clear_candidates(dag.dag_id, order, scope.start, scope.end):
            changes = _changes(run, order, retries, wanted)
            if not changes:
                continue
            moment = from_iso(run.logical_date)
            for c in changes:
                cleared.add((uid, c["task_id"]))
                if c["task_id"] not in earliest or moment < earliest[c["task_id"]]:
                    earliest[c["task_id"]] = moment
            scope_runs.append(RunClear(uid, version, run, changes, scope.reached))
        breaks = find_breaks(read, dag, earliest, cleared)
        if breaks and cmd.break_lineage:
            _record_breaks(scope_runs, breaks)
        plan.breaks.extend(breaks)
        plan.runs.extend(scope_runs)
    if plan.breaks and not cmd.break_lineage:
        raise would_break(plan.breaks)
    if cmd.prevent_running and plan.restarting:
        raise RefusedCommand(f"{plan.restarting} of the selected task instances are queued or running; "
                             "nothing was cleared")
    plan.runs.sort(key=lambda r: (from_iso(r.run.logical_date), r.run.dag_id))
    return plan


def _changes(run: RunState, order: list[str], retries: dict[str, int], wanted: frozenset[str] | None
             ) -> list[dict[str, Any]]:
    changes = []
    tis = run.tis
    for task_id in order:
        ti = tis.get(task_id)
        if ti is None:
            continue
        state = ti.state
        if (wanted is not None and state not in wanted) or state == "restarting":
            continue  # a restarting instance is already on its way back
        if state in ("queued", "running"):  # its driver stops the try first
            to, max_tries = "restarting", ti.max_tries
        else:
            to, max_tries = None, ti.try_number + retries[task_id]
            if state is None and max_tries == ti.max_tries:
                continue
        changes.append(ti_change(task_id, ti, to, max_tries=max_tries))
    return changes


def _record_breaks(runs: list[RunClear], breaks: list[LineageBreak]) -> None:
    """The accepted break goes with the earliest cleared instance of each task."""
    for brk in breaks:
        for rc in runs:
            if from_iso(rc.run.logical_date) != brk.cleared_at:
                continue
            for c in rc.changes:
                if c["task_id"] == brk.task_id:
                    c["lineage_break_accepted"] = brk.record()


def _append(ledger: Ledger, plan: ClearPlan, op: OperationContext, attempt: int) -> None:
    aggs = []
    for rc in plan.runs:
        agg = DagRun.resume(rc.uuid, rc.version, rc.run)
        agg.trigger_event(DagRun.Cleared, **op.stamp, changes=rc.changes, run_from=rc.run_from,
                          run_to=rc.run_to)
        aggs.append(agg)
    summary: dict[str, int | list[str]] = {
        "task_instances": plan.task_instances, "runs": len(plan.runs),
        "queued": len(plan.queued), "restarting": plan.restarting, "attempts": attempt}
    if plan.breaks:
        summary["lineage_breaks_accepted"] = [f"{b.dag_id}.{b.task_id}" for b in plan.breaks]
    ledger.append(op.started(), *aggs, op.ended("success", **summary))


def clear_task_instances(ledger: Ledger, plan: ClearPlan, op: OperationContext) -> ClearPlan:
    """Appends the plan as one operation; returns the plan that landed (re-planned on conflict)."""
    for attempt in range(APPEND_ATTEMPTS):
        try:
            _append(ledger, plan, op, attempt + 1)
            return plan
        except ConcurrentModification:
            if attempt == APPEND_ATTEMPTS - 1:
                raise
        op.aggregate = None  # the failed append took its Started event with it
        time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        views(ledger).catch_up()
        fresh = plan_clear(ledger, plan.command, plan.dags)
        if not plan.command.yes and fresh.keys() != plan.keys():
            raise ConcurrentModification(
                "another operation changed these task instances while you were confirming; "
                "nothing was written: run the command again to see the new list"
            )
        plan = fresh
    raise AssertionError("unreachable")
