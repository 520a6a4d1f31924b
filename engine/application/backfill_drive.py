"""The scheduler's part of a backfill object: what is left of it, driven under the DAG's lock, and its end.

What is left is read again from the runs each time: a date whose run this backfill
started (the run moved past the version it had when the backfill decided) and that
finished is done; an adopted date not started yet is reset first as its
reprocess_behavior says (failed: its failed task instances; completed: all of them; a foreground
backfill, which has none, runs what its runs left unfinished, as `dags backfill` does).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ledgerflow.engine.application.backfill import run_backfill
from ledgerflow.engine.application.backfill_object import Watch, load_backfill, record
from ledgerflow.engine.application.backfill_plan import BackfillPlan, ExistingRun
from ledgerflow.engine.application.commands import BackfillRequest
from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.domain.backfill import Backfill
from ledgerflow.engine.domain.backfill_state import SCHEDULER, BackfillState
from ledgerflow.engine.domain.dates import from_iso
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.domain.outcome import Outcome
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.domain.run_state import FAILED_LIKE, RUN_FINISHED
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.engine.runtime.executors import Executor
from ledgerflow.engine.runtime.slots import PoolBoard


def object_plan(ledger: Ledger, state: BackfillState, dag: DAG, pool_slots: dict[str, int]) -> BackfillPlan:
    """The plan of what is left of the backfill (no dates: it is done). The runs' versions and states
    say what is left; only the runs left to adopt are loaded whole, and only the dates left to create
    get their intervals."""
    read = views(ledger)
    start, end = from_iso(state.from_date), from_iso(state.to_date)
    versions = read.run_versions(dag.dag_id, start, end)
    left: list[datetime] = []
    keys: dict[datetime, str] = {}
    for ld in state.to_drive():
        moment = from_iso(ld)
        keys[moment] = ld
        version, run_state = versions.get(moment, (0, None))
        if not (version > state.dates[ld][2] and run_state in RUN_FINISHED):  # a run it started that ended
            left.append(moment)
    req = BackfillRequest(dag_id=dag.dag_id, start=state.from_date, end=state.to_date, continue_on_failures=True,
                          run_backwards=state.run_backwards, yes=True)
    plan = BackfillPlan(request=req, full_dag=dag, dag=dag, start=start, end=end, dates=left, conf=state.dag_run_conf,
                        existing={}, previous=None, ran_before={}, pool_slots=pool_slots, intervals={})
    if not left:
        return plan
    if adopt := [d for d in left if d in versions]:
        runs = {from_iso(run.logical_date): ExistingRun(uid, version, run)
                for uid, (version, run) in read.runs(dag.dag_id, min(adopt), max(adopt)).items()}
        plan.existing = {d: runs[d] for d in adopt if d in runs}
    for moment, found in plan.existing.items():
        _, why, base = state.dates[keys[moment]]
        if found.version <= base and why == "adopted" and state.reprocess_behavior in ("failed", "completed"):
            wanted = FAILED_LIKE if state.reprocess_behavior == "failed" else None
            plan.resets += [(found, t) for t, ti in found.run.tis.items() if t in dag.tasks and ti.state is not None
                            and (wanted is None or ti.state in wanted)]
    if create := [d for d in left if d not in plan.existing]:
        intervals = dag.timetable.intervals(min(create), max(create))
        plan.intervals = {d: intervals[d] for d in create if d in intervals}
    prev = read.previous_run(dag.dag_id, min(left), exclude_manual=dag.catchup)
    plan.previous = ExistingRun(*prev) if prev else None
    plan.ran_before = read.first_logical_dates(dag.dag_id, [t for t, k in dag.tasks.items() if k.depends_on_past])
    return plan


def drive_backfill(ledger: Ledger, dag: DAG, op: OperationContext, executor: Executor, pool_slots: dict[str, int],
                   should_stop: Callable[[], bool], pool_board: PoolBoard) -> tuple[int, Outcome] | None:
    """Drives the DAG's running scheduler backfill, if it has one, within its max_active_runs; records it
    completed once every date ran. The caller holds the DAG's lock and shares the pools' counts with the
    other DAGs it drives (pool_board). Returns (its id, what this pass did)."""
    found = [n for n, _, driver in views(ledger).unfinished_backfills(dag.dag_id) if driver == SCHEDULER]
    agg = load_backfill(ledger, found[0]) if found else None
    if agg is None or agg.state.state != "running":
        return None
    number = agg.state.id
    plan = object_plan(ledger, agg.state, dag, pool_slots)
    outcome = Outcome()
    if plan.dates:
        outcome = run_backfill(ledger, plan, op, should_stop=should_stop, halt=Watch(ledger, agg), executor=executor,
                               limit=agg.state.max_active_runs, pool_board=pool_board).outcome
        views(ledger).catch_up()
    if not object_plan(ledger, agg.state, dag, pool_slots).dates:
        record(ledger, number, Backfill.Completed, op)
    return number, outcome
