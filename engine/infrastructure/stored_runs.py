"""Runs read straight from the event store, for writers that must not trust a lagging view."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from psycopg import Cursor

from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.domain.run_state import RunState, evolve
from ledgerflow.engine.infrastructure.store import EVENTS_TABLE, Ledger

CLEARED_TOPIC = DagRun.Cleared.TOPIC


def load_run(ledger: Ledger, run_uuid: UUID) -> tuple[int, RunState] | None:
    """The run folded from every stored event, with its version; None if it does not exist."""
    with ledger.cursor() as curs:
        curs.execute(
            f"SELECT originator_version, topic, state FROM {EVENTS_TABLE} "
            f"WHERE originator_id = %s ORDER BY originator_version",
            (run_uuid,),
        )
        rows = curs.fetchall()
    if not rows:
        return None
    run: RunState | None = None
    for row in rows:
        run = evolve(run, row["topic"].rpartition(".")[2], json.loads(bytes(row["state"])))
    assert run is not None
    return int(rows[-1]["originator_version"]), run


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
    if upto <= after:
        return {}
    curs.execute(
        f"SELECT originator_id, max(originator_version) AS v FROM {EVENTS_TABLE} "
        f"WHERE notification_id > %s AND notification_id <= %s AND topic = %s "
        f"GROUP BY originator_id",
        (after, upto, CLEARED_TOPIC),
    )
    return {r["originator_id"]: int(r["v"]) for r in curs.fetchall()}
