"""Pages of runs from the views, filtered, ordered, limited and counted by PostgreSQL, so a page of
100 among thousands of runs reads 100 rows (the HTTP API's `GET dagRuns`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

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
    sorting = [f"{column}{' DESC' if descending else ''}" for column, descending in order if column in SORTABLE]
    sql = (f"{RUN_SELECT} WHERE {' AND '.join(where)} ORDER BY {', '.join([*sorting, 'logical_date'])} "
           f"LIMIT %s OFFSET %s")
    with ledger.cursor() as curs:
        curs.execute(sql, [*params, limit, offset])
        rows = [run_json(run_from_row(r)) for r in curs.fetchall()]
        curs.execute(f"SELECT count(*) AS n FROM dag_run WHERE {' AND '.join(where)}", params)
        found = curs.fetchone()
    return rows, int(found["n"]) if found else 0
