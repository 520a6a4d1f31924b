"""The XComs of runs as the event store holds them, for a try in any worker process.

The driver appends a finished try's values before it starts any try downstream of it, so a
try that pulls reads them from the store: the run's events folded, the latest values of each
task's current try. Read once per try, and only by a try that pulls. A pull from other runs
(another DAG's run of the same run_id, a given run_id, or include_prior_dates) finds them in the
dag_run view and folds their events, newest logical date first, a few runs at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

Values = dict[str, dict[str, Any]]  # task id -> key -> value
_CHUNK = 20


def _folded(uids: list[UUID]) -> dict[UUID, Values]:
    import psycopg
    from psycopg.rows import dict_row

    from ledgerflow.engine.infrastructure.database import resolve_url
    from ledgerflow.engine.infrastructure.stored_runs import fold_stored

    with psycopg.connect(resolve_url(), row_factory=dict_row, autocommit=True) as conn, conn.cursor() as curs:
        found = fold_stored(curs, uids)
    return {uid: {task_id: dict(ti.xcom) for task_id, ti in run.tis.items() if ti.xcom}
            for uid, (_, run) in found.items()}


def stored_xcoms(run_uuid: str) -> Values:
    return _folded([UUID(run_uuid)]).get(UUID(run_uuid), {})


def _run_ids(dag_id: str, run_id: str | None, upto: datetime | None) -> list[UUID]:
    """The matching runs the views hold, and those created since their position (the views may lag
    behind a driver that just finished a run), newest logical date first."""
    import json

    import psycopg

    from ledgerflow.engine.domain.dagrun import DagRun
    from ledgerflow.engine.domain.dates import from_iso
    from ledgerflow.engine.domain.topics import topic_of
    from ledgerflow.engine.infrastructure.database import resolve_url
    from ledgerflow.engine.infrastructure.store import EVENTS_TABLE
    from ledgerflow.projections.projector import POSITION

    found: dict[UUID, datetime | None] = {}
    with psycopg.connect(resolve_url(), autocommit=True) as conn:
        narrowed = ("logical_date <= %s", upto) if upto is not None else ("run_id = %s", run_id)
        for uid, moment in conn.execute(f"SELECT run_uuid, logical_date FROM dag_run WHERE dag_id = %s AND "
                                        f"{narrowed[0]}", (dag_id, narrowed[1])):
            found[uid] = moment
        tail = conn.execute(f"SELECT originator_id, state FROM {EVENTS_TABLE} WHERE notification_id > {POSITION} "
                            f"AND originator_version = 1 AND topic = %s", (topic_of(DagRun.Created),))
        for uid, state in tail:
            created = json.loads(bytes(state))
            if created["dag_id"] == dag_id and (upto is not None or created["run_id"] == run_id):
                found[uid] = from_iso(created["logical_date"])
    chosen = [(moment, uid) for uid, moment in found.items()
              if moment is not None and (upto is None or moment <= upto)]
    return [uid for _, uid in sorted(chosen, reverse=True)]


def other_runs_xcoms(dag_id: str, *, run_id: str | None = None, upto: datetime | None = None,
                     skip: str | None = None) -> Iterator[Values]:
    """The XComs of the DAG's run `run_id`, or (with `upto`) of each run at or before that logical date,
    newest first; the run `skip` (the pulling try's own, read apart) left out."""
    uids = [uid for uid in _run_ids(dag_id, run_id, upto) if str(uid) != skip]
    for start in range(0, len(uids), _CHUNK):
        chunk = uids[start:start + _CHUNK]
        folded = _folded(chunk)
        for uid in chunk:
            yield folded.get(uid, {})
