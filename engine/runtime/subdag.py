"""A SubDagTask try: drive the child DAG's run for the parent's logical date to its end.

The child run (dag_id `parent.child`, the parent's logical date, data interval,
run_id and run_type) is created, or taken over when it exists: a failed child run
gets its failed task instances back to no state, so a retry of the parent task
re-runs them. The try runs in its own ledger connection, holding the child DAG's
advisory lock shared and the child run's lock exclusively, so `tasks clear` sees a
live driver and the child's runner picks up clears of the child run like any
other. The try succeeds iff the child run ends success.
"""

from __future__ import annotations

from typing import IO, Any

from ledgerflow.engine.authoring.dag import SubDagTask
from ledgerflow.engine.domain.dagrun import DagRun, dagrun_id
from ledgerflow.engine.domain.dates import from_iso, iso
from ledgerflow.engine.domain.operation import OperationContext, new_operation
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.domain.run_state import FAILED_LIKE
from ledgerflow.engine.domain.scheduling import new_run, reset_tis, take_over
from ledgerflow.engine.errors import SubDagFailed
from ledgerflow.engine.infrastructure.locks import child_run_lock
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.engine.infrastructure.stored_runs import load_run
from ledgerflow.engine.runtime.executors import SequentialExecutor
from ledgerflow.engine.runtime.jobs import TaskJob
from ledgerflow.engine.runtime.recovery import recover
from ledgerflow.engine.runtime.runner import Runner, RunnerOptions
from ledgerflow.engine.runtime.worker import runs_tries_of


@runs_tries_of(SubDagTask)
def run_subdag(task: SubDagTask, job: TaskJob, context: dict[str, Any], fields: dict[str, Any],
               log: IO[str]) -> None:
    from ledgerflow.engine.infrastructure.migrations import open_ledger

    child = task.subdag
    ledger = open_ledger()
    try:
        op = new_operation(
            f"subdag {child.dag_id}", actor=None, reason=None, mutating=False,
            arguments={"parent_dag_id": job.dag_id, "parent_task_id": job.task_id,
                       "parent_run_id": job.run_id, "try_number": job.try_number},
        )
        with child_run_lock(ledger, child.dag_id, iso(job.logical_date)):
            state, blocked = _drive(ledger, task, job, op)
    finally:
        ledger.close()
    log.write(f"sub-DAG {child.dag_id} run {job.run_id} ended {state}\n")
    for line in blocked:
        log.write(f"  {line}\n")
    if state != "success":
        detail = f" ({'; '.join(blocked)})" if blocked else ""
        raise SubDagFailed(f"sub-DAG {child.dag_id} run {job.run_id} ended {state}{detail}")


def _child_run(ledger: Ledger, task: SubDagTask, job: TaskJob, op: OperationContext) -> DagRun:
    child = task.subdag
    uid = dagrun_id(child.dag_id, iso(job.logical_date))
    found = load_run(ledger, uid)
    if found is None:
        return new_run(child, job.logical_date, job.run_type, "queued", dict(job.conf), op,
                       run_id=job.run_id, interval=(job.data_interval_start, job.data_interval_end))
    agg = DagRun.resume(uid, *found)
    run = agg.run
    if run.run_type != job.run_type:
        agg.trigger_event(DagRun.Adopted, **op.stamp, run_type=job.run_type, conf=run.conf,
                          from_run_type=run.run_type)
    take_over(agg, child, op)
    if run.state == "failed":
        reset_tis(agg, child, op, FAILED_LIKE, rerun=True)
    return agg


def _drive(ledger: Ledger, task: SubDagTask, job: TaskJob, op: OperationContext
           ) -> tuple[str, list[str]]:
    child = task.subdag
    read = views(ledger)
    recover(ledger, child.dag_id, run_uuid=dagrun_id(child.dag_id, iso(job.logical_date)))
    read.catch_up()
    known = [run for _, run in read.runs(child.dag_id).values()]
    agg = _child_run(ledger, task, job, op)
    runner = Runner(ledger, child, child, op, SequentialExecutor(), RunnerOptions(continue_on_failures=True),
                    runs=[*known, agg.run], pool_slots=read.pools())
    runner.hold(agg)
    pending = [agg]

    def acquire(n: int) -> list[DagRun]:
        fresh, pending[:] = pending[:n], pending[n:]
        return fresh

    outcome = runner.drive(acquire, 1)
    state = runner.history.at(from_iso(agg.run.logical_date)).state
    runner.op.ended("success" if state == "success" else "failed", run_id=job.run_id, state=state)
    runner.flush()
    return state, [b.describe() for b in outcome.blocked]
