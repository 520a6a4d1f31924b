"""The dry run's rendered templates: each task's fields as its try would see them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from ledgerflow.engine.application.backfill_plan import BackfillPlan
from ledgerflow.engine.authoring.templating import build_context, rendered_fields
from ledgerflow.engine.domain.dates import from_iso, iso


@dataclass(frozen=True)
class RenderedTask:
    logical_date: datetime
    run_id: str
    task_id: str
    fields: dict[str, object]
    error: str | None = None


def run_id_for(plan: BackfillPlan, moment: datetime) -> str:
    """The run the backfill will drive at that date: the adopted run's own id, or a new one."""
    found = plan.existing.get(moment)
    return found.run.run_id if found is not None else f"backfill__{iso(moment)}"


def rendered_tasks(plan: BackfillPlan) -> Iterator[RenderedTask]:
    """Every task of every planned date, in date and dependency order; a template error is shown,
    not raised, since showing it is what the dry run is for."""
    dag = plan.dag
    for moment in sorted(plan.dates):
        found = plan.existing.get(moment)
        run_id = run_id_for(plan, moment)
        if found is None:
            (start, end), run_type, conf = plan.intervals[moment], "backfill", plan.conf or {}
        else:  # adopted: its own interval and run_type; its conf unless the backfill gives one
            run = found.run
            start, end = from_iso(run.data_interval_start), from_iso(run.data_interval_end)
            run_type, conf = run.run_type, run.conf if plan.conf is None else plan.conf
        for task_id in dag.topological_order():
            try:
                context = build_context(
                    dag=plan.full_dag, conf=conf, run_id=run_id, run_type=run_type, task_id=task_id,
                    logical_date=moment, data_interval_start=start, data_interval_end=end,
                )
                fields = rendered_fields(dag.tasks[task_id], context)
            except Exception as exc:  # noqa: BLE001 - any template error is part of the preview
                yield RenderedTask(moment, run_id, task_id, {}, f"{type(exc).__name__}: {exc}")
                continue
            yield RenderedTask(moment, run_id, task_id, fields)
