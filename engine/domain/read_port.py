"""The engine's one port onto the views (dag_run, task_instance, pool, operation, audit_entry).

The read side folds the events into those tables and is built on the engine, so the
engine does not import it back here and there: it asks `views()` (commands, drivers,
domain rules) or `listings()` (the read use cases), and what it may ask is listed
below. It lives in the domain because lineage and pool use ask it too. Answers are as
fresh as the views' last catch-up; a method catches them up first only where it says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from ledgerflow.engine.domain.patterns import TaskPattern
from ledgerflow.engine.domain.run_state import RunState
from ledgerflow.engine.domain.scheduler_view import SchedulerView
from ledgerflow.engine.domain.view_check import ViewCheck
from ledgerflow.engine.infrastructure.store import Ledger

Progress = Callable[[int, int], None]
Rows = list[dict[str, Any]]


class Views(Protocol):
    """What the engine's commands and drivers ask of the views."""

    def catch_up(self, progress: Progress | None = None) -> int:
        """Applies every new event to the views; returns how many."""

    def rebuild(self, progress: Progress | None = None) -> int:
        """Empties the views and replays the whole log into them, atomically."""

    def status(self) -> dict[str, int]:
        """position, head and lag of the views."""

    def check(self) -> ViewCheck:
        """The views compared with a fresh fold of the events up to their position; writes nothing."""

    def runs(self, dag_id: str, start: datetime | None = None, end: datetime | None = None
             ) -> dict[UUID, tuple[int, RunState]]:
        """The DAG's runs in the range, oldest first, each with its version (an append on
        it fails if another operation changed it since) and every task instance."""

    def scheduler_view(self, dag_ids: list[str], dated: list[str]) -> SchedulerView:
        """The pick-next's reads for these DAGs, run dates only for the `dated` ones."""

    def run_versions(self, dag_id: str, start: datetime | None = None, end: datetime | None = None,
                     state: str | None = None) -> dict[datetime, tuple[int, str]]:
        """(version, state) of the DAG's runs in the range (of that state) by logical date, without
        their task instances."""

    def previous_run(self, dag_id: str, before: datetime, *, exclude_manual: bool
                     ) -> tuple[UUID, int, RunState] | None:
        """The run with the greatest logical date before `before` (depends_on_past)."""

    def clear_candidates(self, dag_id: str, task_ids: list[str], start: datetime | None,
                         end: datetime | None) -> list[tuple[UUID, int, RunState]]:
        """Runs in the range with an instance of the tasks, oldest first, with those
        instances only and the run's version."""

    def first_logical_dates(self, dag_id: str, task_ids: list[str]) -> dict[str, datetime | None]:
        """The earliest logical date each task has an instance at (None: never)."""

    def instances_after(self, dag_id: str, task_ids: list[str], after: datetime,
                        states: list[str]) -> list[tuple[UUID, str, datetime, str]]:
        """(run_uuid, run_id, logical_date, task_id) of the tasks' instances in `states`
        in runs after `after`, oldest first (lineage)."""

    def run_exists(self, dag_id: str, run_id: str) -> bool: ...

    def run_id_of(self, run_uuid: UUID) -> str | None:
        """The run id of the run with this uuid, None when there is none."""

    def slot_holders(self, dag_id: str) -> list[tuple[str, datetime]]:
        """(run_id, logical_date) of the DAG's runs holding a max_active_runs slot.

        Catches the views up first: other processes start and end runs while a
        backfill waits for a slot.
        """

    def running_tries(self, other_than: str) -> list[tuple[str, str]]:
        """(dag_id, task_id) of every running task instance of the other DAGs (pool use)."""

    def pools(self) -> dict[str, int]:
        """Every pool's slots, default_pool included, by name."""

    def active_tries(self) -> list[tuple[str, str, str]]:
        """(dag_id, task_id, state) of every queued or running task instance (pool occupancy)."""

    def pause_flags(self) -> dict[str, bool]:
        """Every sighted DAG's paused flag, by dag_id (a DAG not in it was never sighted)."""

    def unfinished_backfills(self, dag_id: str | None = None) -> list[tuple[int, str, str]]:
        """(id, dag_id, driver) of the backfills neither completed nor cancelled, oldest first."""

    def backfill_held_runs(self, dag_id: str) -> dict[str, tuple[int, str]]:
        """Run ids of the DAG that a paused backfill or a scheduler-driven one holds (not plain queued runs
        for the scheduler: a foreground backfill whose process is gone holds none): (backfill id, its state)
        by run id."""

    def next_backfill_id(self) -> int: ...


