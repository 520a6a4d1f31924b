"""`backfill create`: plan a backfill object for the scheduler (every refusal first), then record it.

Each date gets its decision up front: `created` (no run yet), `adopted` (its run is
re-run as reprocess_behavior says) or `skipped: <why>`. A date whose run is queued
or running is always skipped. A date to run whose previous run this backfill will not
run (the run before the range, or a skipped one) and whose depends_on_past that run
blocks would wait forever: the whole range is checked and such a backfill refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledgerflow.engine.application.backfill_object import append_new, refuse_second
from ledgerflow.engine.application.backfill_plan import ExistingRun, blocked_first_run, past_range, refuse_backwards
from ledgerflow.engine.application.commands import CreateBackfill
from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.authoring.dagbag import load_dag
from ledgerflow.engine.domain.backfill import Backfill, decision_dates
from ledgerflow.engine.domain.backfill_state import REPROCESS_BEHAVIORS, SCHEDULER
from ledgerflow.engine.domain.conf import parse_conf
from ledgerflow.engine.domain.dates import from_iso, iso
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.domain.outcome import label
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.domain.run_state import RunState
from ledgerflow.engine.domain.values import integer
from ledgerflow.engine.errors import InvalidInput, RefusedCommand, Term
from ledgerflow.engine.infrastructure import settings
from ledgerflow.engine.infrastructure.store import Ledger

RUNS = ("created", "adopted")  # the decisions of the dates this backfill runs


@dataclass
class NewBackfill:
    """What `backfill create` will record: the Created event's fields, and each date's decision."""

    fields: dict[str, Any]

    @property
    def dates(self) -> list[dict[str, Any]]:
        return [{"logical_date": ld, "run_id": rid, "decision": why} for ld, rid, why, _ in self.fields["dates"]]


def _decide(run: RunState | None, behavior: str) -> str:
    if run is None:
        return "created"
    if run.state in ("queued", "running"):
        return f"skipped: already {run.state}"
    if behavior == "none":
        return f"skipped: already {'succeeded' if run.state == 'success' else run.state} (reprocess_behavior none)"
    if behavior == "failed" and run.state == "success":
        return "skipped: already succeeded"
    return "adopted"


def plan_new_backfill(ledger: Ledger, cmd: CreateBackfill) -> NewBackfill:
    if cmd.reprocess_behavior not in REPROCESS_BEHAVIORS:
        raise InvalidInput(f"unknown reprocess behavior {cmd.reprocess_behavior!r}: none, failed or completed")
    if cmd.max_active_runs is not None:
        integer(cmd.max_active_runs, Term("max_active_runs", "max_active_runs"), low=1)
    conf = parse_conf(cmd.dag_run_conf)
    dag = load_dag(cmd.subdir or settings.dags_folder(), cmd.dag_id)
    start, end, intervals = past_range(dag, cmd.from_date, cmd.to_date, ("from_date", "to_date"))
    past_tasks = sorted(t for t, task in dag.tasks.items() if task.depends_on_past)
    if cmd.run_backwards:
        refuse_backwards(past_tasks)
    refuse_second(ledger, dag.dag_id)
    read = views(ledger)
    existing = {from_iso(run.logical_date): ExistingRun(uid, version, run)
                for uid, (version, run) in read.runs(dag.dag_id, start, end).items()}
    decided: list[tuple[datetime, str, str, int]] = []
    for moment in sorted(intervals, reverse=cmd.run_backwards):
        found = existing.get(moment)
        run = found.run if found is not None else None
        run_id = run.run_id if run is not None else f"backfill__{iso(moment)}"
        decided.append((moment, run_id, _decide(run, cmd.reprocess_behavior), found.version if found else 0))
    if past_tasks:
        _refuse_blocked(ledger, dag, past_tasks, existing, {d: why for d, _, why, _ in decided})
    return NewBackfill({
        "dag_id": dag.dag_id, "from_date": iso(start), "to_date": iso(end),
        "reprocess_behavior": cmd.reprocess_behavior,
        "max_active_runs": cmd.max_active_runs or dag.max_active_runs, "run_backwards": cmd.run_backwards,
        "dag_run_conf": conf, "driver": SCHEDULER, "dates": decision_dates(sorted(decided)),
    })


def _refuse_blocked(ledger: Ledger, dag: DAG, past_tasks: list[str], existing: dict[datetime, ExistingRun],
                    decisions: dict[datetime, str]) -> None:
    """Refuses the backfill when depends_on_past of a date it runs is blocked by a previous run it does
    not run: nothing would ever unblock that date (a previous run it runs is judged when it ends)."""
    read = views(ledger)
    ran_before = read.first_logical_dates(dag.dag_id, past_tasks)
    prev: ExistingRun | None = None  # the latest run before the date that this backfill does not run
    inside = planned = False  # whether prev is in the range; whether a date this backfill runs is later
    for moment in sorted(decisions):
        found = existing.get(moment)
        if decisions[moment] not in RUNS:
            if found is not None and not (dag.catchup and found.run.run_type == "manual"):
                prev, inside, planned = found, True, False  # catchup: a manual run is no previous run
            continue
        if not planned:
            if not inside:
                before = read.previous_run(dag.dag_id, moment, exclude_manual=dag.catchup)
                prev = ExistingRun(*before) if before else None
            blocked = blocked_first_run(dag, dag, prev, ran_before, past_tasks, moment)
            if blocked:
                raise RefusedCommand(
                    f"depends_on_past blocks the run of {label(iso(moment))}, which would wait forever ("
                    + "; ".join(blocked) + "); fix that previous run first or re-run it too (",
                    Term("reprocess_behavior", "a reprocess behavior that re-runs it"), ")")
        inside = planned = True


def create_backfill(ledger: Ledger, plan: NewBackfill, op: OperationContext) -> Backfill:
    """Records the planned backfill and the whole operation in one append (the scheduler reads each
    run again before it drives it)."""
    return append_new(ledger, op, plan.fields, close=True)
