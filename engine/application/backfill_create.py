"""`backfill create`: plan a backfill object for the scheduler (every refusal first), then record it.

Each date gets its decision up front: `created` (no run yet), `adopted` (its run is
re-run as reprocess_behavior says) or `skipped: <why>`. A date whose run is queued
or running is always skipped; a first run blocked by depends_on_past skips them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledgerflow.engine.application.backfill_object import append_new, refuse_second
from ledgerflow.engine.application.backfill_plan import ExistingRun, blocked_first_run, past_range, refuse_backwards
from ledgerflow.engine.application.commands import CreateBackfill
from ledgerflow.engine.authoring.dagbag import load_dag
from ledgerflow.engine.domain.backfill import Backfill, decision_dates
from ledgerflow.engine.domain.backfill_state import REPROCESS_BEHAVIORS, SCHEDULER
from ledgerflow.engine.domain.conf import parse_conf
from ledgerflow.engine.domain.dates import from_iso, iso
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.domain.run_state import RunState
from ledgerflow.engine.domain.values import integer
from ledgerflow.engine.errors import InvalidInput, Term
from ledgerflow.engine.infrastructure import settings
from ledgerflow.engine.infrastructure.store import Ledger


@dataclass
class NewBackfill:
    """What `backfill create` will record: the Created event's fields, and each date's decision."""

    fields: dict[str, Any]

    @property
    def dates(self) -> list[dict[str, Any]]:
        return [{"logical_date": ld, "run_id": rid, "decision": why} for ld, rid, why, _ in self.fields["dates"]]


def _decide(run: RunState | None, behavior: str, blocked: list[str]) -> str:
    if blocked:
        return "skipped: the first run is blocked by depends_on_past (" + "; ".join(blocked) + ")"
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
    start, end, intervals = past_range(dag, cmd.from_date, cmd.to_date)
    past_tasks = sorted(t for t, task in dag.tasks.items() if task.depends_on_past)
    if cmd.run_backwards:
        refuse_backwards(past_tasks)
    refuse_second(ledger, dag.dag_id)
    read = views(ledger)
    existing = {from_iso(run.logical_date): (version, run)
                for _, (version, run) in read.runs(dag.dag_id, start, end).items()}
    blocked: list[str] = []
    if intervals and past_tasks:
        earliest = min(intervals)
        prev = read.previous_run(dag.dag_id, earliest, exclude_manual=dag.catchup)
        blocked = blocked_first_run(dag, dag, ExistingRun(*prev) if prev else None,
                                    read.first_logical_dates(dag.dag_id, past_tasks), past_tasks, earliest)
    decided: list[tuple[datetime, str, str, int]] = []
    for moment in sorted(intervals, reverse=cmd.run_backwards):
        version, run = existing.get(moment, (0, None))
        run_id = run.run_id if run is not None else f"backfill__{iso(moment)}"
        decided.append((moment, run_id, _decide(run, cmd.reprocess_behavior, blocked), version))
    return NewBackfill({
        "dag_id": dag.dag_id, "from_date": iso(start), "to_date": iso(end),
        "reprocess_behavior": cmd.reprocess_behavior,
        "max_active_runs": cmd.max_active_runs or dag.max_active_runs, "run_backwards": cmd.run_backwards,
        "dag_run_conf": conf, "driver": SCHEDULER, "dates": decision_dates(sorted(decided)),
    })


def create_backfill(ledger: Ledger, plan: NewBackfill, op: OperationContext) -> Backfill:
    """Records the planned backfill and the whole operation in one append (the scheduler reads each
    run again before it drives it)."""
    return append_new(ledger, op, plan.fields, close=True)
