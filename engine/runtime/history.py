"""The DAG's runs by logical date, as depends_on_past sees them: which run is a run's previous."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from datetime import datetime

from ledgerflow.engine.domain.dates import from_iso
from ledgerflow.engine.domain.run_state import RunState


class RunHistory:
    def __init__(self, runs: Iterable[RunState], *, manual_runs_count: bool) -> None:
        """`manual_runs_count`: with catchup, Airflow's previous run skips manual runs."""
        self._runs = {from_iso(run.logical_date): run for run in runs}
        self._dates = sorted(self._runs)
        self._manual_runs_count = manual_runs_count

    def record(self, run: RunState) -> None:
        moment = from_iso(run.logical_date)
        if moment not in self._runs:
            insort(self._dates, moment)
        self._runs[moment] = run

    def refresh(self, run: RunState) -> None:
        """A newer state of a run it already holds (another operation changed it)."""
        if from_iso(run.logical_date) in self._runs:
            self.record(run)

    def at(self, moment: datetime) -> RunState:
        return self._runs[moment]

    def previous(self, run: RunState) -> RunState | None:
        idx = bisect_left(self._dates, from_iso(run.logical_date)) - 1
        while idx >= 0:
            candidate = self._runs[self._dates[idx]]
            if self._manual_runs_count or candidate.run_type != "manual":
                return candidate
            idx -= 1
        return None

    def previous_success(self, run: RunState) -> RunState | None:
        """The latest run before this one's logical date that succeeded, manual or not, as Airflow's
        `prev_*_success` context values take it."""
        idx = bisect_left(self._dates, from_iso(run.logical_date)) - 1
        while idx >= 0:
            candidate = self._runs[self._dates[idx]]
            if candidate.state == "success":
                return candidate
            idx -= 1
        return None

    def first_seen(self, task_ids: Iterable[str]) -> dict[str, datetime | None]:
        """The earliest logical date each task has an instance at."""
        found: dict[str, datetime | None] = {t: None for t in task_ids}
        for moment in self._dates:
            for task_id, seen in found.items():
                if seen is None and task_id in self._runs[moment].tis:
                    found[task_id] = moment
        return found
