"""`dags backfill`, part one: validate everything and compute the plan, writing nothing.

The dry run prints this plan; the real run appends exactly this plan. Every
refusal happens here, before a single event exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from ledgerflow.engine.application.commands import BackfillRequest
from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.authoring.dagbag import load_dag
from ledgerflow.engine.domain.conf import parse_conf
from ledgerflow.engine.domain.dates import iso, now, parse_date
from ledgerflow.engine.domain.deps import WAIT, past_verdict
from ledgerflow.engine.domain.outcome import label
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.domain.run_state import FAILED_LIKE, RunState
from ledgerflow.engine.domain.values import number
from ledgerflow.engine.errors import InvalidInput, RefusedCommand, Term
from ledgerflow.engine.infrastructure import settings
from ledgerflow.engine.infrastructure.store import Ledger

_TICK = timedelta(microseconds=1)


@dataclass
class ExistingRun:
    uuid: UUID
    version: int
    run: RunState


@dataclass
class BackfillPlan:
    request: BackfillRequest
    full_dag: DAG
    dag: DAG
    start: datetime
    end: datetime
    dates: list[datetime]
    conf: dict[str, Any] | None
    existing: dict[datetime, ExistingRun]
    previous: ExistingRun | None
    ran_before: dict[str, datetime | None]
    pool_slots: dict[str, int]
    intervals: dict[datetime, tuple[datetime, datetime]]
    resets: list[tuple[ExistingRun, str]] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    conf_changes: list[str] = field(default_factory=list)  # the decisions that change an adopted run's conf

    @property
    def to_create(self) -> list[datetime]:
        return [d for d in self.dates if d not in self.existing]

    @property
    def to_adopt(self) -> list[datetime]:
        return [d for d in self.dates if d in self.existing]


def select_tasks(dag: DAG, regex: str | None, include_upstream: bool) -> DAG:
    if regex is None:
        return dag
    matched = dag.match_tasks(regex)
    if not matched:
        raise InvalidInput(f"no task of DAG {dag.dag_id} matches {regex!r}; nothing to run")
    if include_upstream:
        matched |= dag.relatives(matched, upstream=True)
    return dag.partial_subset(matched)


def past_range(dag: DAG, start_text: str, end_text: str, names: tuple[str, str] | None = None
               ) -> tuple[datetime, datetime, dict[datetime, tuple[datetime, datetime]]]:
    """The range's bounds (naive: in the DAG's timezone) and its dates' intervals; an inverted range or
    one reaching into the future is refused. `names`: the bounds' own Terms when a command calls them
    otherwise than start_date and end_date (`backfill create`'s from_date, to_date)."""
    start = parse_date(start_text, dag.timezone, what=names[0] if names else "start_date")
    end = parse_date(end_text, dag.timezone, what=names[1] if names else "end_date")
    if end < start:
        first, last = (Term(n) for n in names) if names else ("start date", "end date")
        raise InvalidInput(last, f" {iso(end)} is before ", first, f" {iso(start)}")
    moment = now()
    if start > moment:  # refused whatever the schedule: nothing in the range can have happened
        raise RefusedCommand(f"the range from {iso(start)} lies wholly in the future; a backfill only reprocesses "
                             f"the past")
    if end > moment and dag.timetable.periodic:
        first_future = dag.timetable.next_after(max(start, moment) - _TICK)
        if first_future <= end:
            raise RefusedCommand(
                f"logical date {iso(first_future)} is in the future; a backfill only reprocesses the past"
            )
    return start, end, dag.timetable.intervals(start, end)


def refuse_backwards(past_tasks: list[str]) -> None:
    if past_tasks:
        raise RefusedCommand(
            "cannot backfill backwards (", Term("run_backwards", "newest first"),
            ") because these tasks depend on the past: " + ", ".join(past_tasks)
        )


def make_plan(ledger: Ledger, req: BackfillRequest) -> BackfillPlan:
    if req.start is None and req.end is None:
        raise InvalidInput("provide a start date", Term("start_date_hint", ""), " and/or an end date",
                           Term("end_date_hint", ""))
    number(req.delay_on_limit, Term("delay_on_limit", "the delay on limit"))  # recorded with the operation
    conf = parse_conf(req.conf)
    full_dag = load_dag(req.subdir or settings.dags_folder(), req.dag_id)
    start, end, intervals = past_range(full_dag, req.start or req.end or "", req.end or req.start or "")
    dag = select_tasks(full_dag, req.task_regex, include_upstream=not req.ignore_dependencies)
    dates = list(intervals)
    past_tasks = sorted(t for t, task in dag.tasks.items() if task.depends_on_past)
    if req.run_backwards:
        refuse_backwards(past_tasks)
        dates.reverse()
    read = views(ledger)
    slots = read.pools()
    wanted_pools = {req.pool} if req.pool else {t.pool for t in dag.tasks.values() if t.pool}
    unknown = sorted(p for p in wanted_pools if p not in slots)
    if unknown:
        raise RefusedCommand(
            f"unknown pool {', '.join(unknown)} (", Term("create_pool", "create it first"), ")"
        )
    existing = {
        datetime.fromisoformat(run.logical_date): ExistingRun(uid, version, run)
        for uid, (version, run) in read.runs(req.dag_id, start, end).items()
    }
    busy = [
        r.run for r in existing.values() if r.run.state == "running" and r.run.run_type != "backfill"
    ]
    if busy:
        raise RefusedCommand(
            "a run in the range is running under the scheduler: "
            + ", ".join(f"{r.run_id} ({r.run_type})" for r in busy)
            + "; wait for it to finish or narrow the dates"
        )
    plan = BackfillPlan(
        request=req, full_dag=full_dag, dag=dag, start=start, end=end, dates=dates, conf=conf,
        existing=existing, previous=None, ran_before={}, pool_slots=slots, intervals=intervals,
    )
    if not dates:
        return plan
    earliest = min(dates)
    prev = read.previous_run(req.dag_id, earliest, exclude_manual=full_dag.catchup)
    plan.previous = ExistingRun(*prev) if prev else None
    plan.ran_before = read.first_logical_dates(req.dag_id, past_tasks)
    if not (req.ignore_first_depends_on_past or req.ignore_dependencies):
        _refuse_blocked_first_run(plan, past_tasks, earliest)
    if req.reset_dagruns:
        plan.resets = [
            (run, t) for run in existing.values() for t in dag.tasks
            if t in run.run.tis and run.run.tis[t].state is not None
        ]
    _record_decisions(plan)
    return plan


def _refuse_blocked_first_run(plan: BackfillPlan, past_tasks: list[str], earliest: datetime) -> None:
    blocked = blocked_first_run(plan.full_dag, plan.dag, plan.previous, plan.ran_before, past_tasks, earliest)
    if blocked:
        raise RefusedCommand(
            "the first run is blocked by depends_on_past (" + "; ".join(blocked)
            + "); fix the previous run or waive the check for the first run (",
            Term("ignore_first_depends_on_past", "ignore first depends_on_past"), ")"
        )


def blocked_first_run(full_dag: DAG, dag: DAG, prev: ExistingRun | None, ran_before: dict[str, datetime | None],
                      past_tasks: list[str], earliest: datetime) -> list[str]:
    """`task @ date: why` for each depends_on_past task the run before the range (prev) blocks."""
    if prev is None:
        return []
    blocked = []
    for task_id in past_tasks:
        first = ran_before.get(task_id)
        verdict = past_verdict(
            task_id,
            full_dag.tasks[task_id].downstream_task_ids,
            dag.tasks[task_id].wait_for_downstream,
            {t: ti.state for t, ti in prev.run.tis.items()},
            label(prev.run.logical_date),
            first is not None and first < earliest,
        )
        if verdict.action == WAIT:
            blocked.append(f"{task_id} @ {label(iso(earliest))}: {verdict.reason}")
    return blocked


def _record_decisions(plan: BackfillPlan) -> None:
    req = plan.request
    for d in plan.dates:
        found = plan.existing.get(d)
        if found is None:
            plan.decisions.append(f"{label(iso(d))}: create backfill run")
            continue
        run = found.run
        failed = sorted(t for t in plan.dag.tasks if t in run.tis and run.tis[t].state in FAILED_LIKE)
        note = f"{label(iso(d))}: adopt {run.run_id} ({run.run_type}, {run.state})"
        if failed:
            note += (f"; rerun {', '.join(failed)}" if req.rerun_failed_tasks
                     else f"; failed {', '.join(failed)} kept (use --rerun-failed-tasks)")
        if plan.conf is not None and plan.conf != run.conf:
            note += f"; conf {_json(run.conf)} -> {_json(plan.conf)}"
            plan.conf_changes.append(note)
        plan.decisions.append(note)


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True)
