"""The views' side of the engine's read port (engine.domain.read_port): Views and Listings.

It answers with the queries modules, the as-of fold and the projector, and adds
what the port promises on top of them: the catch-up before a slot count, one shape
for current and as-of rows, and None for a run that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from ledgerflow.engine.domain.patterns import TaskPattern
from ledgerflow.engine.domain.run_state import RunState
from ledgerflow.engine.domain.scheduler_view import SchedulerView
from ledgerflow.engine.domain.view_check import ViewCheck
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.projections import as_of as past
from ledgerflow.projections import audit_queries, backfill_queries, clear_queries, pages, pick_queries, queries
from ledgerflow.projections.projector import ViewProjector
from ledgerflow.projections.view_check import check_views

Progress = Callable[[int, int], None]
Rows = list[dict[str, Any]]


class ViewReads:
    """engine.domain.read_port's Views and Listings over one ledger's views."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    # -- upkeep --------------------------------------------------------------------------

    def catch_up(self, progress: Progress | None = None) -> int:
        return ViewProjector(self.ledger).catch_up(progress)

    def rebuild(self, progress: Progress | None = None) -> int:
        return ViewProjector(self.ledger).rebuild(progress)

    def status(self) -> dict[str, int]:
        return ViewProjector(self.ledger).status()

    def check(self) -> ViewCheck:
        return check_views(self.ledger)

    # -- Views: what commands and drivers ask --------------------------------------------

    def runs(self, dag_id: str, start: datetime | None = None, end: datetime | None = None
             ) -> dict[UUID, tuple[int, RunState]]:
        return queries.load_runs(self.ledger, dag_id, start, end)

    def scheduler_view(self, dag_ids: list[str], dated: list[str]) -> SchedulerView:
        return pick_queries.scheduler_view(self.ledger, dag_ids, dated)

    def run_versions(self, dag_id: str, start: datetime | None = None, end: datetime | None = None,
                     state: str | None = None) -> dict[datetime, tuple[int, str]]:
        return queries.run_versions(self.ledger, dag_id, start, end, state)

    def previous_run(self, dag_id: str, before: datetime, *, exclude_manual: bool
                     ) -> tuple[UUID, int, RunState] | None:
        return queries.previous_run(self.ledger, dag_id, before, exclude_manual=exclude_manual)

    def clear_candidates(self, dag_id: str, task_ids: list[str], start: datetime | None,
                         end: datetime | None) -> list[tuple[UUID, int, RunState]]:
        return clear_queries.runs_with_tasks(self.ledger, dag_id, task_ids, start, end)

    def first_logical_dates(self, dag_id: str, task_ids: list[str]) -> dict[str, datetime | None]:
        return queries.first_logical_dates(self.ledger, dag_id, task_ids)

    def instances_after(self, dag_id: str, task_ids: list[str], after: datetime,
                        states: list[str]) -> list[tuple[UUID, str, datetime, str]]:
        return queries.instances_after(self.ledger, dag_id, task_ids, after, states)

    def run_exists(self, dag_id: str, run_id: str) -> bool:
        return queries.run_exists(self.ledger, dag_id, run_id)

    def run_id_of(self, run_uuid: UUID) -> str | None:
        return queries.run_id_of(self.ledger, run_uuid)

    def slot_holders(self, dag_id: str) -> list[tuple[str, datetime]]:
        self.catch_up()
        return queries.slot_holders(self.ledger, dag_id)

    def running_tries(self, other_than: str) -> list[tuple[str, str]]:
        return queries.running_tries(self.ledger, other_than)

    def pools(self) -> dict[str, int]:
        return queries.pools(self.ledger)

    def active_tries(self) -> list[tuple[str, str, str]]:
        return queries.active_tries(self.ledger)

    def pause_flags(self) -> dict[str, bool]:
        return backfill_queries.pause_flags(self.ledger)

    def unfinished_backfills(self, dag_id: str | None = None) -> list[tuple[int, str, str]]:
        return backfill_queries.unfinished(self.ledger, dag_id)

    def backfill_held_runs(self, dag_id: str) -> dict[str, tuple[int, str]]:
        return backfill_queries.held_run_ids(self.ledger, dag_id)

    def next_backfill_id(self) -> int:
        return backfill_queries.next_number(self.ledger)

    # -- Listings: rows for the faces ------------------------------------------------------

    def list_runs(self, dag_id: str, start: datetime | None = None, end: datetime | None = None,
                  state: str | None = None, *, as_of: datetime | None = None) -> Rows:
        if as_of is None:
            return queries.list_runs(self.ledger, dag_id, start, end, state)
        return past.run_rows(past.runs_as_of(self.ledger, dag_id, as_of, start, end), state)

    def run_page(self, dag_id: str, **page: Any) -> tuple[Rows, int]:
        return pages.run_page(self.ledger, dag_id, **page)

    def run_summaries(self, dag_ids: Sequence[str]) -> dict[str, tuple[dict[str, Any] | None, dict[str, int]]]:
        return pages.run_summaries(self.ledger, dag_ids)

    def task_instance_page(self, dag_id: str, **page: Any) -> tuple[Rows, int]:
        return pages.task_instance_page(self.ledger, dag_id, **page)

    def task_states(self, dag_id: str, start: datetime | None = None, end: datetime | None = None,
                    pattern: TaskPattern | None = None, *, as_of: datetime | None = None) -> Rows:
        if as_of is None:
            return queries.task_states(self.ledger, dag_id, start, end, pattern)
        return past.task_rows(past.runs_as_of(self.ledger, dag_id, as_of, start, end), pattern)

    def run_task_states(self, dag_id: str, run_id: str, *, as_of: datetime | None = None
                        ) -> Rows | None:
        if as_of is not None:
            runs = past.runs_as_of(self.ledger, dag_id, as_of, run_id=run_id)
            return past.task_rows(runs) if runs else None
        if not queries.run_exists(self.ledger, dag_id, run_id):
            return None
        return queries.task_states(self.ledger, dag_id, run_id=run_id)

    def has_history(self, dag_id: str) -> bool:
        return queries.has_runs(self.ledger, dag_id)

    def audit_log(self, **filters: Any) -> Rows:
        return audit_queries.log(self.ledger, audit_queries.LogFilter(**filters))

    def audit_count(self, **filters: Any) -> int:
        return audit_queries.count(self.ledger, audit_queries.LogFilter(**filters))

    def operation(self, operation_id: str) -> dict[str, Any]:
        return audit_queries.show(self.ledger, operation_id)

    def audit_page(self, *, offset: int, newest_first: bool, **filters: Any) -> Rows:
        return audit_queries.page(self.ledger, audit_queries.LogFilter(**filters), offset=offset,
                                  newest_first=newest_first)

    def task_history(self, dag_id: str, run_id: str, task_id: str) -> Rows:
        return audit_queries.history(self.ledger, dag_id, run_id, task_id)

    def try_times(self, dag_id: str, run_ids: list[str]) -> dict[tuple[str, str, int], tuple[Any, Any]]:
        return audit_queries.try_times(self.ledger, dag_id, run_ids)

    def backfill_changed_at(self, dag_id: str) -> dict[int, datetime]:
        return audit_queries.backfill_changed_at(self.ledger, dag_id)

    def backfills(self, dag_id: str | None = None, *, as_of: datetime | None = None) -> Rows:
        return backfill_queries.backfills(self.ledger, dag_id, as_of)

    def backfill_dates(self, backfill_id: int, *, as_of: datetime | None = None) -> Rows | None:
        return backfill_queries.backfill_dates(self.ledger, backfill_id, as_of)
