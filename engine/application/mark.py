"""Mark success / mark failed: task instances set to a final state by a person, as one operation.

Airflow's `PATCH taskInstances/{task_id}` with `new_state`: the task, optionally its
upstream and downstream tasks, in this run and optionally the runs before (past) and
after (future). Instances already in that state are left alone; an instance that is
queued, running or restarting belongs to a driver and is refused rather than
overwritten under it. The dry run lists the same plan the real call appends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from ledgerflow.engine.application.commands import MarkTaskInstances
from ledgerflow.engine.authoring.dagbag import load_dag
from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.domain.dates import from_iso
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.domain.run_state import RunState, ti_change
from ledgerflow.engine.errors import InvalidInput, NotFound, RefusedCommand
from ledgerflow.engine.infrastructure import settings
from ledgerflow.engine.infrastructure.store import Ledger

MARKABLE = ("success", "failed")
_DRIVEN = frozenset({"queued", "running", "restarting"})


@dataclass
class RunMark:
    uuid: UUID
    version: int
    run: RunState
    changes: list[dict[str, Any]]


@dataclass
class MarkPlan:
    command: MarkTaskInstances
    runs: list[RunMark] = field(default_factory=list)

    def keys(self) -> list[tuple[str, str]]:
        """(run_id, task_id) of every instance the mark changes, oldest run first."""
        return [(r.run.run_id, c["task_id"]) for r in self.runs for c in r.changes]


def plan_mark(ledger: Ledger, cmd: MarkTaskInstances) -> MarkPlan:
    if cmd.state not in MARKABLE:
        raise InvalidInput(f"a task instance can be marked {' or '.join(MARKABLE)}, not {cmd.state!r}")
    runs = views(ledger).runs(cmd.dag_id)
    target = next(((uid, v, r) for uid, (v, r) in runs.items() if r.run_id == cmd.run_id), None)
    if target is None:
        raise NotFound(f"DAG {cmd.dag_id!r} has no run {cmd.run_id!r}")
    if cmd.task_id not in target[2].tis:
        raise NotFound(f"run {cmd.run_id!r} of DAG {cmd.dag_id!r} has no task {cmd.task_id!r}")
    task_ids = {cmd.task_id}
    if cmd.upstream or cmd.downstream:
        dag = load_dag(cmd.subdir or settings.dags_folder(), cmd.dag_id)
        if cmd.task_id in dag.tasks:
            if cmd.upstream:
                task_ids |= dag.relatives({cmd.task_id}, upstream=True)
            if cmd.downstream:
                task_ids |= dag.relatives({cmd.task_id}, upstream=False)
    at = from_iso(target[2].logical_date)
    plan = MarkPlan(cmd)
    for uid, (version, run) in runs.items():
        moment = from_iso(run.logical_date)
        if not (uid == target[0] or (cmd.past and moment < at) or (cmd.future and moment > at)):
            continue
        changes = []
        for task_id in sorted(task_ids):
            ti = run.tis.get(task_id)
            if ti is None or ti.state == cmd.state:
                continue
            if ti.state in _DRIVEN:
                raise RefusedCommand(f"task {task_id!r} of run {run.run_id!r} is {ti.state}: its driver decides "
                                     f"its state; clear it or wait until it finishes")
            changes.append(ti_change(task_id, ti, cmd.state, marked=True))
        if changes:
            plan.runs.append(RunMark(uid, version, run, changes))
    return plan


def mark(ledger: Ledger, plan: MarkPlan, op: OperationContext) -> MarkPlan:
    """Appends the plan as one operation (a run changed meanwhile fails cleanly, writing nothing)."""
    aggs = []
    for rm in plan.runs:
        agg = DagRun.resume(rm.uuid, rm.version, rm.run)
        agg.trigger_event(DagRun.TaskInstancesChanged, **op.stamp, changes=rm.changes)
        aggs.append(agg)
    ledger.append(op.started(), *aggs, op.ended("success", task_instances=len(plan.keys()), state=plan.command.state))
    return plan
