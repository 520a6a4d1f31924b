"""Read use cases: runs, task instances, pools and the audit trail, now or as of an instant.

Current reads come from the caught-up views; as-of reads fold the events up to
the instant. Both give rows of the same shape, so every face renders them alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ledgerflow.engine.domain.dates import parse_date
from ledgerflow.engine.domain.patterns import compile_pattern
from ledgerflow.engine.domain.read_port import listings, views
from ledgerflow.engine.domain.run_state import RUN_STATES
from ledgerflow.engine.domain.values import INT8_MAX, integer, text
from ledgerflow.engine.domain.view_check import ViewCheck
from ledgerflow.engine.errors import InvalidInput, RunNotFound, Term, ViewsStuck
from ledgerflow.engine.infrastructure import settings
from ledgerflow.engine.infrastructure.store import Ledger

if TYPE_CHECKING:
    from ledgerflow.engine.audit.hashchain import Head
    from ledgerflow.engine.audit.verify import Report
    from ledgerflow.engine.authoring.dag import DAG


def dag_file(dag_id: str, subdir: Path | None = None) -> DAG:
    """The DAG from its file. The DAG-file layer (with the Airflow one) loads only when a command needs
    a DAG, so a read of the views starts without it."""
    from ledgerflow.engine.authoring.dagbag import load_dag

    return load_dag(subdir or settings.dags_folder(), dag_id)


def instant(text: str | None, what: str) -> datetime | None:
    """An instant given by a person: UTC unless it carries an offset."""
    return parse_date(text, "UTC", what=what) if text else None


def _asked(**given: Any) -> None:
    """What a read looks up is text PostgreSQL can compare (nothing stored holds a NUL or a lone surrogate)."""
    for name, value in given.items():
        if isinstance(value, str):
            text(value, Term(name))


class Reads:
    """Mixed into the service, which provides the ledger.

    Reads are served even when the views cannot fold a newer event: they show the state
    before it, and `stale` says where the views stop, for the face to report.
    """

    stale: ViewsStuck | None = None

    def _ledger(self, *, catch_up: bool = True) -> Ledger:
        raise NotImplementedError

    def _read_ledger(self) -> Ledger:
        """The ledger with its views caught up as far as they fold."""
        try:
            return self._ledger()
        except ViewsStuck as stuck:
            self.stale = stuck
            return self._ledger(catch_up=False)

    def _of_known_dag(self, dag_id: str, subdir: Path | None, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A DAG id with neither a DAG file nor any history is refused, as backfill and clear refuse it;
        one with history reads fine without its file. Asked only when there is nothing to show."""
        if not rows and dag_id not in self._dag_files_read and not listings(
                self._ledger(catch_up=False)).has_history(dag_id):
            dag_file(dag_id, subdir)
        return rows

    @property
    def _dag_files_read(self) -> set[str]:
        """DAG ids whose file this command has loaded already (a DAG file runs once per command)."""
        found: set[str] = self.__dict__.setdefault("_dag_ids_loaded", set())
        return found

    def date_range(self, dag_id: str, subdir: Path | None, start: str | None, end: str | None
                   ) -> tuple[datetime | None, datetime | None]:
        """-s/-e of a read: naive dates are in the DAG's timezone, UTC when it cannot be loaded."""
        zone = "UTC"
        if start or end:
            try:
                zone = dag_file(dag_id, subdir).timezone
                self._dag_files_read.add(dag_id)
            except InvalidInput:
                pass
        lo = parse_date(start, zone, what="start_date") if start else None
        hi = parse_date(end, zone, what="end_date") if end else None
        return lo, hi

    def list_runs(self, dag_id: str, *, start: str | None = None, end: str | None = None,
                  state: str | None = None, as_of: str | None = None,
                  subdir: Path | None = None) -> list[dict[str, Any]]:
        _asked(dag_id=dag_id)
        lo, hi = self.date_range(dag_id, subdir, start, end)
        if state and state not in RUN_STATES:
            raise InvalidInput(f"unknown run state {state!r}: {', '.join(RUN_STATES[:-1])} or {RUN_STATES[-1]}")
        when = instant(as_of, "as_of")
        rows = listings(self._read_ledger()).list_runs(dag_id, lo, hi, state, as_of=when)
        return self._of_known_dag(dag_id, subdir, rows)

    def task_states(self, dag_id: str, *, start: str | None = None, end: str | None = None,
                    task_regex: str | None = None, as_of: str | None = None,
                    subdir: Path | None = None) -> list[dict[str, Any]]:
        _asked(dag_id=dag_id)
        lo, hi = self.date_range(dag_id, subdir, start, end)
        pattern = compile_pattern(task_regex) if task_regex is not None else None
        when = instant(as_of, "as_of")
        rows = listings(self._read_ledger()).task_states(dag_id, lo, hi, pattern, as_of=when)
        return self._of_known_dag(dag_id, subdir, rows)

    def run_task_states(self, dag_id: str, run_id: str, *, as_of: str | None = None) -> list[dict[str, Any]]:
        _asked(dag_id=dag_id)
        text(run_id, "the run id")
        when = instant(as_of, "as_of")
        rows = listings(self._read_ledger()).run_task_states(dag_id, run_id, as_of=when)
        if rows is None:
            raise RunNotFound(f"DAG {dag_id!r} had no run {run_id!r} as of {as_of}" if when is not None
                              else f"DAG {dag_id!r} has no run {run_id!r}")
        return rows

    def _task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        found = [r for r in self.run_task_states(dag_id, run_id) if r["task_id"] == task_id]
        if not found:
            raise RunNotFound(f"run {run_id!r} of DAG {dag_id!r} has no task {task_id!r}")
        return found[0]

    def xcom_entries(self, dag_id: str, run_id: str, task_id: str | None = None) -> list[dict[str, Any]]:
        """The run's current XComs (a task's, or all), read from the events."""
        from ledgerflow.engine.application.task_reads import xcom_entries

        rows = self.run_task_states(dag_id, run_id)
        if task_id is not None:
            self._task_instance(dag_id, run_id, task_id)
        return xcom_entries(self._read_ledger(), dag_id, rows[0], task_id) if rows else []

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int | None = None) -> str:
        """One try's log (default: the latest try's)."""
        from ledgerflow.engine.application.task_reads import task_log

        return task_log(self._read_ledger(), self._task_instance(dag_id, run_id, task_id), try_number)

    @staticmethod
    def dag_ids(pattern: str, subdir: Path | None = None) -> list[str]:
        """The DAG folder's DAG ids that the regex finds (refused when none does)."""
        from ledgerflow.engine.application.clear_select import resolve_dags

        return [dag.dag_id for dag in resolve_dags(pattern, regex=True, subdir=subdir)]

    def dag_tasks(self, dag_id: str, subdir: Path | None = None) -> dict[str, list[str]]:
        """The DAG's task ids in dependency order, each with its direct downstream task ids."""
        dag = dag_file(dag_id, subdir)
        return {t: sorted(dag.tasks[t].downstream_task_ids) for t in dag.topological_order()}

    def pools(self) -> dict[str, int]:
        return views(self._read_ledger()).pools()

    # -- the audit trail ---------------------------------------------------------------------

    def audit_log(self, *, since: str | None = None, until: str | None = None,
                  **filters: Any) -> list[dict[str, Any]]:
        """Every change, oldest first; filters: dag_id, task_id, run_id, actor, operation_id, limit."""
        _asked(**filters)
        if filters.get("limit") is not None:
            integer(filters["limit"], Term("limit", "the limit"), low=1, high=INT8_MAX)  # a bigint LIMIT
        return listings(self._read_ledger()).audit_log(since=instant(since, "since"), until=instant(until, "until"),
                                                       **filters)

    def audit_count(self, *, since: str | None = None, until: str | None = None, **filters: Any) -> int:
        """How many changes match the filters (the limit aside)."""
        return listings(self._ledger()).audit_count(since=instant(since, "since"), until=instant(until, "until"),
                                                    **filters)

    def operation(self, operation_id: str) -> dict[str, Any]:
        """One operation by its id or a unique prefix, with every change it made."""
        from ledgerflow.engine.application.abandoned import close_abandoned

        _asked(operation_id=operation_id)
        led = self._read_ledger()
        if close_abandoned(led):
            led = self._read_ledger()
        return listings(led).operation(operation_id)

    def verify_store(self, digest: Head | None = None) -> Report:
        from ledgerflow.engine.audit import verify

        return verify.verify_store(self._ledger(catch_up=False), digest)

    def verify_views(self) -> ViewCheck:
        """The views compared with a fresh fold of the events up to their position."""
        return views(self._ledger(catch_up=False)).check()

    @staticmethod
    def verify_export(lines: Iterable[str], digest: Head | None = None) -> tuple[Report, bytes | None]:
        from ledgerflow.engine.audit import export

        return export.verify(export.read(lines), digest)

    @staticmethod
    def read_digest(text: str) -> Head:
        from ledgerflow.engine.audit import verify

        return verify.read_digest(text)

    def digest(self) -> str:
        """The chain head as one line to keep outside the database."""
        from ledgerflow.engine.audit import verify

        return verify.digest_line(*verify.stored_head(self._ledger(catch_up=False)))

    def export(self, out: IO[str], fmt: str, *, since: str | None = None, until: str | None = None) -> int:
        """Writes the events recorded in the range with their chain hashes; returns the count."""
        from ledgerflow.engine.audit import export

        lo, hi = instant(since, "since"), instant(until, "until")
        rows: Iterator[dict[str, Any]] = export.records(self._ledger(catch_up=False), lo, hi)
        return export.write(rows, out, fmt)
