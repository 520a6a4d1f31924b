"""Runs read straight from the event store: for writers that must not trust a lagging view,
and for as-of reads, which the views cannot answer."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from psycopg import Cursor

from ledgerflow.engine.domain.run_state import RunState, evolve
from ledgerflow.engine.infrastructure.store import EVENTS_TABLE, Ledger


def load_run(ledger: Ledger, run_uuid: UUID) -> tuple[int, RunState] | None:
    """The run folded from every stored event, with its version; None if it does not exist."""
    with ledger.cursor() as curs:
        return fold_stored(curs, [run_uuid]).get(run_uuid)


def fold_stored(curs: Cursor[Any], ids: list[UUID], upto: int | None = None
                ) -> dict[UUID, tuple[int, RunState]]:
    """Runs folded from their stored events (up to notification `upto`), with the version reached.

    The same fold as the aggregate's and the views', so as-of reads agree with both.
    """
    sql = (f"SELECT originator_id, originator_version, topic, state FROM {EVENTS_TABLE} "
           f"WHERE originator_id = ANY(%s)")
    params: list[Any] = [ids]
    if upto is not None:
        sql += " AND notification_id <= %s"
        params.append(upto)
    curs.execute(sql + " ORDER BY originator_id, originator_version", params)
    runs: dict[UUID, RunState] = {}
    versions: dict[UUID, int] = {}
    for row in curs.fetchall():
        oid = row["originator_id"]
        runs[oid] = evolve(runs.get(oid), row["topic"].rpartition(".")[2], json.loads(bytes(row["state"])))
        versions[oid] = row["originator_version"]
    return {oid: (versions[oid], run) for oid, run in runs.items()}


def last_stamps(curs: Cursor[Any], ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    """The operation_id, operation and actor of each aggregate's latest stored event."""
    if not ids:
        return {}
    curs.execute(f"SELECT DISTINCT ON (originator_id) originator_id, state FROM {EVENTS_TABLE} "
                 f"WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version DESC", (ids,))
    found = {}
    for row in curs.fetchall():
        payload = json.loads(bytes(row["state"]))
        found[row["originator_id"]] = {k: payload.get(k) for k in ("operation_id", "operation", "actor")}
    return found


def stored_versions(curs: Cursor[Any], ids: list[UUID]) -> dict[UUID, int]:
    """The latest stored version of each aggregate (absent: nothing stored yet)."""
    if not ids:
        return {}
    curs.execute(
        f"SELECT originator_id, max(originator_version) AS v FROM {EVENTS_TABLE} "
        f"WHERE originator_id = ANY(%s) GROUP BY originator_id",
        (ids,),
    )
    return {r["originator_id"]: int(r["v"]) for r in curs.fetchall()}


def head(curs: Cursor[Any]) -> int:
    curs.execute(f"SELECT coalesce(max(notification_id), 0) AS m FROM {EVENTS_TABLE}")
    row = curs.fetchone()
    return int(row["m"]) if row else 0


def cleared_between(curs: Cursor[Any], after: int, upto: int) -> dict[UUID, int]:
    """Runs that received a Cleared event in (after, upto], with their latest version."""
    from ledgerflow.engine.domain.dagrun import DagRun  # loaded already by the drivers that ask
    from ledgerflow.engine.domain.topics import topic_of

    if upto <= after:
        return {}
    curs.execute(
        f"SELECT originator_id, max(originator_version) AS v FROM {EVENTS_TABLE} "
        f"WHERE notification_id > %s AND notification_id <= %s AND topic = %s "
        f"GROUP BY originator_id",
        (after, upto, topic_of(DagRun.Cleared)),
    )
    return {r["originator_id"]: int(r["v"]) for r in curs.fetchall()}
