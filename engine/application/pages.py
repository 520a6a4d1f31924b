"""Read use cases in the HTTP API's terms: filtered, ordered, paged rows with their total.

The rows are those of `reads.Reads` (the JSON contract's runs and task instances, now
or as of an instant), so every face shows the same state; this adds Airflow's list
parameters (states, run types, order_by with `-` for descending, limit and offset), a
try's history and log, and pages of the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledgerflow.engine.application.reads import Reads, _asked, instant
from ledgerflow.engine.domain.pools import DEFAULT_POOL
from ledgerflow.engine.domain.read_port import listings, views
from ledgerflow.engine.domain.run_state import RUN_STATES
from ledgerflow.engine.domain.values import INT8_MAX, integer
from ledgerflow.engine.errors import InvalidInput, NotFound, Term

if TYPE_CHECKING:
    from ledgerflow.engine.authoring.dag import DAG
    from ledgerflow.engine.authoring.dagbag import DagBag

Rows = list[dict[str, Any]]
RUN_TYPES = ("scheduled", "manual", "backfill")
TI_STATES = ("scheduled", "queued", "running", "success", "failed", "skipped", "upstream_failed", "up_for_retry",
             "restarting", "removed")
RUN_ORDER = ("id", "run_id", "dag_run_id", "logical_date", "run_after", "state", "run_type", "dag_id")
TI_ORDER = ("id", "map_index", "task_id", "state", "try_number", "logical_date", "run_after", "run_id",
            "dag_run_id")
EVENT_ORDER = ("id", "event_log_id", "when", "dttm")
_ALIASES = {"id": "logical_date", "run_after": "logical_date", "dag_run_id": "run_id"}


def _known(values: Sequence[str], allowed: Sequence[str], name: str) -> None:
    for value in values:
        if value not in allowed:
            raise InvalidInput(Term(name), f" {value[:40]!r} is not one of: {', '.join(allowed)}")


def _sort_key(field: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: (row.get(field) is None, row.get(field) or "")


def _ordering(order_by: Sequence[str], allowed: Sequence[str]) -> None:
    for given in order_by:
        if given.lstrip("-") not in allowed:
            raise InvalidInput(Term("order_by"), f" {given[:40]!r} is not one of: {', '.join(allowed)}")


def ordered(rows: Rows, order_by: Sequence[str], allowed: Sequence[str], natural: Sequence[str]) -> Rows:
    """Rows sorted by each `field` or `-field` of order_by, last criterion first (stable sorts)."""
    _ordering(order_by, allowed)
    result = sorted(rows, key=lambda row: tuple(str(row.get(f)) for f in natural))
    for given in reversed(list(order_by)):
        name = given.lstrip("-")
        if name == "map_index":
            continue  # every task instance is unmapped (-1)
        result.sort(key=_sort_key(_ALIASES.get(name, name)), reverse=given.startswith("-"))
    return result


def page(limit: int, offset: int) -> None:
    """A limit and an offset PostgreSQL takes (bigints)."""
    integer(limit, Term("limit"), low=0, high=INT8_MAX)
    integer(offset, Term("offset"), low=0, high=INT8_MAX)


class Pages(Reads):
    dag_bag: Callable[..., DagBag]  # provided by the service (the DAG folder's DAGs, kept by a server)
    dag: Callable[..., DAG | None]  # provided by the service: one of them, None when its file does not load

    def run(self, dag_id: str, run_id: str, *, as_of: str | None = None) -> dict[str, Any]:
        found, _ = self.run_page(dag_id, run_id=run_id, limit=1, as_of=as_of)
        if not found:
            raise NotFound(f"DAG {dag_id!r} has no run {run_id!r}" + (f" as of {as_of}" if as_of else ""))
        return found[0]

    def run_page(self, dag_id: str, *, start: str | None = None, end: str | None = None,
                 states: Sequence[str] = (), run_types: Sequence[str] = (), order_by: Sequence[str] = ("id",),
                 limit: int = 50, offset: int = 0, as_of: str | None = None, run_id: str | None = None,
                 subdir: Path | None = None) -> tuple[Rows, int]:
        """The DAG's runs in the logical-date range (inclusive) with these states and run types; current
        reads are paged by the views, as-of reads from the fold."""
        _known(states, RUN_STATES, "state")
        _known(run_types, RUN_TYPES, "run_type")
        _ordering(order_by, RUN_ORDER)
        page(limit, offset)
        if as_of is None:
            _asked(dag_id=dag_id, run_id=run_id)
            lo, hi = self.date_range(dag_id, subdir, start, end)
            order = [(_ALIASES.get(f.lstrip("-"), f.lstrip("-")), f.startswith("-")) for f in order_by]
            rows, total = listings(self._read_ledger()).run_page(
                dag_id, start=lo, end=hi, states=states, run_types=run_types, run_id=run_id, order=order,
                limit=limit, offset=offset)
            return self._of_known_dag(dag_id, subdir, rows), total
        rows = self.list_runs(dag_id, start=start, end=end, as_of=as_of, subdir=subdir)
        rows = [r for r in rows if (not states or r["state"] in states)
                and (not run_types or r["run_type"] in run_types) and (run_id is None or r["run_id"] == run_id)]
        rows = ordered(rows, order_by, RUN_ORDER, ("logical_date",))
        return rows[offset:offset + limit], len(rows)

    def run_summaries(self, dag_ids: Sequence[str]) -> dict[str, tuple[dict[str, Any] | None, dict[str, int]]]:
        """Each DAG's latest run (None: it has none) and its count of runs by state, read for every DAG at once."""
        return listings(self._read_ledger()).run_summaries(dag_ids)

    def task_instance_page(self, dag_id: str, run_id: str | None, *, start: str | None = None,
                           end: str | None = None, task_ids: Sequence[str] = (), states: Sequence[str] = (),
                           order_by: Sequence[str] = ("map_index",), limit: int = 50, offset: int = 0,
                           as_of: str | None = None, subdir: Path | None = None) -> tuple[Rows, int]:
        """The task instances of one run, or of every run in the range (run_id None: current ones paged by
        the views, so a page of every run's reads a page)."""
        _known(states, (*TI_STATES, "none"), "state")
        if run_id is None and as_of is None:
            _ordering(order_by, TI_ORDER)
            page(limit, offset)
            _asked(dag_id=dag_id)
            lo, hi = self.date_range(dag_id, subdir, start, end)
            order = [(_ALIASES.get(f.lstrip("-"), f.lstrip("-")), f.startswith("-")) for f in order_by]
            rows, total = listings(self._read_ledger()).task_instance_page(
                dag_id, start=lo, end=hi, task_ids=task_ids, states=[s for s in states if s != "none"],
                with_none="none" in states, order=order, limit=limit, offset=offset)
            return self._of_known_dag(dag_id, subdir, rows), total
        if run_id is None:
            rows = self.task_states(dag_id, start=start, end=end, as_of=as_of, subdir=subdir)
        else:
            rows = self.run_task_states(dag_id, run_id, as_of=as_of)
            if start or end:
                keep = {r["run_id"] for r in self.list_runs(dag_id, start=start, end=end, as_of=as_of, subdir=subdir)}
                rows = [r for r in rows if r["run_id"] in keep]
        wanted = {s for s in states if s != "none"}
        rows = [r for r in rows if (not task_ids or r["task_id"] in task_ids)
                and (not states or r["state"] in wanted or (r["state"] is None and "none" in states))]
        rows = ordered(rows, order_by, TI_ORDER, ("logical_date", "task_id"))
        page(limit, offset)
        return rows[offset:offset + limit], len(rows)

    def task_instance(self, dag_id: str, run_id: str, task_id: str, *, as_of: str | None = None) -> dict[str, Any]:
        found = [r for r in self.run_task_states(dag_id, run_id, as_of=as_of) if r["task_id"] == task_id]
        if not found:
            raise NotFound(f"run {run_id!r} of DAG {dag_id!r} has no task {task_id!r}")
        return found[0]

    def rendered_fields(self, dag_id: str, run_id: str, task_id: str, subdir: Path | None = None) -> dict[str, Any]:
        """The task instance's template fields as its try renders them (the DAG file must load); writes nothing."""
        from ledgerflow.engine.application.task_reads import rendered

        ti = self.task_instance(dag_id, run_id, task_id)
        dag = self.dag(dag_id, subdir)  # the DAG files a server keeps loaded, not a new import per view
        if dag is None:
            raise NotFound(f"the DAG file of {dag_id!r} does not load")
        if task_id not in dag.tasks:
            raise NotFound(f"the DAG file of {dag_id!r} has no task {task_id!r} any more")
        return rendered(dag, self.run(dag_id, run_id), task_id, int(ti["try_number"] or 0))

    def task_history(self, dag_id: str, run_id: str, task_id: str) -> Rows:
        """Every change of one task instance, oldest first (who, when, why, from, to, try)."""
        self.task_instance(dag_id, run_id, task_id)
        return listings(self._read_ledger()).task_history(dag_id, run_id, task_id)

    def tries(self, dag_id: str, run_id: str, task_id: str) -> Rows:
        """One row per try that began: try_number, state (its latest), start_date (when it went running, or
        ended without running), end_date, max_tries."""
        found: dict[int, dict[str, Any]] = {}
        for entry in self.task_history(dag_id, run_id, task_id):
            number = entry["try_number"] or 0
            if number < 1:
                continue
            row = found.setdefault(number, {"try_number": number, "start_date": None, "end_date": None,
                                            "state": None})
            if row["start_date"] is None and entry["to_state"] == "running":
                row["start_date"] = entry["recorded_at"]
            row["state"] = entry["to_state"]
            row["end_date"] = entry["recorded_at"] if entry["to_state"] in _FINISHED else None
        for row in found.values():
            row["start_date"] = row["start_date"] or row["end_date"]
        return [found[n] for n in sorted(found)]

    def try_times(self, rows: Rows) -> dict[tuple[str, str], tuple[Any, Any]]:
        """(start, end) of each task instance's current try, by (run_id, task_id), from its audit entries in
        one read; (None, None) for one not tried since it was last cleared, end None while it runs."""
        if not rows:
            return {}
        runs = sorted({r["run_id"] for r in rows})
        times = listings(self._read_ledger()).try_times(rows[0]["dag_id"], runs)
        found = {}
        for r in rows:
            started, ended = times.get((r["run_id"], r["task_id"], r["try_number"]), (None, None))
            if r["state"] in (None, "scheduled", "queued"):
                started = ended = None
            found[(r["run_id"], r["task_id"])] = (started, ended if r["state"] in _FINISHED else None)
        return found

    def pool_use(self, subdir: Path | None = None) -> dict[str, dict[str, int]]:
        """Slots each pool's queued and running task instances hold (a task's pool_slots, from its DAG file;
        one whose DAG no longer loads counts in default_pool)."""
        active = views(self._read_ledger()).active_tries()
        dags = {}
        if active:
            try:
                dags = self.dag_bag(subdir).dags
            except InvalidInput:  # no DAG folder: every slot is default_pool's
                pass
        use: dict[str, dict[str, int]] = {}
        for dag_id, task_id, state in active:
            task = dags[dag_id].tasks.get(task_id) if dag_id in dags else None
            pool = (task.pool if task is not None else None) or DEFAULT_POOL
            held = use.setdefault(pool, {"running": 0, "queued": 0})
            held[state] += task.pool_slots if task is not None else 1
        return use

    def audit_page(self, *, limit: int = 50, offset: int = 0, order_by: Sequence[str] = ("id",),
                   **filters: Any) -> tuple[Rows, int]:
        """Audit entries (filters: dag_id, task_id, run_id, actor, since, until), paged, with the total."""
        for given in order_by:
            if given.lstrip("-") not in EVENT_ORDER:
                raise InvalidInput(Term("order_by"), f" {given[:40]!r} is not one of: {', '.join(EVENT_ORDER)}")
        integer(limit, Term("limit"), low=0, high=INT8_MAX)
        integer(offset, Term("offset"), low=0, high=INT8_MAX)
        for name in ("since", "until"):
            if isinstance(filters.get(name), str):
                filters[name] = instant(filters[name], name)
        newest_first = bool(order_by) and order_by[0].startswith("-")
        read = listings(self._read_ledger())
        rows = read.audit_page(offset=offset, newest_first=newest_first, limit=limit, **filters)
        return rows, read.audit_count(**filters)


_FINISHED = frozenset({"success", "failed", "skipped", "upstream_failed", "up_for_retry", "removed"})
