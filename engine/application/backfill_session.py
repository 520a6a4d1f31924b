"""A planned `dags backfill` under its DAG's lock, recorded as a Backfill object and driven here.

The object is recorded (or, for the same range left unfinished by a process that is
gone, resumed) when the run starts, never for a dry run, and its lease is held
while this process drives it. However the run ends, the object says so: completed
when every date ran, paused when work is left (Ctrl-C included: the scheduler
does not take it over against the user's will).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ledgerflow.engine.application.backfill_object import Watch, append_new, end_foreground, record
from ledgerflow.engine.domain.backfill import Backfill, decision_dates
from ledgerflow.engine.domain.backfill_state import FOREGROUND
from ledgerflow.engine.domain.dates import iso
from ledgerflow.engine.domain.outcome import Progress
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.errors import DatabaseUnavailable, Interrupted
from ledgerflow.engine.infrastructure.db_failures import database_problem
from ledgerflow.engine.infrastructure.locks import backfill_lease
from ledgerflow.engine.infrastructure.store import Ledger

if TYPE_CHECKING:
    from ledgerflow.engine.application.backfill import BackfillResult
    from ledgerflow.engine.application.backfill_plan import BackfillPlan
    from ledgerflow.engine.application.backfill_preview import RenderedTask
    from ledgerflow.engine.domain.operation import OperationContext


def object_fields(plan: BackfillPlan) -> dict[str, Any]:
    """A foreground backfill's parameters and decisions: Airflow 2's flags decide how existing runs
    are re-run, so it has no reprocess_behavior; every date creates its run or adopts the one there."""
    decided = []
    for moment in plan.dates:
        found = plan.existing.get(moment)
        decided.append((moment, f"backfill__{iso(moment)}", "created", 0) if found is None
                       else (moment, found.run.run_id, "adopted", found.version))
    return {"dag_id": plan.full_dag.dag_id, "from_date": iso(plan.start), "to_date": iso(plan.end),
            "reprocess_behavior": None, "max_active_runs": plan.full_dag.max_active_runs,
            "run_backwards": plan.request.run_backwards, "dag_run_conf": plan.conf, "driver": FOREGROUND,
            "dates": decision_dates(decided)}


class BackfillSession:
    """A planned backfill under its DAG's lock: the plan stays true until it is run."""

    def __init__(self, ledger: Ledger, plan: BackfillPlan, op: OperationContext,
                 resumes: Backfill | None) -> None:
        self._ledger, self.plan, self._op, self.resumes = ledger, plan, op, resumes
        self.backfill_id: int | None = resumes.state.id if resumes is not None else None
        self.halted: str | None = None

    def run(self, *, on_progress: Callable[[Progress], None] | None = None,
            on_wait: Callable[[str], None] | None = None,
            should_stop: Callable[[], bool] = lambda: False) -> BackfillResult:
        """Records or resumes the object, appends the plan and drives it; the views are caught up
        however it ends."""
        from ledgerflow.engine.application.backfill import run_backfill

        led, op = self._ledger, self._op
        lost: str | None = None
        try:
            agg = self.resumes
            if agg is None:
                agg = append_new(led, op, object_fields(self.plan))
            elif agg.state.is_paused:
                agg = record(led, agg.state.id, Backfill.Unpaused, op, with_op=True, driver=FOREGROUND) or agg
            self.backfill_id = number = agg.state.id
            with backfill_lease(led, number):
                watch = Watch(led, agg)
                try:
                    result = run_backfill(led, self.plan, op, on_progress=on_progress, on_wait=on_wait,
                                          should_stop=should_stop, halt=watch)
                except Interrupted:
                    end_foreground(led, number, op, None)
                    raise
                self.halted = watch.halted
                end_foreground(led, number, op, result.outcome)
                return result
        except Exception as exc:
            lost = database_problem(exc)
            if lost is None:
                raise
            raise DatabaseUnavailable(f"the backfill stopped, {lost}; run the same command to resume") from None
        finally:
            if lost is None:  # a database that failed us has nothing to catch up with
                views(led).catch_up()

    def preview(self) -> Iterator[RenderedTask]:
        """The dry run: every task of every planned date rendered as its try would see it."""
        from ledgerflow.engine.application.backfill_preview import rendered_tasks

        return rendered_tasks(self.plan)
