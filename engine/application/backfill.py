"""`dags backfill`, part two: append the plan and drive its runs with the runner."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ledgerflow.engine.application.backfill_plan import BackfillPlan, ExistingRun
from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.domain.dates import iso
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.domain.outcome import Outcome, Progress
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.domain.run_state import FAILED_LIKE, FINISHED, ti_change
from ledgerflow.engine.domain.scheduling import new_run, reset_tis, take_over
from ledgerflow.engine.errors import Interrupted
from ledgerflow.engine.infrastructure import settings
from ledgerflow.engine.infrastructure.locks import run_leased
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.engine.runtime.executors import Executor, make_executor
from ledgerflow.engine.runtime.runner import Runner, RunnerOptions
from ledgerflow.engine.runtime.slots import PoolBoard

LIMIT_CHECKS = 10


@dataclass
class BackfillResult:
    outcome: Outcome
    plan: BackfillPlan


def apply_resets(plan: BackfillPlan, op: OperationContext) -> dict[datetime, DagRun]:
    """--reset-dagruns as Reset events: task instances back to none, runs queued."""
    aggs: dict[datetime, DagRun] = {}
    by_run: dict[datetime, list[dict]] = {}
    for existing, task_id in plan.resets:
        moment = datetime.fromisoformat(existing.run.logical_date)
        ti = existing.run.tis[task_id]
        by_run.setdefault(moment, []).append(
            ti_change(task_id, ti, None, max_tries=ti.try_number + plan.full_dag.tasks[task_id].retries))
    for moment, changes in by_run.items():
        existing = plan.existing[moment]
        agg = DagRun.resume(existing.uuid, existing.version, existing.run)
        run_to = "queued" if agg.run.state in ("success", "failed") else agg.run.state
        agg.trigger_event(DagRun.Reset, **op.stamp, changes=changes, run_from=agg.run.state,
                          run_to=run_to)
        aggs[moment] = agg
    return aggs


def _adopt(ledger: Ledger, plan: BackfillPlan, found: ExistingRun, agg: DagRun | None,
           op: OperationContext) -> DagRun:
    agg = agg or DagRun.resume(found.uuid, found.version, found.run)
    run = agg.run
    if plan.conf is not None and plan.conf != run.conf:
        agg.trigger_event(DagRun.Adopted, **op.stamp, run_type=run.run_type, conf=plan.conf,
                          from_run_type=run.run_type, from_conf=run.conf)
    take_over(agg, plan.dag, op, ledger)
    if plan.request.rerun_failed_tasks:
        reset_tis(agg, plan.dag, op, FAILED_LIKE, rerun=True)
    return agg


def _has_work(plan: BackfillPlan, agg: DagRun) -> bool:
    return any(agg.run.tis[t].state not in FINISHED for t in plan.dag.tasks if t in agg.run.tis)


def _foreign_active(ledger: Ledger, plan: BackfillPlan) -> list[str]:
    """Runs of this DAG, outside this backfill, that hold a max_active_runs slot: those a live session
    drives (the DAG's lock is ours, so only a sub-DAG run's own lock can say so)."""
    ours = set(plan.dates)
    dag_id = plan.full_dag.dag_id
    return [run_id for run_id, moment in views(ledger).slot_holders(dag_id)
            if moment not in ours and run_leased(ledger, dag_id, iso(moment))]


def take_over_orphans(ledger: Ledger, plan: BackfillPlan, op: OperationContext, runner: Runner) -> None:
    """Runs of this DAG outside the backfill left running by a driver that is gone hold no slot: they are
    taken over (recorded), their unfinished task instances reset and the runs left queued for their driver."""
    ours = set(plan.dates)
    dag_id = plan.full_dag.dag_id
    read = views(ledger)
    for _, moment in read.slot_holders(dag_id):
        if moment in ours or run_leased(ledger, dag_id, iso(moment)):
            continue
        for uid, (version, run) in read.runs(dag_id, moment, moment).items():
            agg = take_over(DagRun.resume(uid, version, run), plan.full_dag, op, ledger)
            runner.events.set_run_state(agg, "queued")
            runner.hold(agg)


class _Acquirer:
    """Hands the runner its next runs, in plan order: created, or adopted with their fixes."""

    def __init__(self, plan: BackfillPlan, op: OperationContext, runner: Runner,
                 reset_aggs: dict[datetime, DagRun], halt: Callable[[], bool]) -> None:
        self.plan, self.op, self.runner, self.reset_aggs, self.halt = plan, op, runner, reset_aggs, halt
        self.queue = list(plan.dates)
        self.first = plan.dates[0] if plan.dates else None

    def __call__(self, n: int) -> list[DagRun]:
        plan = self.plan
        fresh: list[DagRun] = []
        if self.queue and self.halt():  # paused or cancelled: no new run starts, those running finish
            return fresh
        while self.queue and len(fresh) < n:
            moment = self.queue.pop(0)
            found = plan.existing.get(moment)
            if found is None:
                agg = new_run(plan.full_dag, moment, "backfill", "running", plan.conf or {}, self.op,
                              interval=plan.intervals[moment], task_ids=list(plan.dag.tasks))
            else:
                agg = _adopt(self.runner.ledger, plan, found, self.reset_aggs.get(moment), self.op)
            self.runner.hold(agg)
            if moment == self.first and plan.request.ignore_first_depends_on_past:
                self.runner.waive_past_for(agg)
            if found is not None and not _has_work(plan, agg):
                self.runner.close(agg)  # nothing left to do: its failures are reported, nothing re-runs
                continue
            fresh.append(agg)
        return fresh


def run_backfill(
    ledger: Ledger,
    plan: BackfillPlan,
    op: OperationContext,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    halt: Callable[[], bool] = lambda: False,
    executor: Executor | None = None,
    limit: int | None = None,
    pool_board: PoolBoard | None = None,
) -> BackfillResult:
    """Appends the plan and drives it; the caller holds dag_lock() around plan and run.

    `halt`: whether the backfill was paused or cancelled (no new run starts); `executor`: one the
    caller owns and ends (the scheduler's), `limit`: the backfill's own max_active_runs. Given an
    executor, the operation is the caller's too: its start and end are the caller's to record;
    `pool_board`: the pools' counts the caller's other runners share (the scheduler's).
    """
    req = plan.request
    options = RunnerOptions(
        ignore_dependencies=req.ignore_dependencies, mark_success=req.mark_success,
        donot_pickle=req.donot_pickle, pool=req.pool,
        continue_on_failures=req.continue_on_failures, disable_retry=req.disable_retry,
    )
    own = executor is None
    if own and not req.mark_success:
        executor = make_executor("local" if req.local else None, settings.parallelism())
    op.started()
    reset_aggs = apply_resets(plan, op)
    known = [r.run for r in plan.existing.values()] + ([plan.previous.run] if plan.previous else [])
    runner = Runner(
        ledger, plan.dag, plan.full_dag, op, executor, options, runs=known, ran_before=plan.ran_before,
        pool_slots=plan.pool_slots, on_progress=on_progress, should_stop=should_stop, pool_board=pool_board,
    )
    runner.progress.runs_total = len(plan.dates)
    runner.progress.tis_total = len(plan.dates) * len(plan.dag.tasks)
    for agg in reset_aggs.values():
        runner.hold(agg)
    take_over_orphans(ledger, plan, op, runner)
    acquire = _Acquirer(plan, op, runner, reset_aggs, halt)
    try:
        capacity, held = _capacity(ledger, plan, on_wait, should_stop)
        if limit is not None:
            capacity = min(capacity, limit)
        outcome = runner.drive(acquire, capacity) if capacity > 0 else runner.outcome
    except KeyboardInterrupt:
        stopped = runner.interrupt()
        if own:
            op.ended("interrupted", stopped=stopped)
        runner.flush()
        raise Interrupted(
            "backfill interrupted; finished work is recorded, run the same command to resume"
        ) from None
    finally:
        if own and executor is not None:
            executor.shutdown()
    outcome.held_by = held
    outcome.not_started = list(acquire.queue)
    if own:
        op.ended(
            "success" if outcome.ok else "failed",
            runs=len(plan.dates), failed=len(outcome.failed), blocked=len(outcome.blocked),
            not_started=len(outcome.not_started),
        )
    runner.flush()
    return BackfillResult(outcome, plan)


def _capacity(ledger: Ledger, plan: BackfillPlan, on_wait: Callable[[str], None] | None,
              should_stop: Callable[[], bool] = lambda: False) -> tuple[int, str | None]:
    """Free max_active_runs slots; waits --delay-on-limit between checks while others hold them.

    A stop request (signal) ends the wait at once, as KeyboardInterrupt, like the runner's.
    """
    limit = plan.full_dag.max_active_runs
    holders: list[str] = []
    for _ in range(LIMIT_CHECKS):
        holders = _foreign_active(ledger, plan)
        free = limit - len(holders)
        if free > 0:
            return free, None
        if on_wait:
            on_wait(
                f"max_active_runs limit ({limit}) for DAG {plan.full_dag.dag_id} is reached by "
                f"{', '.join(holders)}; waiting {plan.request.delay_on_limit:g}s"
            )
        deadline = time.monotonic() + plan.request.delay_on_limit
        while True:
            if should_stop():
                raise KeyboardInterrupt
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(left, 0.1))
    return 0, f"max_active_runs ({limit}) is held by running runs {', '.join(holders)}"