class Listings(Protocol):
    """What the read use cases list for the faces: the views now, or the events as of an instant."""

    def list_runs(self, dag_id: str, start: datetime | None = None, end: datetime | None = None,
                  state: str | None = None, *, as_of: datetime | None = None) -> Rows: ...

    def run_page(self, dag_id: str, **page: Any) -> tuple[Rows, int]:
        """(a page of the DAG's current runs, how many match): keywords of projections.pages.run_page."""

    def run_summaries(self, dag_ids: Sequence[str]) -> dict[str, tuple[dict[str, Any] | None, dict[str, int]]]:
        """Each DAG's latest current run (None: it has none) and how many current runs it has by state."""

    def task_instance_page(self, dag_id: str, **page: Any) -> tuple[Rows, int]:
        """(a page of the DAG's current task instances across runs, how many match): keywords of
        projections.pages.task_instance_page."""

    def task_states(self, dag_id: str, start: datetime | None = None, end: datetime | None = None,
                    pattern: TaskPattern | None = None, *, as_of: datetime | None = None) -> Rows: ...

    def run_task_states(self, dag_id: str, run_id: str, *, as_of: datetime | None = None
                        ) -> Rows | None:
        """The run's task instances; None when the DAG has (or had) no such run."""

    def has_history(self, dag_id: str) -> bool:
        """Whether the DAG id ever had a run (runs are never deleted, so its history shows)."""

    def audit_log(self, **filters: Any) -> Rows:
        """Audit entries oldest first; filters are projections.audit_queries.LogFilter's fields."""

    def audit_count(self, **filters: Any) -> int:
        """How many audit entries match the filters, whatever the limit."""

    def operation(self, operation_id: str) -> dict[str, Any]:
        """One operation by its id or a unique prefix, with every change it made."""

    def audit_page(self, *, offset: int, newest_first: bool, **filters: Any) -> Rows:
        """`limit` audit entries after `offset`, oldest (or newest) first, with try_number and details."""

    def task_history(self, dag_id: str, run_id: str, task_id: str) -> Rows:
        """Every change of one task instance, oldest first: audit entries with try_number and details."""

    def try_times(self, dag_id: str, run_ids: list[str]) -> dict[tuple[str, str, int], tuple[Any, Any]]:
        """(start, end) of each try of the runs' task instances, by (run_id, task_id, try_number): when it
        began running and when it last finished (None when it has not)."""

    def backfills(self, dag_id: str | None = None, *, as_of: datetime | None = None) -> Rows: ...

    def backfill_changed_at(self, dag_id: str) -> dict[int, datetime]:
        """When each backfill of the DAG last changed after its creation (paused, unpaused, cancelled, completed)."""

    def backfill_dates(self, backfill_id: int, *, as_of: datetime | None = None) -> Rows | None:
        """The backfill's dates with their decision and run state; None when there is (was) no such backfill."""


# The one place that names the implementation; imported when asked, so that importing the
# domain never loads the read side, which is built on it.


def views(ledger: Ledger) -> Views:
    from ledgerflow.projections.read_port import ViewReads

    return ViewReads(ledger)


def listings(ledger: Ledger) -> Listings:
    from ledgerflow.projections.read_port import ViewReads

    return ViewReads(ledger)
