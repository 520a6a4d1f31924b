"""The XComs of a run as the event store holds them, for a try in any worker process.

The driver appends a finished try's values before it starts any try downstream of it, so a
try that pulls reads them from the store: the run's events folded, the latest values of each
task's current try. Read once per try, and only by a try that pulls.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID


def stored_xcoms(run_uuid: str) -> dict[str, dict[str, Any]]:
    import psycopg
    from psycopg.rows import dict_row

    from ledgerflow.engine.infrastructure.database import resolve_url
    from ledgerflow.engine.infrastructure.stored_runs import fold_stored

    uid = UUID(run_uuid)
    with psycopg.connect(resolve_url(), row_factory=dict_row, autocommit=True) as conn, conn.cursor() as curs:
        found = fold_stored(curs, [uid]).get(uid)
    if found is None:
        return {}
    return {task_id: dict(ti.xcom) for task_id, ti in found[1].tis.items() if ti.xcom}
