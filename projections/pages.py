"""Pages of runs from the views, filtered, ordered, limited and counted by PostgreSQL, so a page of
100 among thousands of runs reads 100 rows (the HTTP API's `GET dagRuns`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ledgerflow.engine.domain.dates import iso
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.projections.queries import run_json
from ledgerflow.projections.rows import RUN_SELECT, run_from_row

SORTABLE = frozenset({"logical_date", "run_id", "state", "run_type", "dag_id"})


def run_page(ledger: Ledger, dag_id: str, *, start: datetime | None, end: datetime | None, states: Sequence[str],
             run_types: Sequence[str], run_id: str | None, order: Sequence[tuple[str, bool]], limit: int,
             offset: int) -> tuple[list[dict[str, Any]], int]:
    """(rows, total); order is (column, descending) pairs of SORTABLE columns, logical_date breaking ties."""
    where: list[str] = ["dag_id = %s"]
    params: list[Any] = [dag_id]
    for clause, value in (("logical_date >= %s", start), ("logical_date <= %s", end), ("run_id = %s", run_id),
                          ("state = ANY(%s)", list(states) or None), ("run_type = ANY(%s)", list(run_types) or None)):
        if value is not None:
            where.append(clause)
            params.append(value)
    sorting = ", ".join([f"{column}{' DESC' if descending else ''}" for column, descending in order
                         if column in SORTABLE] + ["logical_date"])
    condition = " AND ".join(where)
    counted = f"SELECT count(*) AS n FROM dag_run WHERE {condition}"
    # the page and the count in one round trip; a page past the end has no row to carry the count
    sql = (f"WITH page AS ({RUN_SELECT} WHERE {condition} ORDER BY {sorting} LIMIT %s OFFSET %s) "
           f"SELECT page.*, ({counted}) AS total_entries FROM page ORDER BY {sorting}")
    with ledger.cursor() as curs:
        curs.execute(sql, [*params, limit, offset, *params])
        found = curs.fetchall()
        if found:
            return [run_json(run_from_row(r)) for r in found], int(found[0]["total_entries"])
        curs.execute(counted, params)
        count = curs.fetchone()
    return [], int(count["n"]) if count else 0


def run_summaries(ledger: Ledger, dag_ids: Sequence[str]) -> dict[str, tuple[dict[str, Any] | None, dict[str, int]]]:
    """Each DAG's latest run (by logical date) and its count of runs by state, in two reads for every DAG."""
    counts: dict[str, dict[str, int]] = {d: {} for d in dag_ids}
    with ledger.cursor() as curs:
        curs.execute(f"SELECT DISTINCT ON (dag_id) * FROM ({RUN_SELECT} WHERE dag_id = ANY(%s)) runs "
                     "ORDER BY dag_id, logical_date DESC", (list(dag_ids),))
        latest = {r["dag_id"]: run_json(run_from_row(r)) for r in curs.fetchall()}
        curs.execute("SELECT dag_id, state, count(*) AS n FROM dag_run WHERE dag_id = ANY(%s) GROUP BY 1, 2",
                     (list(dag_ids),))
        for r in curs.fetchall():
            counts[r["dag_id"]][r["state"]] = int(r["n"])
    return {d: (latest.get(d), counts[d]) for d in dag_ids}


# the order of engine.application.pages.ordered: text by code point, a missing value last (first descending)
TI_SORTABLE = {"task_id": 't.task_id COLLATE "C"', "state": 't.state COLLATE "C"', "try_number": "t.try_number",
               "logical_date": "r.logical_date", "run_id": 'r.run_id COLLATE "C"'}
_TI_FROM = "FROM task_instance t JOIN dag_run r USING (run_uuid)"


def task_instance_page(ledger: Ledger, dag_id: str, *, start: datetime | None, end: datetime | None,
                       task_ids: Sequence[str], states: Sequence[str], with_none: bool,
                       order: Sequence[tuple[str, bool]], limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """(rows, total) of the DAG's task instances across runs; `with_none`: also those with no state."""
    where: list[str] = ["r.dag_id = %s"]
    params: list[Any] = [dag_id]
    for clause, value in (("r.logical_date >= %s", start), ("r.logical_date <= %s", end),
                          ("t.task_id = ANY(%s)", list(task_ids) or None)):
        if value is not None:
            where.append(clause)
            params.append(value)
    if states or with_none:
        where.append("(t.state = ANY(%s)" + (" OR t.state IS NULL)" if with_none else ")"))
        params.append(list(states))
    sorting = [f"{TI_SORTABLE[c]}{' DESC' if d else ''}" for c, d in order if c in TI_SORTABLE]
    condition = " AND ".join(where)
    with ledger.cursor() as curs:
        curs.execute(
            f"SELECT r.dag_id, r.run_id, t.task_id, r.logical_date, t.state, t.try_number, t.max_tries {_TI_FROM} "
            f"WHERE {condition} ORDER BY {', '.join([*sorting, 'r.logical_date', TI_SORTABLE['task_id']])} "
            f"LIMIT %s OFFSET %s", [*params, limit, offset])
        rows = [{**r, "logical_date": iso(r["logical_date"])} for r in curs.fetchall()]
        curs.execute(f"SELECT count(*) AS n {_TI_FROM} WHERE {condition}", params)
        found = curs.fetchone()
    return rows, int(found["n"]) if found else 0
